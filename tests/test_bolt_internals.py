"""Canaries for the Bolt internals MediaLink relies on.

MediaLink reaches past Bolt's documented surface in a few places: it replaces
``parse_body`` in Bolt's request modules (``bot/slack/bolt_fixes.py``), puts its own
``ack`` and ``respond`` in the request context and seeds that context from the
server (``bot/slack/middleware.py``, ``bot/server.py``), and calls the listener
runner's error handler itself. If a Bolt upgrade changes any of that, a test here
fails and its message says what to re-check. They drive a tiny ``AsyncApp`` through
``async_dispatch`` with correctly signed requests; nothing leaves the process.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import pytest
import slack_bolt.request.async_request as bolt_async_request
import slack_bolt.request.request as bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body

from bot.slack.bolt_fixes import apply_bolt_fixes
from tests.slack.conftest import command_form, signature_for

SECRET = "canary-signing-secret"
RESPONSE_URL = "https://hooks.slack.com/commands/T0CANARY/1/abc"
FORM = "application/x-www-form-urlencoded"


def signed_request(body: str, **context: Any) -> AsyncBoltRequest:
    ts = str(int(time.time()))
    headers: dict[str, str | Sequence[str]] = {
        "content-type": [FORM],
        "x-slack-request-timestamp": [ts],
        "x-slack-signature": [signature_for(body.encode(), ts, SECRET)],
    }
    return AsyncBoltRequest(body=body, headers=headers, context=context)


def command(text: str = "hello") -> str:
    return command_form(text, response_url=RESPONSE_URL, trigger_id="1.2.abc")


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AsyncApp:
    """An AsyncApp that needs no network: authorization is a local function."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)

    async def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=None,
            team_id="T0CANARY",
            bot_token="xoxb-canary",
            bot_user_id="U0CANARY",
            bot_id="B0CANARY",
        )

    return AsyncApp(signing_secret=SECRET, authorize=authorize, process_before_response=True)


# ---------------------------------------------------------------- the parse_body defect


def test_bolt_still_has_the_payload_substring_defect() -> None:
    """A command whose text says "payload" (and has no payload field) parses to {}."""
    body = command("https://example.com/payload.mp4")
    assert "payload=" not in body
    assert parse_body(body, FORM) == {}, (
        "Bolt fixed the payload defect: remove bot/slack/bolt_fixes.py's workaround "
        "(and this test), and keep the e2e test of a command mentioning 'payload'"
    )


def test_the_names_the_payload_workaround_replaces_still_exist() -> None:
    for module in (bolt_request, bolt_async_request):
        assert callable(getattr(module, "parse_body", None)), (
            f"{module.__name__} no longer has parse_body: re-check how Bolt parses a "
            "body and what bot/slack/bolt_fixes.py must replace"
        )


def test_the_request_constructor_parses_through_the_replaced_name() -> None:
    """The workaround only works while AsyncBoltRequest looks parse_body up by module name."""
    apply_bolt_fixes()
    request = signed_request(command("my payload link"))
    assert request.body.get("text") == "my payload link", (
        "AsyncBoltRequest no longer parses through slack_bolt.request.async_request."
        "parse_body: bot/slack/bolt_fixes.py's workaround has no effect any more"
    )


# ---------------------------------------------------------------- context ack / respond


async def test_a_listener_receives_the_ack_and_respond_a_middleware_put_in_the_context(
    app: AsyncApp,
) -> None:
    """bot/slack/middleware.py's RequestContext sets context["ack"] / ["respond"]; Bolt
    builds the listener's ``ack`` / ``respond`` arguments from those keys, and answers
    Slack with what that ack() was given."""
    ack_in_context = AsyncAck()  # type: ignore[no-untyped-call]  # untyped in Bolt
    respond_in_context = AsyncRespond(response_url=RESPONSE_URL)
    received: dict[str, Any] = {}

    @app.use
    async def put_ours(context: AsyncBoltContext, next: Any) -> None:
        context["ack"] = ack_in_context
        context["respond"] = respond_in_context
        await next()

    @app.command("/medialink")
    async def listener(ack: AsyncAck, respond: AsyncRespond) -> None:
        received.update(ack=ack, respond=respond)
        await ack("acked by ours")

    response = await app.async_dispatch(signed_request(command()))
    hint = "re-check how MediaLink's RequestContext hands listeners its ack() and respond()"
    assert received.get("ack") is ack_in_context, f"Bolt ignores context['ack']: {hint}"
    assert received.get("respond") is respond_in_context, f"Bolt ignores context['respond']: {hint}"
    assert ack_in_context.response is not None
    assert response.status == 200
    assert response.body == "acked by ours", f"Bolt no longer answers with context['ack']: {hint}"


async def test_values_given_to_the_request_constructor_reach_the_middleware(
    app: AsyncApp,
) -> None:
    """bot/server.py seeds each request's context (the ack event, the pending acks, the
    webhook session) through ``AsyncBoltRequest(context=…)``."""
    seeded = object()
    seen: list[object] = []

    @app.use
    async def look(context: AsyncBoltContext, next: Any) -> None:
        seen.append(context.get("medialink_canary"))
        await next()

    @app.command("/medialink")
    async def listener(ack: AsyncAck) -> None:
        await ack()

    await app.async_dispatch(signed_request(command(), medialink_canary=seeded))
    assert seen == [seeded], (
        "AsyncBoltRequest(context=...) no longer reaches the middleware: re-check how "
        "bot/server.py hands the ack machinery to bot/slack/middleware.py"
    )


# ---------------------------------------------------------------- error handlers


def test_the_listener_error_handler_takes_error_request_and_response(app: AsyncApp) -> None:
    handle = app.listener_runner.listener_error_handler.handle
    parameters = inspect.signature(handle).parameters
    assert {"error", "request", "response"} <= set(parameters), (
        "Bolt changed listener_error_handler.handle(error=, request=, response=): "
        "re-check _run_to_the_end in bot/slack/middleware.py, which calls it"
    )


async def test_the_listener_runner_error_handler_is_the_apps_error_handler(
    app: AsyncApp,
) -> None:
    """MediaLink reports failures after the ack through
    ``request.context.listener_runner.listener_error_handler``; that must reach app.error."""
    handled: list[tuple[Exception, dict[str, Any]]] = []
    requests: list[AsyncBoltRequest] = []

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        handled.append((error, body))

    @app.command("/medialink")
    async def listener(ack: AsyncAck, request: AsyncBoltRequest) -> None:
        requests.append(request)
        await ack()

    await app.async_dispatch(signed_request(command("later")))
    [request] = requests
    failure = RuntimeError("after the ack")
    runner = request.context.listener_runner
    await runner.listener_error_handler.handle(error=failure, request=request, response=None)
    assert [(error, body.get("text")) for error, body in handled] == [(failure, "later")], (
        "context.listener_runner.listener_error_handler no longer reaches app.error: "
        "re-check how bot/slack/middleware.py reports a failure after the ack"
    )


async def test_the_apps_error_handler_also_handles_middleware_errors(app: AsyncApp) -> None:
    """Bolt hands a middleware's exception to the same app.error handler, with the body
    as parsed so far. Request verification is a Bolt middleware: this is how a request
    whose timestamp made the verifier raise reached MediaLink's error handler unverified,
    and why the server verifies before Bolt sees anything."""
    handled: list[tuple[type[Exception], dict[str, Any]]] = []

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        handled.append((type(error), body))

    @app.use
    async def broken(next: Any) -> None:
        raise LookupError("in a middleware")

    @app.command("/medialink")
    async def listener(ack: AsyncAck) -> None:
        await ack()

    payload = {"type": "shortcut", "callback_id": "medialink_global", "response_url": RESPONSE_URL}
    response = await app.async_dispatch(signed_request(f"payload={quote(json.dumps(payload))}"))
    assert response.status == 500
    assert handled == [(LookupError, payload)]
