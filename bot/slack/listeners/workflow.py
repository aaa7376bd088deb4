"""The Workflow Builder step "Make Wix download links" (docs/slack.md, Workflow steps).

Slack runs the step with a ``function_executed`` event. The event is acknowledged at
once, through the dispatcher like every request; the rest happens after the ack:

1. the inputs are read (the text with Wix references, an optional expiry and
   renditions, and the person the step acts for: a ``user_context`` that Slack fills in
   and a workflow's builder cannot set, so naming someone else, an admin say, is not
   possible (docs/slack.md, Workflow steps));
2. the access policy judges that person, not the workflow's author or the bot; a
   refusal is recorded in the audit trail with entry ``workflow``;
3. the links are made through the same path as the command (``make_links``: the link
   service, then one audit event per file, entry ``workflow``);
4. the step ends with ``complete(outputs=…)``, or with ``fail(error=…)`` and a sentence
   a workflow author can act on. Nothing else ends it: no stack trace, no secret.

``complete`` and ``fail`` call ``functions.completeSuccess`` / ``completeError`` with
the request's client, which Bolt gives the step's own token (the event's
``bot_access_token``) when the event has one, and the bot token otherwise (whether Slack
always sends one is UNCONFIRMED; both tokens end a step).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bot.audit import Entry
from bot.audit.events import Requester, refusal_event
from bot.durations import parse_duration
from bot.logs import request_id_var
from bot.policy import AccessGate, Asker, Refusal
from bot.slack.access import GATE_KEY
from bot.slack.listeners import SlackDeps, checked_options, make_links, tenant_of_context
from bot.slack.messages import (
    asset_label,
    describe_error,
    escape_clip,
    fell_back_note,
    missing_keys_note,
)
from bot.slack.middleware import deps_of
from bot.slack.options import MAX_COMMAND_CHARS, parse_asset_keys
from bot.slack.render.text import slack_date
from bot.slack.surfaces import WORKFLOW_STEP
from bot.wix.fairness import WixBusyError
from bot.wix.links import FileLinks, LinkOptions, LinkOptionsError
from bot.wix.refs import parse_media_refs

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

# The step's parameters: manifest.yaml's functions.make_wix_download_links must match.
INPUT_TEXT = "wix_links"
INPUT_EXPIRES = "expires"
INPUT_RENDITIONS = "renditions"
INPUT_USER = "user_context"  # slack#/types/user_context: {"id", "secret"}
OUTPUT_LINKS = "links"
OUTPUT_URLS = "urls"
OUTPUT_EXPIRES_AT = "expires_at"

# Slack's limit on a step's error text is UNCONFIRMED (docs/slack.md, Workflow steps):
# kept to a few sentences, which is all a workflow author needs.
MAX_ERROR_CHARS = 1000
# Executions already taken on, remembered so a redelivered event makes no second set of
# links (whether Slack redelivers function_executed is UNCONFIRMED); oldest forgotten first.
MAX_RECENT_STEPS = 2000
MAX_FILES_NAMED = 5  # in a failure message
MAX_NAME_CHARS = 200

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")

NO_USER = (
    "Slack did not say who is running this workflow, so no link was made. Start the "
    "workflow from a link or a button; a workflow started on a schedule or by an event "
    "needs a step with a button before this one."
)
NOT_A_USER_CONTEXT = (
    "This step was given a person in a form MediaLink does not accept (it needs Slack's "
    "own record of who runs the workflow, which a workflow's builder cannot set), so no "
    "link was made. In Workflow Builder, remove this step and add it again."
)
NO_TEXT = (
    "This step got no text to look in. In Workflow Builder, set “Wix media URLs or file "
    "IDs” to text holding Wix media URLs (https://static.wixstatic.com/…) or file IDs."
)
NO_REFERENCES = (
    "No Wix media URL or file ID was found in the text given to this step, so no link "
    "was made. Pass text holding Wix media URLs (https://static.wixstatic.com/…, "
    "https://video.wixstatic.com/…) or Wix file IDs."
)
BUSY = (
    "MediaLink is too busy to take on this step right now, so no link was made. "
    "Run the workflow again in a minute."
)
BROKEN = (
    "MediaLink failed while making these links. Run the workflow again; if it fails "
    "again, tell whoever runs MediaLink."
)


class StepFailure(Exception):
    """The step cannot give links; ``str()`` is the sentence for the workflow's author."""


async def make_links_step(
    ack: AsyncAck,
    inputs: dict[str, Any],
    complete: AsyncComplete,
    fail: AsyncFail,
    context: AsyncBoltContext,
) -> None:
    """``function_executed`` for ``make_wix_download_links``: ack, then links or a failure."""
    await ack()  # returns once the ack is on its way and no other ack waits
    deps = deps_of(context)
    execution_id = context.get("function_execution_id")
    if not isinstance(execution_id, str) or not execution_id:
        logger.warning("a workflow step event without a function_execution_id; ignored")
        return
    if not _first_time(deps, execution_id):
        logger.info("workflow step %s was already taken on; this delivery is ignored", execution_id)
        return
    try:
        outputs = await _links_for(deps, inputs if isinstance(inputs, dict) else {}, context)
    except StepFailure as failure:
        logger.info("workflow step %s failed: told the workflow why", execution_id)
        await _end_with_failure(fail, str(failure))
        return
    except Exception:
        await _end_with_failure(fail, BROKEN)
        raise  # the app's error handler logs where (never the message)
    try:
        await complete(outputs=outputs)
    except SlackApiError as error:
        logger.warning("functions.completeSuccess failed: %s", _slack_error(error))
        # Slack refused the outputs; the step must still end (docs/slack.md, Workflow steps).
        await _end_with_failure(fail, BROKEN)
    except Exception as error:  # the network: the step times out on Slack's side
        logger.warning("functions.completeSuccess failed: %s", type(error).__name__)
    else:
        logger.info("workflow step %s completed", execution_id)


async def step_turned_away(fail: AsyncFail, **_: Any) -> None:
    """Too much work in flight (the dispatcher's cap): end the step rather than leave it hanging."""
    await _end_with_failure(fail, BUSY)


async def _links_for(
    deps: SlackDeps, inputs: Mapping[str, Any], context: AsyncBoltContext
) -> dict[str, Any]:
    user_id = _user_of(inputs)
    requester = Requester(
        entry=Entry.WORKFLOW,
        user_id=user_id,
        team_id=context.team_id,
        enterprise_id=context.enterprise_id,
        request_id=request_id_var.get(),
        tenant=tenant_of_context(context),
    )
    await _check_access(deps, requester, context)
    options = _options(deps, inputs)
    text = _text_input(inputs, INPUT_TEXT)
    if text is None:
        raise StepFailure(NO_TEXT)
    if len(text) > MAX_COMMAND_CHARS:
        raise StepFailure(
            f"The text given to this step is {len(text):,} characters long; MediaLink reads "
            f"at most {MAX_COMMAND_CHARS:,}. Pass fewer links at a time."
        )
    found = parse_media_refs(text, max_refs=deps.max_refs)
    if not found.refs:
        raise StepFailure(NO_REFERENCES)
    try:
        results = await make_links(deps, requester, found.refs, options)
    except WixBusyError as busy:  # the person's quota, or too many requests under way
        raise StepFailure(describe_error(busy)) from None
    return _outputs(results)


async def _check_access(deps: SlackDeps, requester: Requester, context: AsyncBoltContext) -> None:
    """The policy, for the person the step acts for (as ``bot.slack.access`` does for the
    payload's user). A step has no channel: with an allowed-channel list, only admins pass."""
    assert requester.user_id is not None  # noqa: S101 - set by the caller
    # The request's own gate (its workspace's rules, bot.slack.tenancy), else the app's.
    gate = context.get(GATE_KEY) or deps.gate
    if not isinstance(gate, AccessGate):  # build_app always gives one; refuse, never skip
        raise StepFailure(deps.policy.unavailable().message)
    authorized = context.authorize_result
    decision = await gate.check(
        Asker(
            user_id=requester.user_id,
            team_id=requester.team_id,
            enterprise_id=requester.enterprise_id,
        ),
        home_team=authorized.team_id if authorized is not None else None,
        home_enterprise=authorized.enterprise_id if authorized is not None else None,
    )
    if decision.allowed:
        return
    assert isinstance(decision, Refusal)  # noqa: S101 - narrowed for mypy
    reason = decision.reason.value
    logger.info("refused workflow for %s: %s", requester.user_id, reason)
    deps.audit.record([refusal_event(requester, reason)])
    if deps.metrics is not None:
        deps.metrics.refused(reason)
    raise StepFailure(
        f"MediaLink refused to make links for {_plain(f'<@{requester.user_id}>')}, the "
        f"person this step acts for: {_plain(decision.message)}"
    )


def _options(deps: SlackDeps, inputs: Mapping[str, Any]) -> LinkOptions:
    problems: list[str] = []
    expires = _text_input(inputs, INPUT_EXPIRES)
    expires_in = None
    if expires is not None:
        try:
            expires_in = parse_duration(expires)
        except ValueError as error:
            problems.append(f"Expiry: {error}.")
    keys: tuple[str, ...] = ()
    renditions = _text_input(inputs, INPUT_RENDITIONS)
    if renditions is not None:
        keys, problem = parse_asset_keys(renditions)
        if problem is not None:
            problems.append(f"Renditions: {problem.removeprefix('assets: ')}.")
    if not problems:
        try:
            return checked_options(deps, LinkOptions(expires_in=expires_in, asset_keys=keys))
        except LinkOptionsError as error:
            problems.append(describe_error(error))
    raise StepFailure("This step's settings cannot be used. " + " ".join(problems))


def _outputs(results: Sequence[FileLinks]) -> dict[str, Any]:
    made = [result for result in results if result.ok]
    if not made:
        raise StepFailure("MediaLink made no link. " + _failures(results))
    lines: list[str] = []
    for result in results:
        name = f"*{escape_clip(result.display_name, MAX_NAME_CHARS)}*"
        if not result.ok:
            reason = describe_error(result.error) if result.error else "Wix gave no link."
            lines.append(f"{name}: no link. {reason}")
            continue
        links = " · ".join(
            f"<{_in_link(link.url)}|{escape_clip(asset_label(link.asset_key), 60)}>"
            for link in result.links
        )
        lines.append(f"{name}: {links}")
        if result.fell_back_to_original:
            lines.append(fell_back_note(result.invalid_asset_keys))
        elif result.invalid_asset_keys:
            lines.append(missing_keys_note(result.invalid_asset_keys))
    expires_at = min(result.expires_at for result in made if result.expires_at is not None)
    lines.append(f"Links expire {slack_date(expires_at)}.")
    return {
        OUTPUT_LINKS: "\n".join(lines),
        OUTPUT_URLS: "\n".join(link.url for result in made for link in result.links),
        OUTPUT_EXPIRES_AT: _unix(expires_at),
    }


def _failures(results: Sequence[FileLinks]) -> str:
    named = []
    for result in results[:MAX_FILES_NAMED]:
        reason = describe_error(result.error) if result.error else "Wix gave no link."
        named.append(f"{_plain(escape_clip(result.display_name, MAX_NAME_CHARS))}: {reason}")
    more = len(results) - MAX_FILES_NAMED
    return " ".join(named) + (f" (and {more} more files)" if more > 0 else "")


async def _end_with_failure(fail: AsyncFail, message: str) -> None:
    text = message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"
    try:
        await fail(error=text)
    except SlackApiError as error:
        logger.warning("functions.completeError failed: %s", _slack_error(error))
    except Exception as error:  # the network: the step times out on Slack's side
        logger.warning("functions.completeError failed: %s", type(error).__name__)


def _first_time(deps: SlackDeps, execution_id: str) -> bool:
    recent = deps.recent_steps
    if execution_id in recent:
        return False
    recent[execution_id] = None
    while len(recent) > MAX_RECENT_STEPS:
        recent.popitem(last=False)
    return True


def _user_of(inputs: Mapping[str, Any]) -> str:
    """The user ID in the step's ``user_context`` input. Only Slack sets that value (the
    builder has no field for it), so only the person it names can be judged; its
    ``secret`` is Slack's own and cannot be checked here (docs/slack.md, Workflow steps).
    A plain user ID (a step defined before, or any other shape) is refused, never read."""
    value = inputs.get(INPUT_USER)
    if value is None or value == "":
        raise StepFailure(NO_USER)
    if not isinstance(value, Mapping):
        raise StepFailure(NOT_A_USER_CONTEXT)
    user_id, secret = value.get("id"), value.get("secret")
    if (
        not isinstance(user_id, str)
        or not _USER_ID.fullmatch(user_id)
        or not isinstance(secret, str)
        or not secret
    ):
        raise StepFailure(NOT_A_USER_CONTEXT)
    return user_id


def _text_input(inputs: Mapping[str, Any], name: str) -> str | None:
    """An input's text, or None when absent or blank (an optional input left empty)."""
    value = inputs.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def _plain(text: str) -> str:
    """The error text is shown as it is: mentions become @ID, mrkdwn marks go."""
    text = re.sub(r"<([@#])([A-Z0-9]{1,40})>", r"\1\2", text)
    return text.replace("*", "").replace("`", "")


def _in_link(url: str) -> str:
    # ``<url|label>``: a ``|`` or ``>`` inside the URL would end it early.
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _slack_error(error: SlackApiError) -> str:
    # The error code only: Slack's answer may quote what was sent (the links).
    code = error.response.get("error") if error.response is not None else None
    return code if isinstance(code, str) else "?"


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.function(WORKFLOW_STEP), make_links_step, turned_away=step_turned_away)
