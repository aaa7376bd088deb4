"""The ``medialink`` command: parse, link, check, serve, audit, sites, rotate-key, new-key.

Exit codes: 0 all well, 1 some file or check failed, 2 bad input or settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

# Only what `parse` and `--help` need is imported here: they run offline, and the rest
# (settings, the Wix client, the audit store, the Slack stack) is imported by the
# commands that use it, which keeps their start-up close to the parser's own
# (benchmarks/README.md, Start-up of the offline commands).
from bot.audit import MAX_QUERY_LIMIT
from bot.durations import format_duration, parse_duration
from bot.wix.limits import MAX_SEARCH_PAGE_SIZE
from bot.wix.refs import ParseResult, parse_media_refs

if TYPE_CHECKING:
    from bot.audit import AuditEvent
    from bot.audit.store import SqlAuditTrail
    from bot.config import Settings
    from bot.sites.registry import SiteRegistry
    from bot.sites.store import RotationReport, SiteStore
    from bot.wix.errors import WixError
    from bot.wix.found import FoundFiles
    from bot.wix.links import FileLinks, LinkOptions, LinkService
    from bot.wix.refs import MediaRef

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# `find --type`: the names bot.wix.found.FIND_TYPE_NAMES reads (it imports pydantic, which
# building the parser must not).
FIND_TYPES = ("audio", "document", "image", "video")


class UsageError(Exception):
    """Bad input on the command line; ``str()`` says what to do."""


def _duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _assets_arg(text: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    if not keys:
        raise argparse.ArgumentTypeError("name at least one rendition, for example src,720p.mp4")
    return keys


SINCE_HELP = "a duration such as 30m, 12h or 7d (at most 3650d)"
MAX_AUDIT_USERS = 20
_SLACK_ID = re.compile(r"[A-Z0-9]{1,64}")
# A Slack mention as copied from a message: <@U123> or <@U123|name>.
_MENTION = re.compile(r"<@([A-Za-z0-9]+)(?:\|[^>]*)?>")


def _since_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a period; use {SINCE_HELP}"
        ) from None


def _user_arg(text: str) -> str:
    mention = _MENTION.fullmatch(text.strip())
    user = (mention.group(1) if mention else text.strip()).upper()
    if not _SLACK_ID.fullmatch(user):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a Slack user ID; use an ID such as U012AB3CD "
            "(a member's profile: ⋮ → Copy member ID)"
        )
    return user


def _limit_arg(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text[:6]) <= MAX_QUERY_LIMIT:
        raise argparse.ArgumentTypeError(f"use a whole number from 1 to {MAX_QUERY_LIMIT}")
    return int(text)


def _find_limit_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_SEARCH_PAGE_SIZE:
        raise argparse.ArgumentTypeError(f"give 1 to {MAX_SEARCH_PAGE_SIZE}")
    return value


# MediaLink's own defaults, for help text when the settings cannot be read; the
# settings' defaults (bot/config.py) are the same.
BUILT_IN_DEFAULT_EXPIRY = timedelta(minutes=60)
BUILT_IN_MAX_EXPIRY = timedelta(days=7)


def expiry_limits() -> tuple[timedelta, timedelta, bool]:
    """The default and the longest expiry from the settings, and whether they were read;
    MediaLink's built-in ones when the settings are unusable."""
    from bot.config import SettingsError, load_settings  # noqa: PLC0415 - only for link --help

    try:
        settings = load_settings()
    except SettingsError:
        return BUILT_IN_DEFAULT_EXPIRY, BUILT_IN_MAX_EXPIRY, False
    return settings.medialink_default_expiry, settings.medialink_max_expiry, True


def expires_help() -> str:
    default, longest, from_settings = expiry_limits()
    source = "" if from_settings else " (MediaLink's defaults: the settings have problems)"
    return (
        f"how long links last, e.g. 90m, 2h or 7d; default {format_duration(default)} "
        f"(MEDIALINK_DEFAULT_EXPIRY), at most {format_duration(longest)} "
        f"(MEDIALINK_MAX_EXPIRY){source}"
    )


class _LinkHelpFormatter(argparse.HelpFormatter):
    """Reads the expiry settings only when ``link --help`` is shown, so building the
    parser stays free of them (and of pydantic) for every other command."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.dest == "expires":
            return expires_help().replace("%", "%%")
        return action.help


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medialink",
        description="Expiring download links for Wix media files.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    parse = commands.add_parser(
        "parse",
        help="list the Wix media references in text (offline, no credentials)",
        description="List the Wix media references in TEXT, or in standard input.",
    )
    parse.add_argument("text", nargs="*", metavar="TEXT")
    parse.add_argument("--json", action="store_true", help="print JSON instead of a table")

    link = commands.add_parser(
        "link",
        help="make expiring download links for Wix media URLs",
        description="Make expiring download links for the Wix media in URL... (or stdin).",
        formatter_class=_LinkHelpFormatter,
    )
    link.add_argument("urls", nargs="*", metavar="URL")
    link.add_argument(
        "--expires",
        type=_duration_arg,
        metavar="DURATION",
        help="how long links last (the default and the longest come from the settings)",
    )
    link.add_argument(
        "--assets",
        type=_assets_arg,
        default=(),
        metavar="KEYS",
        help="comma-separated renditions (default: src, the original)",
    )
    link.add_argument("--name", metavar="FILENAME", help="file name for the download")
    link.add_argument("--inline", action="store_true", help="open in the browser, not download")
    link.add_argument("--redirect", metavar="URL", help="https page an expired link shows")
    link.add_argument("--json", action="store_true", help="print JSON instead of text")
    link.add_argument(
        "--site", metavar="NAME", help="a connected site, by name (`medialink sites` lists them)"
    )
    link.add_argument(
        "--team", metavar="TEAM_ID", help="whose site --site names, when several have one so named"
    )

    sites = commands.add_parser(
        "sites",
        help="list the connected Wix sites (never their keys)",
        description="List the connected Wix sites: name, site ID, kind, domains, defaults.",
    )
    sites.add_argument("--team", metavar="TEAM_ID", help="only this workspace's")
    sites.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser(
        "rotate-key",
        help="re-encrypt every stored site key with the first MEDIALINK_ENCRYPTION_KEY",
        description=(
            "Re-encrypt every connected site's stored credentials with the first key of "
            "MEDIALINK_ENCRYPTION_KEY. Put the new key first, keep the old ones after it "
            "until this has run; safe to run again."
        ),
    )
    commands.add_parser("new-key", help="print a new key for MEDIALINK_ENCRYPTION_KEY")

    commands.add_parser(
        "check",
        help="check the settings and reach Wix and Slack",
        description=(
            "Check every setting: validate them, and ask Wix and Slack whether they accept "
            "the credentials. Exit code 0 all well, 1 a check failed, 2 bad settings."
        ),
    )
    commands.add_parser(
        "serve",
        help="run the Slack app",
        description=(
            "Run MediaLink's Slack app until SIGTERM or SIGINT. With SLACK_APP_TOKEN set it "
            "connects over Socket Mode (no public URL; for development); without it, it "
            "listens on HOST:PORT for Slack's requests at POST /slack/events (HTTP mode, "
            "for production). Either way GET /healthz and /readyz answer on HOST:PORT. "
            "Settings come from the environment and .env (see .env.example); Slack and Wix "
            "are asked first, and a refused token stops it with exit code 2."
        ),
    )

    find = commands.add_parser(
        "find",
        help="find files in the Wix Media Manager by name",
        description=(
            "Find files in the Wix Media Manager whose name (or type, or labels) matches "
            "WORDS; best matches first. --cursor CURSOR gets the next page."
        ),
    )
    find.add_argument("words", nargs="+", metavar="WORDS")
    find.add_argument("--type", choices=FIND_TYPES, help="only this kind of file")
    privacy = find.add_mutually_exclusive_group()
    privacy.add_argument("--private", action="store_true", help="private files only")
    privacy.add_argument("--public", action="store_true", help="public files only")
    find.add_argument(
        "--limit",
        type=_find_limit_arg,
        default=DEFAULT_CLI_FIND_LIMIT,
        metavar="N",
        help=f"files a page, 1 to {MAX_SEARCH_PAGE_SIZE} (default {DEFAULT_CLI_FIND_LIMIT})",
    )
    find.add_argument("--cursor", metavar="CURSOR", help="a next_cursor from an earlier page")
    find.add_argument("--json", action="store_true", help="print JSON instead of a table")
    find.add_argument(
        "--site", metavar="NAME", help="a connected site, by name (`medialink sites` lists them)"
    )
    find.add_argument(
        "--team", metavar="TEAM_ID", help="whose site --site names, when several have one so named"
    )

    audit = commands.add_parser(
        "audit",
        help="export the audit record: who made which link, and what was refused",
        description=(
            "Print the audit record (DATABASE_URL), newest first: every link made and "
            "every request refused. Filters combine."
        ),
    )
    audit.add_argument(
        "--since", type=_since_arg, metavar="DURATION", help="only this recent, e.g. 7d"
    )
    audit.add_argument(
        "--user",
        type=_user_arg,
        action="append",
        default=[],
        metavar="USER_ID",
        help="only this person's (repeat for several)",
    )
    audit.add_argument(
        "--team",
        metavar="TEAM_ID",
        help="only this workspace's (an org-wide install: its org ID, E…)",
    )
    audit.add_argument("--file", metavar="FILE", help="only links to this file (its Wix ID or URL)")
    audit.add_argument(
        "--outcome", metavar="OUTCOME", help="ok, refused, or a Wix error code (NOT_FOUND)"
    )
    audit.add_argument(
        "--limit",
        type=_limit_arg,
        default=MAX_QUERY_LIMIT,
        metavar="N",
        help=f"at most N events (1-{MAX_QUERY_LIMIT}, the default)",
    )
    output = audit.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--csv", action="store_true", help="print CSV")
    return parser


def _read_text(args: Sequence[str], stdin: TextIO) -> str:
    if args:
        return "\n".join(args)
    if stdin.isatty():
        raise UsageError("give the text as arguments, or pipe it in on standard input")
    return stdin.read()


# parse ------------------------------------------------------------------------------------


def parse_to_json(result: ParseResult) -> dict[str, Any]:
    return {
        "refs": [
            {
                "file_id": ref.file_id,
                "media_type": str(ref.media_type),
                "filename": ref.filename,
                "source": ref.source,
            }
            for ref in result.refs
        ],
        "rejected": [{"text": item.text, "reason": item.reason} for item in result.rejected],
    }


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        out.write("\n")


def run_parse(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    result = parse_media_refs(_read_text(args.text, stdin))
    if args.json:
        json.dump(parse_to_json(result), out, indent=2)
        out.write("\n")
        return EXIT_OK
    if result.refs:
        rows = [["FILE ID", "TYPE", "FILENAME", "SOURCE"]]
        rows += [
            [ref.file_id, str(ref.media_type), ref.filename or "-", _short(ref.source, 60)]
            for ref in result.refs
        ]
        _table(rows, out)
    else:
        out.write("No Wix media references found.\n")
    for item in result.rejected:
        out.write(f"skipped {_short(item.text, 60)}: {item.reason}\n")
    return EXIT_OK


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# link -------------------------------------------------------------------------------------


def describe_error(error: WixError, settings: Settings) -> str:
    """A sentence for a person; never a status dump, never a secret."""
    from bot.preflight import classify_wix_error  # noqa: PLC0415 - see the imports above
    from bot.sites.model import SiteKeyUnreadableError  # noqa: PLC0415
    from bot.wix.errors import BadRequestError, NotFoundError  # noqa: PLC0415

    if isinstance(error, SiteKeyUnreadableError):
        return f"the site {error.site}'s key cannot be read here: check MEDIALINK_ENCRYPTION_KEY"
    if isinstance(error, NotFoundError):
        return "not found in this site's Media Manager"
    if isinstance(error, BadRequestError):
        return f"Wix refused the request: {error.message or 'bad request'}"
    return classify_wix_error(error, settings).message


NO_SUCH_RENDITION = "the file has no such rendition"


def fallback(result: FileLinks, asked: Sequence[str]) -> dict[str, Any] | None:
    """When none of the renditions asked for could be had and the original was sent
    instead: what was asked, what was sent, and why; None otherwise."""
    from bot.wix.links import ORIGINAL  # noqa: PLC0415 - see the imports above

    if not asked or ORIGINAL in asked or not result.fell_back_to_original:
        return None
    return {"asked": list(asked), "sent": ORIGINAL, "reason": NO_SUCH_RENDITION}


def links_to_json(
    results: Sequence[FileLinks], settings: Settings, *, asked: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "files": [
            {
                "file_id": result.file_id,
                "links": [{"asset_key": link.asset_key, "url": link.url} for link in result.links],
                "expires_at": result.expires_at.isoformat() if result.expires_at else None,
                "error": describe_error(result.error, settings) if result.error else None,
                **({"site": result.site} if result.site is not None else {}),
                "missing_renditions": list(result.invalid_asset_keys),
                "fallback": fallback(result, asked),
            }
            for result in results
        ]
    }


def _print_links(
    results: Sequence[FileLinks], settings: Settings, out: TextIO, *, asked: Sequence[str] = ()
) -> None:
    for result in results:
        out.write(f"{result.display_name} ({result.file_id})\n")
        if result.site is not None:
            out.write(f"  site: {result.site}\n")
        if result.error is not None:
            out.write(f"  error: {describe_error(result.error, settings)}\n")
        fell_back = fallback(result, asked)
        if fell_back is not None:
            shown = ", ".join(repr(key) for key in fell_back["asked"])
            out.write(
                f"  the file has no {shown} rendition, so this is the original "
                f"({fell_back['sent']}) instead\n"
            )
        else:
            for key in result.invalid_asset_keys:
                out.write(f"  rendition {key!r} does not exist for this file\n")
        for link in result.links:
            out.write(f"  {link.asset_key}: {link.url}\n")
        if result.expires_at is not None and result.links:
            out.write(f"  expires {result.expires_at:%Y-%m-%d %H:%M} UTC\n")


async def _link(settings: Settings, args: argparse.Namespace, text: str, out: TextIO) -> int:
    from bot.audit import Entry  # noqa: PLC0415 - see the imports above
    from bot.audit.events import Requester, link_events  # noqa: PLC0415
    from bot.services import build_services  # noqa: PLC0415
    from bot.wix.links import LinkOptions  # noqa: PLC0415

    parsed = parse_media_refs(text, max_refs=settings.medialink_max_refs)
    for item in parsed.rejected:
        sys.stderr.write(f"skipped {_short(item.text, 60)}: {item.reason}\n")
    if not parsed.refs:
        raise UsageError("no Wix media URL or file ID found; try `medialink parse` to see why")
    options = LinkOptions(
        expires_in=args.expires,
        asset_keys=args.assets,
        redirect_url=args.redirect,
        download_file_name=args.name,
        inline=args.inline,
    )
    services = build_services(settings)
    try:
        if args.site is not None and services.sites is not None:
            results = await _site_links(services.sites, args, parsed.refs, options)
        else:
            results = await services.links.generate(parsed.refs, options)
        # Recorded like Slack's links (entry "cli", no Slack user); aclose() writes them.
        services.audit.record(
            link_events(Requester(entry=Entry.CLI), results, asked_keys=options.asset_keys)
        )
    finally:
        await services.aclose()
    if args.json:
        json.dump(links_to_json(results, settings, asked=options.asset_keys), out, indent=2)
        out.write("\n")
    else:
        _print_links(results, settings, out, asked=options.asset_keys)
    return EXIT_OK if all(result.ok for result in results) else EXIT_FAILED


async def _site_links(
    registry: SiteRegistry,
    args: argparse.Namespace,
    refs: Sequence[MediaRef],
    options: LinkOptions,
) -> list[FileLinks]:
    """Links from the site ``--site`` names (in ``--team``'s sites, or the one tenant
    that has a site of that name)."""
    from bot.sites.model import ENV_SITE_NAME, SiteChoiceError  # noqa: PLC0415

    name = str(args.site).strip().lower()
    if name == ENV_SITE_NAME:
        return await registry.env_links.generate(refs, options)
    tenant = await _site_tenant(registry, name, args.team)
    try:
        return await registry.generate(
            refs, options, tenant=tenant, channel_id=None, site_name=name, requester=None
        )
    except SiteChoiceError as error:
        raise UsageError(str(error).replace("`/medialink sites`", "Slack")) from None


async def _site_tenant(registry: SiteRegistry, name: str, team: str | None) -> str:
    """The workspace whose site ``--site`` names: ``--team``, or the one that has it."""
    tenants = [team] if team else await registry.tenants_with(name)
    if not tenants:
        raise UsageError(f"no site named {name[:40]} is connected; `medialink sites` lists them")
    if len(tenants) > 1:
        raise UsageError(
            f"several workspaces have a site named {name[:40]} ({', '.join(tenants[:10])}); "
            "name one with --team"
        )
    return tenants[0]


def run_link(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    text = _read_text(args.urls, stdin)
    if args.redirect is not None and not args.redirect.lower().startswith("https://"):
        raise UsageError("--redirect must be an https:// URL")
    import asyncio  # noqa: PLC0415 - see the imports above

    from bot.config import load_settings  # noqa: PLC0415

    settings = load_settings()
    settings.wix_credentials()
    _check_expiry(settings, args.expires)
    _check_site_key(settings, args.site)
    return asyncio.run(_link(settings, args, text, out))


def _check_site_key(settings: Settings, site: str | None) -> None:
    """A connected site's key is stored encrypted: without the key list it cannot be read,
    and saying so beats a Wix call that fails for a reason the operator cannot see."""
    from bot.sites.model import ENV_SITE_NAME  # noqa: PLC0415 - see the imports above

    if site is None or site.strip().lower() == ENV_SITE_NAME:
        return
    if settings.medialink_encryption_key is None:
        raise UsageError(
            "MEDIALINK_ENCRYPTION_KEY is not set, so the stored key of the site --site names "
            "cannot be read; set it as `medialink serve` has it"
        )


# find -------------------------------------------------------------------------------------

DEFAULT_CLI_FIND_LIMIT = 20


def found_to_json(found: FoundFiles, site: str | None = None) -> dict[str, Any]:
    return {
        **({"site": site} if site is not None else {}),
        "files": [
            {
                "file_id": file.file_id,
                "name": file.name,
                "media_type": str(file.media_type),
                "size_bytes": file.size_bytes,
                "private": file.private,
                "updated_at": file.updated_at.isoformat() if file.updated_at else None,
            }
            for file in found.files
        ],
        "next_cursor": found.next_cursor,
    }


def _print_found(found: FoundFiles, out: TextIO) -> None:
    if not found.files:
        out.write("No files match.\n")
        return
    rows = [["NAME", "TYPE", "SIZE", "PRIVATE", "UPDATED", "FILE ID"]]
    rows += [
        [
            _short(" ".join(file.name.split()), 50),
            str(file.media_type),
            str(file.size_bytes) if file.size_bytes is not None else "-",
            "yes" if file.private else "no",
            f"{file.updated_at:%Y-%m-%d %H:%M}" if file.updated_at else "-",
            file.file_id,
        ]
        for file in found.files
    ]
    _table(rows, out)
    if found.next_cursor is not None:
        out.write(f"more: medialink find ... --cursor {found.next_cursor}\n")


async def _find(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.services import build_services  # noqa: PLC0415
    from bot.sites.model import ENV_SITE_NAME, SiteChoiceError  # noqa: PLC0415
    from bot.wix.errors import WixError  # noqa: PLC0415
    from bot.wix.found import FIND_TYPE_NAMES  # noqa: PLC0415

    private = True if args.private else False if args.public else None
    site = None if args.site is None else str(args.site).strip().lower()
    services = build_services(settings)

    async def search(links: LinkService) -> FoundFiles:
        # The operator's own search: no member quota (like `link`), and nothing recorded.
        return await links.find_files(
            " ".join(args.words),
            media_types=() if args.type is None else (FIND_TYPE_NAMES[args.type],),
            private=private,
            limit=args.limit,
            cursor=args.cursor,
        )

    try:
        if site is None or site == ENV_SITE_NAME or services.sites is None:
            found = await search(services.links)
        else:
            tenant = await _site_tenant(services.sites, site, args.team)
            async with services.sites.service(
                tenant, site_name=site, channel_id=None, pinned=False
            ) as (_, links):
                found = await search(links)
    except SiteChoiceError as error:
        raise UsageError(str(error).replace("`/medialink sites`", "Slack")) from None
    except WixError as error:
        sys.stderr.write(f"medialink find: {describe_error(error, settings)}\n")
        return EXIT_FAILED
    finally:
        await services.aclose()
    if args.json:
        json.dump(found_to_json(found, site), out, indent=2)
        out.write("\n")
    else:
        if site is not None:
            out.write(f"site: {site}\n")
        _print_found(found, out)
    return EXIT_OK


def run_find(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio  # noqa: PLC0415

    from bot.config import load_settings  # noqa: PLC0415

    settings = load_settings()
    settings.wix_credentials()
    return asyncio.run(_find(settings, args, out))


def _check_expiry(settings: Settings, expires: timedelta | None) -> None:
    """``--expires`` against the link rules, naming the setting that sets the longest."""
    from bot.policy import link_rules  # noqa: PLC0415 - see the imports above
    from bot.wix.links import LinkOptionsError  # noqa: PLC0415

    try:
        link_rules(settings).resolve_expiry(expires)
    except LinkOptionsError as error:
        raise UsageError(
            f"--expires: {error}; MEDIALINK_MAX_EXPIRY sets the longest "
            f"({format_duration(settings.medialink_max_expiry)} now)"
        ) from None


# check ------------------------------------------------------------------------------------


def run_check(out: TextIO) -> int:
    """One line per setting, ``ok`` or ``FAIL`` and what to fix; checks all it can."""
    import asyncio  # noqa: PLC0415 - see the imports above

    from bot.config import load_settings  # noqa: PLC0415
    from bot.policy import build_policy  # noqa: PLC0415
    from bot.preflight import check_all, exit_code  # noqa: PLC0415

    settings = load_settings()
    results = asyncio.run(check_all(settings))
    for result in results:
        out.write(f"{'ok  ' if result.ok else 'FAIL'} {result.message}\n")
    out.write("Access policy (read at start):\n")
    for line in build_policy(settings).describe(oauth=settings.oauth_enabled):
        out.write(f"     {line}\n")
    return exit_code(results)


# audit ------------------------------------------------------------------------------------


def _file_id(text: str) -> str:
    if "://" not in text:
        file_id = text.strip()
        if not file_id or len(file_id) > 256:
            raise UsageError("--file takes a Wix file ID or a Wix media URL")
        return file_id
    parsed = parse_media_refs(text, max_refs=1)
    if not parsed.refs:
        raise UsageError("--file: no Wix file found in that URL; try `medialink parse` to see why")
    return parsed.refs[0].file_id


async def _audit_events(settings: Settings, args: argparse.Namespace) -> list[AuditEvent]:
    from bot.audit import AuditQuery  # noqa: PLC0415 - see the imports above
    from bot.services import build_audit_trail  # noqa: PLC0415

    since = datetime.now(UTC) - args.since if args.since is not None else None
    file_id = _file_id(args.file) if args.file is not None else None
    base = AuditQuery(
        tenant_id=args.team, file_id=file_id, outcome=args.outcome, since=since, limit=args.limit
    )
    users = list(dict.fromkeys(args.user))[:MAX_AUDIT_USERS] or [None]
    trail = build_audit_trail(settings)
    try:
        events: list[AuditEvent] = []
        for user in users:
            events.extend(await trail.query(dataclasses.replace(base, user_id=user)))
    finally:
        await trail.aclose()
    events.sort(key=lambda event: event.at, reverse=True)
    return events[: args.limit]


def run_audit(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio  # noqa: PLC0415 - see the imports above

    from bot.audit import AuditUnavailable  # noqa: PLC0415
    from bot.audit.export import write_csv, write_json, write_table  # noqa: PLC0415
    from bot.audit.urls import shown_database_url  # noqa: PLC0415
    from bot.config import load_settings  # noqa: PLC0415

    settings = load_settings()
    try:
        events = asyncio.run(_audit_events(settings, args))
    except AuditUnavailable as error:
        shown = shown_database_url(settings.database_url.get_secret_value())
        sys.stderr.write(f"medialink audit: {error} ({shown}); check DATABASE_URL\n")
        return EXIT_FAILED
    if args.json:
        write_json(events, out)
    elif args.csv:
        write_csv(events, out)
    else:
        write_table(events, out)
    return EXIT_OK


# serve ------------------------------------------------------------------------------------


def run_serve() -> int:
    import asyncio  # noqa: PLC0415 - see the imports above

    from bot.audit.urls import database_password  # noqa: PLC0415
    from bot.config import load_settings  # noqa: PLC0415
    from bot.logs import configure_logging  # noqa: PLC0415

    settings = load_settings()
    settings.wix_credentials()
    settings.require_slack()
    configure_logging(
        settings.log_level,
        log_format=settings.log_format,
        # Every secret setting, MEDIALINK_ENCRYPTION_KEY's keys and REDIS_URL's password too.
        secrets=(*settings.log_secrets(), database_password(settings)),
    )
    from bot.run import serve  # noqa: PLC0415 - the Slack stack loads only for `serve`

    asyncio.run(serve(settings))
    return EXIT_OK


# sites, rotate-key -------------------------------------------------------------------------


def _sites_store(settings: Settings) -> tuple[SiteStore, SqlAuditTrail]:
    from bot.services import build_audit_trail  # noqa: PLC0415
    from bot.sites.store import SiteStore  # noqa: PLC0415

    audit = build_audit_trail(settings)
    return SiteStore(settings.database_url.get_secret_value(), migrate=audit.migrate), audit


async def _sites_rows(settings: Settings, team: str | None) -> list[dict[str, Any]]:
    from bot.config import SettingsError  # noqa: PLC0415
    from bot.services import env_visible, wix_site  # noqa: PLC0415
    from bot.sites.model import ENV_SITE_NAME  # noqa: PLC0415

    store, audit = _sites_store(settings)
    try:
        snap = await store.snapshot()
    finally:
        await store.aclose()
        await audit.aclose()
    rows: list[dict[str, Any]] = []
    try:
        env_site = wix_site(settings)
    except SettingsError:
        env_site = None
    tenants = set(snap.sites) | set(snap.domains) | set(snap.channels)
    # Who the environment's site serves (bot.services.env_visible): with one workspace,
    # every tenant ("*"); with Slack OAuth, only those in MEDIALINK_ALLOWED_TEAMS.
    oauth = settings.oauth_enabled
    serves = env_visible(settings)
    if env_site is not None and oauth:
        tenants |= settings.medialink_allowed_teams
    if env_site is not None and not oauth and team is None:
        rows.append(
            {"team": "*", "name": ENV_SITE_NAME, "site_id": env_site, "auth": "environment",
             "domains": [], "default_in": []}
        )  # fmt: skip
    for tenant in sorted(tenants):
        if team is not None and tenant != team:
            continue
        domains = snap.domains.get(tenant, {})
        channels = snap.channels.get(tenant, {})
        names = sorted(snap.sites.get(tenant, {}))
        owned = ENV_SITE_NAME in set(domains.values()) | set(channels.values())
        # In OAuth mode a domain or channel mapped to it before the workspace left
        # MEDIALINK_ALLOWED_TEAMS does not bring it back: the app does not serve it there.
        if (serves(tenant) and env_site is not None) if oauth else owned:
            names.insert(0, ENV_SITE_NAME)
        for name in names:
            record = snap.sites.get(tenant, {}).get(name)
            rows.append(
                {
                    "team": tenant,
                    "name": name,
                    "site_id": record.site_id if record else env_site,
                    "auth": record.auth_kind.value if record else "environment",
                    "domains": sorted(d for d, owner in domains.items() if owner == name),
                    "default_in": sorted(c for c, owner in channels.items() if owner == name),
                }
            )
    return rows


def run_sites(args: argparse.Namespace, out: TextIO) -> int:
    """Every connected site (never a key), per workspace."""
    import asyncio  # noqa: PLC0415

    from bot.config import load_settings  # noqa: PLC0415

    settings = load_settings()
    rows = asyncio.run(_sites_rows(settings, args.team))
    if args.json:
        json.dump({"sites": rows}, out, indent=2)
        out.write("\n")
        return EXIT_OK
    table = [["TEAM", "NAME", "SITE ID", "AUTH", "DOMAINS", "DEFAULT IN"]]
    for row in rows:
        table.append(
            [
                row["team"],
                row["name"],
                str(row["site_id"] or "-"),
                row["auth"],
                ",".join(row["domains"]) or "-",
                ",".join(row["default_in"]) or "-",
            ]
        )
    _table(table, out)
    return EXIT_OK


async def _rotate(settings: Settings) -> RotationReport:
    key = settings.medialink_encryption_key
    if key is None:
        raise UsageError("MEDIALINK_ENCRYPTION_KEY is not set: there is no key to rotate to")
    from bot.sites.keys import Keyring  # noqa: PLC0415

    store, audit = _sites_store(settings)
    try:
        return await store.rotate(Keyring(key.get_secret_value()))
    finally:
        await store.aclose()
        await audit.aclose()


def run_rotate_key(out: TextIO) -> int:
    import asyncio  # noqa: PLC0415

    from bot.config import load_settings  # noqa: PLC0415

    report = asyncio.run(_rotate(load_settings()))
    out.write(f"re-encrypted {report.rotated} stored site credentials with the first key\n")
    if report.unreadable:
        out.write(
            f"{report.unreadable} could not be read with any key in MEDIALINK_ENCRYPTION_KEY: "
            "put back the key they were stored with (after the first) and run this again\n"
        )
        return EXIT_FAILED
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    stdin = stdin or sys.stdin
    out = sys.stdout
    try:
        if args.command == "parse":
            # Offline, and nothing in it logs: no settings, no logging set-up.
            return run_parse(args, stdin, out)
        return _run_with_settings(args, stdin, out)
    except UsageError as error:
        sys.stderr.write(f"medialink {args.command}: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _run_with_settings(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    """The commands that read the settings; their errors become messages and exit codes."""
    from bot.config import SettingsError  # noqa: PLC0415 - see the imports above
    from bot.logs import configure_logging  # noqa: PLC0415
    from bot.preflight import StartUpRefused  # noqa: PLC0415
    from bot.sites.keys import KeyringError, new_key  # noqa: PLC0415
    from bot.sites.store import SiteStoreError  # noqa: PLC0415
    from bot.wix.links import LinkOptionsError  # noqa: PLC0415

    if args.command != "serve":
        # `check` reports every failure itself; the Wix client's warnings would repeat them.
        configure_logging("ERROR" if args.command == "check" else "WARNING")
    try:
        if args.command == "link":
            return run_link(args, stdin, out)
        if args.command == "check":
            return run_check(out)
        if args.command == "audit":
            return run_audit(args, out)
        if args.command == "find":
            return run_find(args, out)
        if args.command == "sites":
            return run_sites(args, out)
        if args.command == "rotate-key":
            return run_rotate_key(out)
        if args.command == "new-key":
            out.write(new_key() + "\n")
            return EXIT_OK
        return run_serve()
    except SettingsError as error:
        sys.stderr.write(f"{error}\nSee .env.example for every setting.\n")
        return EXIT_USAGE
    except StartUpRefused as refused:
        sys.stderr.write(f"{refused}\n")
        return EXIT_FAILED if refused.retry_later else EXIT_USAGE
    except (UsageError, LinkOptionsError, KeyringError, SiteStoreError) as error:
        sys.stderr.write(f"medialink {args.command}: {error}\n")
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
