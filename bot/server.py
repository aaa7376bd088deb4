"""Serving the Slack app: HTTP mode (``/slack/events``, ``/healthz``) or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.bolt_fixes import apply_bolt_fixes
from bot.slack.middleware import (
    ACK_SENT_KEY,
    PENDING_ACKS_KEY,
    WEBHOOK_SESSION_KEY,
    PendingAcks,
    finish_listener_work,
)

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; a cap keeps a hostile body from costing memory.
MAX_BODY_BYTES = 1024 * 1024
WEBHOOK_TIMEOUT = 30  # seconds, as slack_sdk's webhook client
# On stop, replies still being made get this long to reach Slack (within the 30 s a
# container platform usually allows between SIGTERM and SIGKILL).
STOP_GRACE = 20.0  # seconds


def create_web_app(app: AsyncApp) -> web.Application:
    """The aiohttp application for HTTP mode: one URL for commands, interactivity and events."""
    apply_bolt_fixes()
    # One HTTP session for every response_url post (see SessionRespond), made on first
    # use inside the running loop and closed with the server.
    webhook_session: list[aiohttp.ClientSession] = []

    def shared_webhook_session() -> aiohttp.ClientSession:
        if not webhook_session or webhook_session[0].closed:
            timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
            webhook_session[:] = [aiohttp.ClientSession(timeout=timeout)]
        return webhook_session[0]

    async def finish_replies(_: web.Application) -> None:
        # The first cleanup: aiohttp has stopped taking requests and every handler has
        # returned, so all work is started; the webhook session closes after it.
        await finish_work_in_hand()

    async def close_webhook_session(_: web.Application) -> None:
        if webhook_session:
            await webhook_session[0].close()

    pending_acks = PendingAcks()

    async def slack_events(request: web.Request) -> web.Response:
        # Listeners' work waits for its own ack (ack_sent, set once Bolt returns it) and
        # for the other requests' (pending_acks): see ListenerAck.
        ack_sent = asyncio.Event()
        # Read first: a client slow to send its body must not hold back others' work.
        body = await request.text()
        with pending_acks.answering():
            try:
                bolt_request = AsyncBoltRequest(
                    body=body,
                    query=request.query_string,
                    headers=request.headers,  # type: ignore[arg-type]  # a multidict works
                    context={
                        ACK_SENT_KEY: ack_sent,
                        PENDING_ACKS_KEY: pending_acks,
                        WEBHOOK_SESSION_KEY: shared_webhook_session(),
                    },
                )
                bolt_response = await app.async_dispatch(bolt_request)
            finally:
                ack_sent.set()
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get(HEALTH_PATH, healthz)
    web_app.on_cleanup.append(finish_replies)
    web_app.on_cleanup.append(close_webhook_session)
    return web_app


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


async def start_http_server(app: AsyncApp, *, host: str, port: int) -> RunningServer:
    """Serve ``app`` on host:port (0 picks a free port) until ``close()``."""
    runner = web.AppRunner(create_web_app(app), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = port
    if runner.addresses:
        bound_port = int(runner.addresses[0][1])
    return RunningServer(runner=runner, host=host, port=bound_port)


async def start_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect to Slack over Socket Mode (``apps.connections.open`` on the app's API URL)."""
    handler = AsyncSocketModeHandler(app, app_token, web_client=app.client)
    await handler.connect_async()  # type: ignore[no-untyped-call]  # untyped in Bolt
    return handler


async def finish_work_in_hand(grace: float = STOP_GRACE) -> None:
    """Give listener work already acked (links being made and sent) time to finish."""
    cut_off = await finish_listener_work(grace)
    if cut_off:
        logger.warning("stopped with %d replies unfinished after %.0f s", cut_off, grace)


async def wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
