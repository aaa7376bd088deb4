"""What MediaLink says to people: errors in plain words, usage and notices.

Errors stay typed data until they reach Slack; this is the one place they become
sentences. No sentence here ever carries a stack trace, a token or a signed URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.durations import DURATION_HELP, format_duration
from bot.sites.model import SiteChoiceError, SiteKeyUnreadableError
from bot.slack.surfaces import COMMAND
from bot.wix.errors import (
    AccessProblem,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    InvalidAssetKeyError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    WixAPIError,
    WixConnectionError,
    WixError,
    WixResponseError,
    WixUnreachableError,
)
from bot.wix.fairness import FileQuotaError, WixBusyError
from bot.wix.links import ORIGINAL, LinkOptionsError, PrivateFileRefusedError

WIX_BUSY = "Wix is busy right now, so no link was made. Try again in a moment."
MEDIALINK_BUSY = (
    "MediaLink is busy making links for other people right now, so no link was made. "
    "Try again in a minute."
)
KEY_LACKS_PERMISSION = (
    "Wix refused: MediaLink's Wix API key lacks the “Manage Media Manager” permission. "
    "A Wix site admin must fix the key (or give MediaLink a new one); "
    "there is nothing you can do from here."
)
KEY_LACKS_PERMISSION_OR_SITE = (
    "Wix refused: either MediaLink's Wix API key lacks the “Manage Media Manager” "
    "permission, or MediaLink is set up for another Wix site. A Wix site admin must fix "
    "MediaLink's settings; there is nothing you can do from here."
)
WRONG_SITE = (
    "Wix refused: MediaLink is set up for a Wix site its key cannot use. Whoever runs "
    "MediaLink must fix its site ID; there is nothing you can do from here."
)
WIX_UNREACHABLE = (
    "MediaLink cannot reach Wix at all, so no link was made. "
    "Tell whoever runs MediaLink: its connection to Wix needs fixing."
)
KEY_NOT_ACCEPTED = (
    "Wix did not accept MediaLink's credentials. A Wix site admin must fix MediaLink's "
    "Wix API key (it needs the “Manage Media Manager” permission)."
)
NOT_FOUND = (
    "Wix has no such file on the site MediaLink is connected to. It may have been "
    "deleted, or it may belong to another Wix site."
)
NO_SUCH_RENDITION = "Wix has no such rendition of this file."
APP_NOT_INSTALLED = (
    "Wix says MediaLink is not set up on this site. A Wix site admin must install or reconnect it."
)
UNREADABLE_ANSWER = "Wix sent an answer MediaLink could not read. Try again in a moment."
BUSY = (
    "MediaLink is busy with a lot of requests right now and didn't take this one. "
    "Try again in a minute."
)
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on MediaLink's side and no links were made. "
    "Try again; if it keeps happening, tell whoever runs MediaLink."
)
NO_LINKS_MADE = "*No links made.*"
NO_REFERENCES = "I found no Wix media links or file IDs there."
NO_REFERENCES_IN_MESSAGE = "I found no Wix media links in that message."
# Under "no links made": short, with the way to the full help.
NOTHING_FOUND_HELP = (
    "MediaLink makes links to files in a Wix Media Manager: paste a URL such as "
    f"`{COMMAND} https://static.wixstatic.com/media/…~mv2.jpg expires=2h`. "
    f"`{COMMAND} help` shows every option."
)
NOTHING_FOUND_IN_MESSAGE_HELP = (
    "MediaLink makes links to files in a Wix Media Manager, such as "
    "https://static.wixstatic.com/media/… or wix:image://v1/…; "
    f"`{COMMAND} help` shows more."
)
SHARE_DISABLED = "Sharing links in channels is switched off for MediaLink in this workspace."
DM_SENT = "Sent a copy to your DMs with MediaLink. It stays there after you reload Slack."
DM_FAILED = (
    "I could not send the copy to your DMs. Your links are still here; try again in a moment."
)
SHARE_FAILED = (
    "I could not post the links in this conversation. Your links are still here, "
    "only you can see them."
)
NOTHING_TO_SHARE = "None of these files has a link right now, so there is nothing to share."
ZIP_CONFIRM = (
    "A zip link is *permanent*: it never expires, and anyone who has it can download "
    "the zip. Only the public files of this reply go in; private files never do."
)
REDIRECT_HOST_NOW_REFUSED = (
    "These buttons send expired links to a page on a host MediaLink no longer allows. "
    "Run /medialink again for fresh ones."
)
ZIP_NOTHING = "None of these files is public and available, so there is no zip to make."
ZIP_FAILED = "Wix could not make the zip link just now. Try again in a moment."
PRIVATE_FILE_REFUSED = (
    "Wix marks this file private, and private files are not linked for you here. "
    "Ask one of MediaLink's admins if you need it."
)
PRIVATE_FILE_UNKNOWN = (
    "I could not check with Wix whether this file is private, so no link was made. "
    "Try again in a moment."
)
MODAL_NEEDS_URLS = "Paste at least one Wix media URL or file ID."
MODAL_NEEDS_FILES = "Paste a Wix media URL or file ID, or pick a file from the Media Manager."
MODAL_NEEDS_CONVERSATION = "Choose the conversation to post your links in."

USAGE = "\n".join(
    [
        "*MediaLink* makes private, expiring download links for files in your Wix Media Manager.",
        "",
        "*Use*",
        f"• `{COMMAND} <Wix media URLs or file IDs> [options]`",
        "• Or the *Get download links* shortcut on a message with Wix links,",
        "   or the *Wix download links* shortcut, which opens a form.",
        f"• `{COMMAND} history`: your last 20 links, each with a Regenerate button",
        f"• `{COMMAND} find <words> [type=video|image|audio|document] [private|public]`:"
        " find files by name and get links to them in two clicks",
        "",
        "*Options* (any order)",
        f"• `expires=2h` (also `--expires 2h`): how long the links work: {DURATION_HELP}",
        "• `assets=src,720p.mp4`: which renditions (`src` or `original` is the original file)",
        "• `name=contract.pdf`: the file name to download as",
        "• `inline`: open in the browser instead of downloading",
        "• `redirect=https://…`: the page shown once a link has expired",
        "",
        "*Examples*",
        f"• `{COMMAND} https://static.wixstatic.com/media/2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg`",
        f"• `{COMMAND} expires=1d wix:document://v1/ugd/2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf/report.pdf`",
        f"• `{COMMAND} assets=720p.mp4 inline <video URL>`",
        "",
        "Only you see the links. They expire; the buttons under them make fresh ones.",
    ]
)


def describe_error(error: BaseException) -> str:
    """A sentence for a person about why one file got no link."""
    if isinstance(error, FileQuotaError):
        return str(error)  # "You've asked for 120 files in the last minute (the limit is 100)…"
    if isinstance(error, SiteChoiceError | SiteKeyUnreadableError):
        return str(error)  # "No site named … is connected here; …", or whom to ask
    if isinstance(error, WixBusyError):
        return MEDIALINK_BUSY
    if isinstance(error, PrivateFileRefusedError):
        return PRIVATE_FILE_UNKNOWN if error.unknown else PRIVATE_FILE_REFUSED
    if isinstance(error, InvalidAssetKeyError):
        return NO_SUCH_RENDITION
    if isinstance(error, NotFoundError):
        return NOT_FOUND
    if isinstance(error, PermissionDeniedError):
        return _refusal(error)
    if isinstance(error, AuthenticationError):
        return KEY_NOT_ACCEPTED
    if isinstance(error, WixUnreachableError):
        return WIX_UNREACHABLE
    if is_busy(error):
        return WIX_BUSY
    if isinstance(error, PreconditionFailedError):
        return APP_NOT_INSTALLED
    if isinstance(error, WixResponseError):
        return UNREADABLE_ANSWER
    if isinstance(error, LinkOptionsError):
        return _sentence(str(error))
    if isinstance(error, BadRequestError):
        return "Wix refused to make a link for this file" + _support_hint(error) + "."
    if isinstance(error, WixAPIError):
        return "Wix could not make a link for this file" + _support_hint(error) + "."
    if isinstance(error, WixError):
        return "Wix could not make a link for this file. Try again in a moment."
    return SOMETHING_WENT_WRONG


def _refusal(error: PermissionDeniedError) -> str:
    if error.access_problem is AccessProblem.WRONG_SITE:
        return WRONG_SITE
    if error.access_problem is AccessProblem.PERMISSION_OR_SITE:
        return KEY_LACKS_PERMISSION_OR_SITE
    return KEY_LACKS_PERMISSION


def is_busy(error: BaseException | None) -> bool:
    """Whether trying again soon may work: Wix is rate limiting, failing or unreachable."""
    return isinstance(
        error, RateLimitError | InternalServerError | WixConnectionError | WixBusyError
    )


def fell_back_note(invalid_keys: Sequence[str]) -> str:
    """For a file whose requested renditions Wix did not have."""
    shown = ", ".join(f"`{escape_clip(key, 40)}`" for key in invalid_keys[:5])
    more = f" and {len(invalid_keys) - 5} more" if len(invalid_keys) > 5 else ""
    noun = "rendition" if len(invalid_keys) == 1 else "renditions"
    return f"Wix has no {shown}{more} {noun} of this file, so here is the original instead."


def missing_keys_note(invalid_keys: Sequence[str]) -> str:
    """For a file that has some, not all, of the renditions asked for."""
    shown = ", ".join(f"`{escape_clip(key, 40)}`" for key in invalid_keys[:5])
    more = f" and {len(invalid_keys) - 5} more" if len(invalid_keys) > 5 else ""
    return f"Wix has no {shown}{more} for this file; the rest are here."


MAX_PROBLEMS_SHOWN = 10


def option_problems(problems: Sequence[str]) -> str:
    """The problems with a command, the first ten of them, and where to find examples."""
    shown = [f"• {_sentence(problem)}" for problem in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        shown.append(f"• …and {len(problems) - MAX_PROBLEMS_SHOWN} more.")
    lines = "\n".join(shown)
    return f"I could not use that command:\n{lines}\n\nType `{COMMAND} help` for examples."


def asset_label(asset_key: str) -> str:
    """A link button's label: "Original" for the original, else the rendition's key."""
    return "Original" if asset_key == ORIGINAL else asset_key


def expiry_label(minutes: int) -> str:
    labels = {15: "15 min", 60: "1 hour", 1440: "1 day", 10080: "7 days"}
    return labels.get(minutes) or format_duration_minutes(minutes)


def format_duration_minutes(minutes: int) -> str:
    return format_duration(timedelta(minutes=minutes))


def _support_hint(error: WixAPIError) -> str:
    # The request ID lets Wix support find the call; it reveals nothing secret.
    if error.request_id:
        return f" (Wix said HTTP {error.status}; request ID `{escape_clip(error.request_id, 80)}`)"
    return f" (Wix said HTTP {error.status})"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def escape_clip(text: str, limit: int) -> str:
    """Clip to ``limit`` characters (an ellipsis marks the cut), then escape for mrkdwn."""
    cleaned = "".join(" " if ord(c) < 32 else c for c in text).replace("`", "'")
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the record: /medialink history and the App Home ------------------------------------

HISTORY_USAGE = "\n".join(
    [
        f"`{COMMAND} history` shows your last 20 links, each with a Regenerate button.",
        f"`{COMMAND} history <Wix file URL or ID>`: your links to that file.",
        f"MediaLink's admins also: `{COMMAND} history @someone` (pick them from the list "
        f"as you type @), and `{COMMAND} history <file>` shows everyone's links to the file.",
    ]
)
RECORD_UNREADABLE = (
    "MediaLink cannot read its record right now, so there is no history to show. "
    "Your links still work; try again in a few minutes."
)


def history_for_admins(admins: Sequence[str]) -> str:
    """Why a person may not see someone else's links, and whom to ask."""
    return (
        "Only MediaLink's admins can see other people's links"
        + _ask_admins(admins)
        + f". `{COMMAND} history` shows your own."
    )


def history_problem(problem: str) -> str:
    return f"{_sentence(problem)}\n\n{HISTORY_USAGE}"


def _ask_admins(admins: Sequence[str]) -> str:
    named = [f"<@{admin}>" for admin in list(admins)[:5]]
    if not named:
        return ""
    more = f" and {len(admins) - len(named)} more" if len(admins) > len(named) else ""
    return f" (ask {', '.join(named)}{more})"


# --- /medialink find ----------------------------------------------------------------------

FIND_USAGE = "\n".join(
    [
        f"`{COMMAND} find <words>` finds files in the Wix Media Manager by name and shows the"
        " best matches, each with a *Get link* button; tick several and press"
        " *Get links for selected* to link them together. Videos also offer a *Stream* link.",
        "• `type=video` (or `image`, `audio`, `document`): only that kind of file",
        "• `private` or `public`: only private or only public files",
        "• the link options (`expires=2h`, `assets=…`, `name=…`, `inline`, `redirect=…`)"
        " apply to the links made from the results",
        "• `site=acme-shop`: search that connected Wix site (otherwise the channel's site,"
        " or every site, each result naming its own)",
        f"Example: `{COMMAND} find signed contract type=document expires=1d`",
    ]
)
PRIVATE_SEARCH_REFUSED = (
    "you may not link private files here, so find shows public files only; leave out private"
)
WIX_BUSY_SEARCH = "Wix is busy right now, so nothing was searched. Try again in a moment."
SEARCH_FAILED = "Wix could not search the Media Manager just now. Try again in a moment."
PICK_FILES_FIRST = "Tick the files you want first, then press *Get links for selected*."
STREAM_VIDEOS_ONLY = "Only videos can be streamed."


def find_problems(problems: Sequence[str]) -> str:
    """The problems with a ``find`` command, and how to write one."""
    shown = "\n".join(f"• {_sentence(problem)}" for problem in problems[:MAX_PROBLEMS_SHOWN])
    return f"I could not search for that:\n{shown}\n\n{FIND_USAGE}"


def describe_search_error(error: BaseException) -> str:
    """A sentence for a person about why a search (or a stream link) failed."""
    if isinstance(
        error,
        FileQuotaError
        | WixBusyError
        | LinkOptionsError
        | PermissionDeniedError
        | AuthenticationError
        | WixUnreachableError
        | PreconditionFailedError
        | PrivateFileRefusedError
        | NotFoundError,
    ):
        return describe_error(error)
    if is_busy(error):
        return WIX_BUSY_SEARCH
    return SEARCH_FAILED
