"""End-to-end harness: the app served for real on loopback, driven like Slack drives it.

- ``fake_slack`` / ``fake_wix``: the loopback fakes (``tests/fakes``). The fake Slack
  grants exactly the bot scopes ``manifest.yaml`` asks for.
- ``make_medialink(**settings)``: builds the app with ``build_app(settings,
  build_services(settings, retry=FAST_RETRY))`` and serves it with
  ``bot.server.start_http_server`` on 127.0.0.1, port 0. ``medialink`` is the default one.
  Its audit record is the real store on an SQLite file of the test's own; with
  ``audit_running=True`` the store's writer runs in the background, as in ``serve``.
- ``MediaLink`` (what those return) sends correctly signed requests built from
  Slack's payload shapes (docs/slack.md: Slash command payload, Interactivity payloads):
  form-encoded slash commands and ``payload=`` JSON for shortcuts, block actions and view
  submissions. ``click()`` presses a button found in a posted reply, with that
  element's value and a fresh response_url, as Slack does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx
import pytest
import yaml
from slack_sdk.signature import SignatureVerifier

from bot.app import build_app
from bot.config import Settings, load_settings
from bot.dispatch import Dispatcher
from bot.server import EVENTS_PATH, RunningServer, start_http_server
from bot.services import Services, build_services
from bot.wix.client import RetryPolicy
from tests.fakes.slack import (
    APP_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    ApiCall,
    FakeSlack,
    Json,
    Message,
    ResponsePost,
    iter_elements,
)
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix

REPO_ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "8f742231b10e8888abcd99fakesecret"
# OAuth mode (several workspaces): the app's client secret and the install states' key.
OAUTH_CLIENT_SECRET = "fake-client-secret-0123456789abcdef"
OAUTH_STATE_SECRET = "state-secret-" + "s" * 40
USER_ID = "U0ALICE01"
USER_NAME = "alice"
OTHER_USER_ID = "U0BOB0002"
CHANNEL_ID = "C0GENERAL"
CHANNEL_NAME = "general"
OTHER_CHANNEL_ID = "C0RANDOM1"

# Retries fast enough for tests; still more than one attempt, so retries are exercised.
FAST_RETRY = RetryPolicy(
    max_attempts=2, initial_delay=0.01, max_delay=0.02, max_retry_after=0.05, total_timeout=10.0
)

_ENV_PREFIXES = ("SLACK_", "WIX_", "MEDIALINK_")


def manifest_bot_scopes() -> tuple[str, ...]:
    """The bot scopes manifest.yaml requests (the fake Slack grants exactly these)."""
    manifest = yaml.safe_load((REPO_ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    return tuple(str(scope) for scope in scopes)


# ------------------------------------------------------------------ payload builders


def sign(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return signature


def signature_for(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 signature, computed here from the documented recipe rather than by the SDK:
    ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` (docs/slack.md, Request signing)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes,
    *,
    timestamp: str | None = None,
    secret: str = SIGNING_SECRET,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers of a request signed with ``secret`` (by default correctly, and now)."""
    ts = str(int(time.time())) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature_for(body, ts, secret),
    }


def command_form(
    text: str,
    *,
    response_url: str,
    trigger_id: str,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    command: str = "/medialink",
) -> str:
    """A slash command body, as Slack documents it (docs/slack.md, Slash command payload)."""
    return urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": USER_NAME if user == USER_ID else "bob",
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def _user(user: str) -> Json:
    name = USER_NAME if user == USER_ID else "bob"
    return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}


def _team() -> Json:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def message_action_payload(
    message: Json,
    *,
    response_url: str,
    trigger_id: str,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
) -> Json:
    """A message shortcut (``type: message_action``), docs/slack.md, message_action."""
    return {
        "type": "message_action",
        "token": "Nj2rfC2hU8mAfgaJLemZgO7H",
        "action_ts": f"{time.time():.6f}",
        "team": _team(),
        "user": _user(user),
        "channel": {"id": channel, "name": CHANNEL_NAME},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": "medialink_message",
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message.get("ts", "1516229207.000133"),
        "message": {"type": "message", "ts": "1516229207.000133", **message},
    }


def shortcut_payload(*, trigger_id: str, user: str = USER_ID) -> Json:
    """A global shortcut: no channel, no response_url (docs/slack.md, shortcut)."""
    return {
        "type": "shortcut",
        "token": "XXXXXXXXXXXXX",
        "action_ts": f"{time.time():.6f}",
        "team": _team(),
        "user": _user(user),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": "medialink_global",
        "trigger_id": trigger_id,
    }


def block_actions_payload(
    message: Message,
    block: Json,
    element: Json,
    *,
    response_url: str,
    trigger_id: str,
    user: str = USER_ID,
    value: str | None = None,
) -> Json:
    """A click on a button of ``message`` (docs/slack.md, block_actions).

    For an ephemeral message Slack does not promise ``message`` in the payload, so
    it is left out: the app must work from the action's value, ``container`` and
    ``response_url``.
    """
    action: Json = {
        "type": element.get("type", "button"),
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id", "blk"),
        "text": element.get("text"),
        "action_ts": f"{time.time():.6f}",
    }
    chosen = element.get("value") if value is None else value
    if chosen is not None:
        action["value"] = chosen
    if "style" in element:
        action["style"] = element["style"]
    payload: Json = {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": "Shh_its_a_seekrit",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral,
        },
        "trigger_id": trigger_id,
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": CHANNEL_NAME},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not message.ephemeral:
        payload["message"] = {"type": "message", "ts": message.ts, **message.body}
    return payload


def view_submission_payload(
    view: Json,
    values: Mapping[str, Mapping[str, Json]],
    *,
    response_urls: list[Json],
    user: str = USER_ID,
) -> Json:
    """A modal submission (docs/slack.md, view_submission); ``values`` is ``state.values``."""
    submitted = dict(view)
    submitted["state"] = {"values": {key: dict(value) for key, value in values.items()}}
    submitted["response_urls"] = response_urls
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": "Shh_its_a_seekrit",
        "trigger_id": f"{int(time.time())}.{TEAM_ID}.submit",
        "view": submitted,
        "response_urls": response_urls,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def interaction_body(payload: Json) -> str:
    """How Slack posts interactivity: one form field ``payload`` holding JSON."""
    return f"payload={quote(json.dumps(payload))}"


# ------------------------------------------------------------------ the driver


@dataclass
class Sent:
    """A request the harness sent: the app's HTTP answer and where its reply goes."""

    response: httpx.Response
    response_url: str | None = None
    trigger_id: str | None = None
    elapsed: float = 0.0


@dataclass
class MediaLink:
    """The app under test, served on loopback, plus everything to drive it."""

    url: str
    settings: Settings
    slack: FakeSlack
    wix: FakeWix
    http: httpx.AsyncClient
    secret: str = SIGNING_SECRET
    sent: list[Sent] = field(default_factory=list)
    services: Services | None = None  # the app's own (its audit trail, for instance)

    # -- raw requests

    async def post(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"Content-Type": content_type}
        if signed:
            headers["X-Slack-Request-Timestamp"] = ts
            headers["X-Slack-Signature"] = signature or sign(body, ts, self.secret)
        return await self.http.post(EVENTS_PATH, content=body.encode(), headers=headers)

    async def post_raw(
        self, body: bytes, headers: Mapping[str, str] | Mapping[bytes, bytes] | None = None
    ) -> httpx.Response:
        """POST ``body`` to the events URL byte for byte, with exactly ``headers``.

        Nothing is added (no signature, no Content-Type) beyond what HTTP itself needs;
        bytes header values go out as they are (latin-1 text included).
        """
        return await self.http.post(EVENTS_PATH, content=body, headers=headers)

    async def assert_nothing_went_out(self) -> None:
        """Once the app is idle: no post to any response_url (issued or not), no Web API
        call (not even Bolt's auth.test) and no Wix request."""
        await self.settle()
        assert self.slack.posts() == [], "something was posted to a response_url"
        assert [call.method for call in self.slack.calls] == [], "the Web API was called"
        assert [request.path for request in self.wix.requests] == [], "Wix was called"

    async def _send(self, body: str, **kwargs: Any) -> Sent:
        started = time.monotonic()
        response = await self.post(body)
        sent = Sent(response=response, elapsed=time.monotonic() - started, **kwargs)
        self.sent.append(sent)
        return sent

    # -- entry points

    async def command(
        self,
        text: str,
        *,
        user: str = USER_ID,
        channel: str = CHANNEL_ID,
        response_url: str | None = None,
    ) -> Sent:
        """``/medialink <text>``; the reply goes to the returned ``response_url``."""
        if response_url is None:
            response_url = self.slack.new_response_url(channel=channel, user=user)
        trigger_id = self.slack.new_trigger_id()
        body = command_form(
            text, response_url=response_url, trigger_id=trigger_id, user=user, channel=channel
        )
        return await self._send(body, response_url=response_url, trigger_id=trigger_id)

    async def message_shortcut(
        self, message: Json, *, user: str = USER_ID, channel: str = CHANNEL_ID
    ) -> Sent:
        response_url = self.slack.new_response_url(channel=channel, user=user)
        trigger_id = self.slack.new_trigger_id()
        payload = message_action_payload(
            message, response_url=response_url, trigger_id=trigger_id, user=user, channel=channel
        )
        return await self._send(
            interaction_body(payload), response_url=response_url, trigger_id=trigger_id
        )

    async def global_shortcut(self, *, user: str = USER_ID) -> Sent:
        trigger_id = self.slack.new_trigger_id()
        payload = shortcut_payload(trigger_id=trigger_id, user=user)
        return await self._send(interaction_body(payload), trigger_id=trigger_id)

    async def submit_view(
        self,
        view: Json,
        *,
        urls: str | None = None,
        expiry: str | None = None,
        assets: str | None = None,
        conversation: str | None = CHANNEL_ID,
        user: str = USER_ID,
        picked: Sequence[Json] | None = None,
    ) -> Sent:
        """Fill the MediaLink modal (found by its block and action IDs) and submit it.

        Slack sends ``None`` for inputs left empty; a conversation select with
        ``response_url_enabled`` brings one response_url for the chosen conversation.
        ``picked``: the options chosen in the file picker, as its answers offered them
        (left out of the state when the modal has no picker).
        """
        elements = {
            (str(block.get("block_id")), str(element.get("action_id"))): element
            for block, element in iter_elements(view.get("blocks", []))
        }
        values: dict[str, dict[str, Json]] = {}

        def put(block_id: str, action_id: str, value: Json) -> None:
            if (block_id, action_id) not in elements:
                raise AssertionError(
                    f"the modal has no {block_id}/{action_id} input; it has {sorted(elements)}"
                )
            values.setdefault(block_id, {})[action_id] = value

        put("urls", "urls_input", {"type": "plain_text_input", "value": urls})
        put("assets", "assets_input", {"type": "plain_text_input", "value": assets})
        if picked is not None or ("picked", "picked_files") in elements:
            selected = [dict(option) for option in picked or ()]
            put(
                "picked",
                "picked_files",
                {"type": "multi_external_select", "selected_options": selected},
            )
        select = elements.get(("expiry", "expiry_select"), {})
        chosen = select.get("initial_option")
        if expiry is not None:
            options = [opt for opt in select.get("options", []) if opt.get("value") == expiry]
            if not options:
                raise AssertionError(f"the expiry menu has no option with value {expiry!r}")
            chosen = options[0]
        put("expiry", "expiry_select", {"type": "static_select", "selected_option": chosen})
        put(
            "conversation",
            "conversation_select",
            {"type": "conversations_select", "selected_conversation": conversation},
        )
        response_urls: list[Json] = []
        response_url = None
        if conversation is not None:
            response_url = self.slack.new_response_url(channel=conversation, user=user)
            response_urls.append(
                {
                    "block_id": "conversation",
                    "action_id": "conversation_select",
                    "channel_id": conversation,
                    "response_url": response_url,
                }
            )
        payload = view_submission_payload(view, values, response_urls=response_urls, user=user)
        return await self._send(interaction_body(payload), response_url=response_url)

    async def click(
        self,
        message: Message,
        action_id: str,
        *,
        user: str = USER_ID,
        value: str | None = None,
        forged: Json | None = None,
    ) -> Sent:
        """Press the element ``action_id`` of ``message``, as Slack reports a click.

        ``value`` replaces the element's value (a tampered payload); ``forged`` is an
        element the message does not have (a hand-made payload), with that action_id.
        """
        if forged is None:
            element = message.element(action_id)
            block = message.block_of(action_id)
        else:
            element = {"type": "button", **forged, "action_id": action_id}
            block = {"type": "actions", "block_id": "forged", "elements": [element]}
        response_url = self.slack.new_response_url(
            channel=message.channel, user=user, message_id=message.id
        )
        trigger_id = self.slack.new_trigger_id()
        payload = block_actions_payload(
            message,
            block,
            element,
            response_url=response_url,
            trigger_id=trigger_id,
            user=user,
            value=value,
        )
        return await self._send(
            interaction_body(payload), response_url=response_url, trigger_id=trigger_id
        )

    # -- reading replies

    async def reply(self, sent: Sent, count: int = 1, *, within: float = 5.0) -> Message:
        """The message the ``count``-th post to ``sent.response_url`` produced or changed."""
        posts = await self.wait_posts(sent, count, within=within)
        post = posts[count - 1]
        assert post.accepted, f"the fake Slack refused the reply: {post.status} {post.answer}"
        assert post.message_id is not None
        return self.slack.message(post.message_id)

    async def wait_posts(
        self, sent: Sent, count: int = 1, *, within: float = 5.0
    ) -> list[ResponsePost]:
        assert sent.response_url is not None, "this request has no response_url"
        return await self.slack.wait_for_posts(sent.response_url, count, within=within)

    async def settle(self, *, within: float = 10.0) -> None:
        """Wait until the app has finished everything it started (its listener tasks)."""
        current = asyncio.current_task()
        deadline = time.monotonic() + within
        while True:
            busy = [
                task
                for task in asyncio.all_tasks()
                if task is not current and not task.done() and not _runs_always(task)
            ]
            if not busy:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the app is still busy after {within} s: {busy}")
            await asyncio.wait(busy, timeout=0.05)


def _runs_always(task: asyncio.Task[Any]) -> bool:
    """The audit trail's writer and retention tasks run as long as the app does."""
    return task.get_name().startswith("audit-")


class MakeMediaLink(Protocol):
    def __call__(
        self, *, dispatcher: Dispatcher | None = None, audit_running: bool = False, **settings: Any
    ) -> Awaitable[MediaLink]: ...


# ------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test alone, never from the developer's environment."""
    for name in list(os.environ):
        if name.upper().startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(REPO_ROOT)  # no .env elsewhere is read (env_file=None anyway)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(scopes=manifest_bot_scopes()) as slack:
        yield slack


@pytest.fixture
def fake_wix() -> Iterator[FakeWix]:
    with FakeWix() as wix:
        yield wix


def medialink_settings(slack: FakeSlack, wix: FakeWix, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "wix_api_key": FakeWix.API_KEY,
        "wix_site_id": FakeWix.SITE_ID,
        "wix_api_url": wix.base_url,
    }
    values.update(overrides)
    return load_settings(env_file=None, **values)


@pytest.fixture
async def make_medialink(
    fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> AsyncIterator[MakeMediaLink]:
    running: list[tuple[MediaLink, RunningServer, Services]] = []
    # Each test's own audit record (the real store), never a file in the repository.
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'medialink.db'}"

    async def start(
        *, dispatcher: Dispatcher | None = None, audit_running: bool = False, **overrides: Any
    ) -> MediaLink:
        settings = medialink_settings(
            fake_slack, fake_wix, **{"database_url": database_url, **overrides}
        )
        services = build_services(settings, retry=FAST_RETRY)
        if audit_running:  # its writer in the background, as `serve` runs it
            await services.audit.start()
        dispatcher = dispatcher or Dispatcher()
        app = build_app(settings, services, dispatcher)
        server = await start_http_server(
            app, dispatcher, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0
        )
        # No keep-alive: each request is its own connection, so "the app is idle"
        # means no task is left (see MediaLink.settle).
        http = httpx.AsyncClient(
            base_url=server.url,
            timeout=10.0,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        medialink = MediaLink(
            url=server.url,
            settings=settings,
            slack=fake_slack,
            wix=fake_wix,
            http=http,
            services=services,
        )
        running.append((medialink, server, services))
        return medialink

    yield start
    for medialink, server, services in reversed(running):
        try:
            await medialink.settle()
        finally:
            await medialink.http.aclose()
            await server.close()
            await services.aclose()


@pytest.fixture
async def medialink(make_medialink: MakeMediaLink) -> MediaLink:
    return await make_medialink()


# ------------------------------------------------------------------ helpers for tests


def wix_url(file_id: str) -> str:
    """The public URL a person would paste for a Wix file."""
    if "." not in file_id and "~" not in file_id:
        return f"https://video.wixstatic.com/video/{file_id}/720p/mp4/file.mp4"
    if file_id.endswith((".pdf", ".zip")):
        return f"https://static.wixstatic.com/ugd/{file_id}"
    if file_id.endswith(".mp3"):
        return f"https://static.wixstatic.com/mp3/{file_id}"
    return f"https://static.wixstatic.com/media/{file_id}"


def link_buttons(message: Message) -> list[Json]:
    """The URL buttons of a reply (``medialink_link_<n>``), in order."""
    return [
        element
        for element in message.elements()
        if str(element.get("action_id", "")).startswith("medialink_link_")
    ]


def generate_bodies(wix: FakeWix) -> list[dict[str, Any]]:
    """The JSON bodies of every generate-file-download-url call Wix received."""
    return [
        request.json
        for request in wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
        if isinstance(request.json, dict)
    ]


def issued_urls(wix: FakeWix) -> set[str]:
    return {link.url for link in wix.issued}


def without_query(urls: Iterable[str]) -> set[str]:
    """Signed URLs minus their token: which file (and folder) each one is for."""
    return {url.split("?", 1)[0] for url in urls}


# Lookups made before a listener runs: Bolt's auth.test, and the access policy's
# users.info and usergroups.users.list (bot.policy.directory), both cached.
LOOKUPS = frozenset({"auth.test", "users.info", "usergroups.users.list"})


def api_calls(slack: FakeSlack) -> list[ApiCall]:
    """Web API calls except the lookups (``LOOKUPS``) made before any listener runs."""
    return [call for call in slack.calls if call.method not in LOOKUPS]


def ack_text(sent: Sent) -> str:
    """What the ack itself shows the person (plain text or a JSON message), if anything."""
    body = sent.response.text
    if not body:
        return ""
    if sent.response.headers.get("content-type", "").startswith("application/json"):
        return "\n".join(_all_texts(json.loads(body)))
    return body


async def private_answer(medialink: MediaLink, sent: Sent) -> str:
    """What the person was shown in answer to a command, in the ack or through the
    response_url: asserts it was shown only to them (the text may echo pasted URLs)."""
    assert sent.response.status_code == 200, sent.response.text
    if ack_text(sent):
        assert sent.response.headers.get("content-type", "").startswith("application/json")
        assert json.loads(sent.response.text)["response_type"] == "ephemeral"
        return ack_text(sent)
    reply = await medialink.reply(sent)
    assert reply.ephemeral
    return reply.all_text()


def _all_texts(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                found += _all_texts(item)
        return found
    if isinstance(value, list):
        return [text for item in value for text in _all_texts(item)]
    return []


_DATE = re.compile(r"<!date\^(?P<ts>\d+)\^(?P<format>[^^|>]+)(?:\^[^|>]*)?\|(?P<fallback>[^>]+)>")


def slack_dates(text: str) -> list[tuple[int, str]]:
    """``(unix time, fallback)`` of every ``<!date^…>`` in mrkdwn text."""
    return [(int(match["ts"]), match["fallback"]) for match in _DATE.finditer(text)]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite audit record for a test to fill or read (tests/slack/audit_helpers.py)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
