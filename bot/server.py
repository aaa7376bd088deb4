"""Serving the Slack app: HTTP mode (``/slack/events``, ``/healthz``, ``/readyz``,
``/metrics``) or Socket Mode (the socket, plus ``/healthz`` and ``/readyz`` on the same
port for probes).

The HTTP edge verifies first: a request's Slack signature and timestamp are checked on
the raw body (``bot.signing``) before anything parses it, logs it or hands it to Bolt.
A request that fails costs one HMAC, gets 401, and reaches nothing: no Bolt, no
listener, no error handler, no outbound request. The metrics count it, and nothing more.

In OAuth mode (several workspaces) two GET pages are served unsigned, since the
installer's browser asks for them: ``/slack/install`` and ``/slack/oauth_redirect``. They
reach only Bolt's OAuth flow (its state check first), with no body, a short query, a
bound on how many run at once and a deadline. Nothing else skips the check.

``/metrics`` is on the main port unless ``METRICS_PORT`` gives it a listener of its
own (``start_metrics_server``); then the main port does not serve it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.config import SettingsError
from bot.dispatch import Dispatcher
from bot.metrics import CONTENT_TYPE_LATEST, EntryPoint, Metrics, RequestOutcome
from bot.signing import SignatureChecker, Verdict
from bot.slack.bolt_fixes import apply_bolt_fixes

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"

# Whether this replica should get traffic: (True, None), or (False, why) for a 503;
# answered directly or awaited.
ReadyAnswer = tuple[bool, str | None]
Readiness = Callable[[], ReadyAnswer | Awaitable[ReadyAnswer]]
# Slack's payloads are small (a message shortcut's whole message is the largest); a
# cap keeps a hostile body from costing memory.
MAX_BODY_BYTES = 1024 * 1024
# On stop, replies still being made get this long to reach Slack (within the 30 s a
# container platform usually allows between SIGTERM and SIGKILL).
STOP_GRACE = 20.0  # seconds

REFUSED_TEXT = "invalid or missing Slack signature"

# The OAuth pages (several workspaces): an installer's browser, not Slack, asks for them,
# so they carry no signature; Bolt's state check guards the redirect. Bounded all the same.
MAX_OAUTH_QUERY = 2048  # characters: Slack's redirect carries a code and a state
MAX_OAUTH_IN_FLIGHT = 16  # installs handled at once; more get 503
OAUTH_DEADLINE = 20.0  # seconds for one page: a state write, or oauth.v2.access and auth.test


def create_web_app(
    app: AsyncApp,
    dispatcher: Dispatcher,
    *,
    signing_secret: str,
    readiness: Readiness | None = None,
    serve_metrics: bool = True,
) -> web.Application:
    """The aiohttp application for HTTP mode: one URL for commands, interactivity and
    events; ``/metrics`` too unless ``serve_metrics`` is False (a port of its own)."""
    apply_bolt_fixes()
    checker = SignatureChecker(signing_secret)
    metrics = dispatcher.metrics

    async def slack_events(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            _unverified(metrics)
            return web.Response(status=413, text="request body too large")
        if request.headers.get("Content-Encoding", "identity").lower() != "identity":
            # Slack does not compress what it sends, and the signature covers the bytes
            # as sent: nothing is inflated (a small body may hold a huge one).
            _unverified(metrics)
            return web.Response(status=415, text="compressed request bodies are not accepted")
        # Read whole first (bounded by client_max_size: 413 beyond it), so a client slow
        # to send its body holds back no one else's work.
        raw = await request.read()
        started = time.perf_counter()
        verdict = checker.check(request.headers, raw)
        if verdict is not Verdict.OK:  # the checker wrote its one line
            _unverified(metrics)
            return web.Response(status=401, text=REFUSED_TEXT)
        return await _dispatch(app, dispatcher, request, raw, started)

    async def finish_replies(_: web.Application) -> None:
        # aiohttp has stopped taking requests and every handler has returned, so all
        # work is started: give it time to reach Slack, then close the shared session.
        cut_off = await dispatcher.finish(STOP_GRACE)
        if cut_off:
            logger.warning("stopped with %d replies unfinished after %.0f s", cut_off, STOP_GRACE)

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_post(EVENTS_PATH, slack_events)
    flow = app.oauth_flow
    if flow is not None:
        # The only routes that skip the signature check: two GETs, whose only way in is
        # Bolt's OAuth flow (bot.workspaces.oauth).
        oauth_page = oauth_handler(flow)
        web_app.router.add_get(flow.install_path, oauth_page)
        web_app.router.add_get(flow.redirect_uri_path, oauth_page)
    web_app.router.add_get(HEALTH_PATH, healthz)
    web_app.router.add_get(READY_PATH, readyz_handler(readiness))
    if serve_metrics:
        web_app.router.add_get(METRICS_PATH, metrics_handler(metrics))
    web_app.on_cleanup.append(finish_replies)
    return web_app


def oauth_handler(flow: AsyncOAuthFlow) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /slack/install`` and ``GET /slack/oauth_redirect``: bounded in size, in
    number at once and in time; a failure is a short page, never a trace."""
    slots = asyncio.Semaphore(MAX_OAUTH_IN_FLIGHT)

    async def oauth_page(request: web.Request) -> web.Response:
        if request.body_exists or (request.content_length or 0) > 0:
            return web.Response(status=413, text="these pages take no request body")
        if len(request.query_string) > MAX_OAUTH_QUERY:
            return web.Response(status=414, text="the address is too long")
        if slots.locked():
            return web.Response(status=503, text="too many installs at once; try again shortly")
        bolt_request = AsyncBoltRequest(
            body="",
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # a multidict works
        )
        try:
            async with slots, asyncio.timeout(OAUTH_DEADLINE):
                if request.path == flow.install_path:
                    answer = await flow.handle_installation(bolt_request)
                else:
                    answer = await flow.handle_callback(bolt_request)
        except Exception as error:  # a database or Slack failure: the installer retries
            logger.warning("the OAuth page %s failed (%s)", request.path, type(error).__name__)
            return web.Response(status=503, text="MediaLink could not finish that; try again")
        return await to_aiohttp_response(answer)

    return oauth_page


async def healthz(_: web.Request) -> web.Response:
    """The process is alive."""
    return web.json_response({"ok": True})


def readyz_handler(
    readiness: Readiness | None,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``/readyz``: 200 ``{"ok": true}``, or 503 with the reason ``readiness`` gives."""

    async def readyz(_: web.Request) -> web.Response:
        ok, reason = await _ask(readiness)
        if ok:
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "reason": reason or "not ready"}, status=503)

    return readyz


async def _ask(readiness: Readiness | None) -> ReadyAnswer:
    if readiness is None:
        return True, None
    answer = readiness()
    if inspect.isawaitable(answer):
        return await answer
    return answer


def _unverified(metrics: Metrics) -> None:
    metrics.request_answered(EntryPoint.UNKNOWN, RequestOutcome.UNVERIFIED, 0.0)


def metrics_handler(metrics: Metrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /metrics``: the app's registry in Prometheus' text format."""

    async def serve_metrics(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return serve_metrics


async def _dispatch(
    app: AsyncApp, dispatcher: Dispatcher, request: web.Request, raw: bytes, started: float
) -> web.Response:
    """Hand a verified request to Bolt; a body Bolt cannot read is a 400, not a 500."""
    with dispatcher.arrived(started) as arrival:
        try:
            bolt_request = AsyncBoltRequest(
                body=raw.decode("utf-8"),
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]  # a multidict works
            )
        except (ValueError, TypeError, RecursionError) as error:
            # Signed, so from Slack (or holding our secret), yet not a Slack payload.
            logger.warning("a signed request had an unreadable body (%s)", type(error).__name__)
            _answered(dispatcher.metrics, arrival.entry, RequestOutcome.ERROR, started)
            return web.Response(status=400, text="unreadable request body")
        bolt_response = await app.async_dispatch(bolt_request)
    response = await to_aiohttp_response(bolt_response)
    outcome = RequestOutcome.ERROR if bolt_response.status >= 400 else arrival.outcome
    _answered(dispatcher.metrics, arrival.entry, outcome, started)
    return response


def _answered(metrics: Metrics, entry: EntryPoint, outcome: RequestOutcome, started: float) -> None:
    metrics.request_answered(entry, outcome, time.perf_counter() - started)


@dataclass(slots=True)
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_http_server(
    app: AsyncApp,
    dispatcher: Dispatcher,
    *,
    signing_secret: str,
    host: str,
    port: int,
    readiness: Readiness | None = None,
    serve_metrics: bool = True,
) -> RunningServer:
    """Serve ``app`` on host:port (0 picks a free port) until ``close()``, which also
    lets the work in hand finish (``Dispatcher.finish``). ``readiness`` answers
    ``GET /readyz`` (always ready without it); ``serve_metrics=False`` leaves
    ``/metrics`` to ``start_metrics_server``."""
    web_app = create_web_app(
        app,
        dispatcher,
        signing_secret=signing_secret,
        readiness=readiness,
        serve_metrics=serve_metrics,
    )
    return await _start(web_app, host, port)


async def start_metrics_server(metrics: Metrics, *, host: str, port: int) -> RunningServer:
    """Serve only ``GET /metrics`` on host:port (``METRICS_PORT``), for scrapers inside
    the network: it shows traffic volume and error rates, so it is not for the public
    load balancer."""
    web_app = web.Application()
    web_app.router.add_get(METRICS_PATH, metrics_handler(metrics))
    return await _start(web_app, host, port)


async def _start(web_app: web.Application, host: str, port: int) -> RunningServer:
    runner = web.AppRunner(
        web_app,
        access_log=None,
        handle_signals=False,
        # The signature covers the bytes Slack sent, and Slack does not compress them:
        # no decompressing (of anyone's garbage) before the check.
        auto_decompress=False,
        # After an early 413, wait this long (not aiohttp's 10 s) for the rest of a body.
        lingering_time=1.0,
    )
    await runner.setup()
    return RunningServer(runner=runner, host=host, port=await _listen(runner, host, port))


async def _listen(runner: web.AppRunner, host: str, port: int) -> int:
    """Start listening; the port bound. A port that cannot be had is a setting to fix."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise SettingsError(
            [
                f"cannot listen on {host}:{port} ({error.strerror or error}); stop what "
                "uses that port, or set PORT (or HOST) to another"
            ]
        ) from None
    if runner.addresses:
        return int(runner.addresses[0][1])
    return port


def create_health_app(readiness: Readiness | None = None) -> web.Application:
    """Socket Mode's only HTTP surface: ``/healthz`` and ``/readyz`` for a container's
    health check and a platform's probes. Slack's requests come over the socket."""

    # Probes send no body: anything larger is not a probe.
    web_app = web.Application(client_max_size=1024)
    web_app.router.add_get(HEALTH_PATH, healthz)
    web_app.router.add_get(READY_PATH, readyz_handler(readiness))
    return web_app


async def start_health_server(
    *, host: str, port: int, readiness: Readiness | None = None
) -> RunningServer:
    """Serve ``create_health_app`` on host:port (0 picks a free port) until ``close()``."""
    runner = web.AppRunner(create_health_app(readiness), access_log=None, handle_signals=False)
    await runner.setup()
    return RunningServer(runner=runner, host=host, port=await _listen(runner, host, port))


async def start_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect to Slack over Socket Mode (``apps.connections.open`` on the app's API URL)."""
    handler = AsyncSocketModeHandler(app, app_token, web_client=app.client)
    await handler.connect_async()  # type: ignore[no-untyped-call]  # untyped in Bolt
    return handler


@contextlib.contextmanager
def stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM while the block runs. Installed before anything
    connects, so a stop that arrives during start-up is a clean stop, not a kill."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
