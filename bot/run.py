"""``medialink serve``: build everything from Settings, serve, stop cleanly on a signal.

On SIGTERM the HTTP server keeps answering while the work in hand finishes, with
``/readyz`` at 503 ``draining`` so the load balancer sends new requests elsewhere;
then it stops listening.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import build_app
from bot.config import Settings, SettingsError
from bot.dispatch import Dispatcher
from bot.preflight import refuse_unless_ready
from bot.server import (
    STOP_GRACE,
    ReadyAnswer,
    RunningServer,
    start_health_server,
    start_http_server,
    start_metrics_server,
    start_socket_mode,
    stop_signals,
)
from bot.services import Services, build_services

logger = logging.getLogger(__name__)

# /readyz asks Slack (auth.test) at most this often; probes in between get the last answer.
SLACK_CHECK_EVERY = 60.0  # seconds
SLACK_CHECK_DEADLINE = 5.0  # seconds: a probe's own timeout is usually a few seconds more


def freeze_start_up_objects() -> None:
    """Take what start-up built (modules, settings, the app) out of the cycle
    collector's scans, so its full collections walk only what requests leave behind
    and pause the event loop for less (benchmarks/README.md)."""
    gc.collect()
    gc.freeze()


async def serve(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM. Raises ``StartUpRefused``, before listening or
    connecting, when Slack refuses a token or cannot be reached."""
    with stop_signals() as stop:
        await refuse_unless_ready(settings)
        services = build_services(settings)
        try:
            # Migrates the audit schema; a database that is down is retried in the
            # background (links still flow, /readyz says 503), not a reason to stop.
            await services.audit.start()
            await _serve(settings, services, stop)
        finally:
            await services.aclose()
            logger.info("MediaLink stopped")


class SlackCheck:
    """Whether Slack answers ``auth.test`` with the app's token: asked at most once per
    ``every`` seconds (callers in between share the last answer, or the call under way),
    each call within ``deadline``."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        every: float = SLACK_CHECK_EVERY,
        deadline: float = SLACK_CHECK_DEADLINE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._every = every
        self._deadline = deadline
        self._clock = clock
        self._answer: str | None = None  # None: reachable; else why not
        self._asked_at: float | None = None
        self._asking: asyncio.Task[str | None] | None = None

    async def problem(self) -> str | None:
        """None when Slack was reachable at the last check, else a short reason."""
        now = self._clock()
        if self._asked_at is not None and now - self._asked_at < self._every:
            return self._answer
        if self._asking is None:
            self._asking = asyncio.ensure_future(self._ask())
        asking = self._asking
        try:
            # Shielded: a probe that hangs up does not cancel the check others wait for.
            return await asyncio.shield(asking)
        finally:
            if asking.done() and self._asking is asking:
                self._asking = None

    async def _ask(self) -> str | None:
        try:
            async with asyncio.timeout(self._deadline):
                await self._client.auth_test()
            answer = None
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            # Rate limited means reachable; a refused token is a reason not to serve.
            answer = None if code == "ratelimited" else "slack refused the bot token"
        except Exception as error:  # timeouts, connection failures: Slack is out of reach
            logger.warning("readiness: Slack did not answer auth.test (%s)", type(error).__name__)
            answer = "slack unreachable"
        self._answer = answer
        self._asked_at = self._clock()
        return answer


@dataclass(slots=True)
class Readiness:
    """What ``GET /readyz`` reports, in order: settings, draining, database, Slack."""

    services: Services
    slack: SlackCheck | None = None
    settings_problem: str | None = None
    draining: bool = field(default=False)

    async def __call__(self) -> ReadyAnswer:
        if self.settings_problem is not None:
            return False, self.settings_problem
        if self.draining:
            return False, "draining"
        if not self.services.audit.healthy:
            return False, "database unavailable"
        if self.slack is not None and (problem := await self.slack.problem()) is not None:
            return False, problem
        return True, None


def readiness(
    services: Services, *, settings: Settings | None = None, slack: SlackCheck | None = None
) -> Readiness:
    """The ``/readyz`` check for ``serve``: ``settings`` are checked once, here."""
    problem = None
    if settings is not None:
        try:
            settings.require_slack()
            settings.wix_credentials()
        except SettingsError:
            problem = "settings invalid"
    return Readiness(services, slack=slack, settings_problem=problem)


async def _serve(settings: Settings, services: Services, stop: asyncio.Event) -> None:
    dispatcher = Dispatcher()
    app = build_app(settings, services, dispatcher)
    freeze_start_up_objects()
    metrics_server = await _start_metrics(settings, dispatcher)
    try:
        if settings.slack_app_token is not None:
            await _serve_socket_mode(settings, services, app, dispatcher, stop)
        else:
            await _serve_http(settings, services, app, dispatcher, stop)
    finally:
        if metrics_server is not None:
            await metrics_server.close()


async def _start_metrics(settings: Settings, dispatcher: Dispatcher) -> RunningServer | None:
    if settings.metrics_port is None:
        return None
    server = await start_metrics_server(
        dispatcher.metrics, host=settings.host, port=settings.metrics_port
    )
    logger.info("MediaLink serves GET /metrics on %s:%d", settings.host, server.port)
    return server


async def _serve_socket_mode(
    settings: Settings,
    services: Services,
    app: AsyncApp,
    dispatcher: Dispatcher,
    stop: asyncio.Event,
) -> None:
    assert settings.slack_app_token is not None  # noqa: S101 - the caller checked
    # The probes and the image's health check ask over HTTP in this mode too; the port
    # answers until the work in hand is finished.
    health = await start_health_server(
        host=settings.host,
        port=settings.port,
        readiness=readiness(services, settings=settings, slack=SlackCheck(app.client)),
    )
    try:
        handler = await start_socket_mode(app, settings.slack_app_token.get_secret_value())
        logger.info(
            "MediaLink is connected to Slack over Socket Mode (GET /healthz, GET /readyz on %s:%d)",
            settings.host,
            health.port,
        )
        try:
            await stop.wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]  # untyped in Bolt
            cut_off = await dispatcher.finish(STOP_GRACE)
            if cut_off:
                logger.warning("stopped with %d replies unfinished", cut_off)
    finally:
        await health.close()


async def _serve_http(
    settings: Settings,
    services: Services,
    app: AsyncApp,
    dispatcher: Dispatcher,
    stop: asyncio.Event,
) -> None:
    secret = settings.slack_signing_secret
    # OAuth mode has no token of its own to ask auth.test with; each installation's is
    # checked on its requests.
    slack = None if settings.oauth_enabled else SlackCheck(app.client)
    ready = readiness(services, settings=settings, slack=slack)
    server = await start_http_server(
        app,
        dispatcher,
        signing_secret=secret.get_secret_value() if secret is not None else "",
        host=settings.host,
        port=settings.port,
        readiness=ready,
        serve_metrics=settings.metrics_port is None,
    )
    logger.info(
        "MediaLink is listening on %s:%d (POST /slack/events, GET /healthz, GET /readyz%s)",
        settings.host,
        server.port,
        ", GET /metrics" if settings.metrics_port is None else "",
    )
    try:
        await stop.wait()
        await drain(ready, dispatcher)
    finally:
        await server.close()  # the dispatcher finishes what is left first


async def drain(ready: Readiness, dispatcher: Dispatcher, grace: float = STOP_GRACE) -> None:
    """Answer ``/readyz`` with 503 ``draining`` and keep serving until the work in hand
    is done; what is still running after ``grace`` seconds is cut off."""
    ready.draining = True
    logger.info("stopping: finishing the work in hand (/readyz answers 503 draining)")
    if not await dispatcher.wait_idle(grace):
        cut_off = await dispatcher.finish(0.0)
        logger.warning("stopped with %d replies unfinished after %.0f s", cut_off, grace)
