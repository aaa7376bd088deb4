"""``medialink serve``: build everything from Settings, serve, stop cleanly on a signal."""

from __future__ import annotations

import asyncio
import gc
import logging

from bot.app import build_app
from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.preflight import refuse_unless_ready
from bot.server import (
    STOP_GRACE,
    Readiness,
    start_health_server,
    start_http_server,
    start_socket_mode,
    stop_signals,
)
from bot.services import Services, build_services

logger = logging.getLogger(__name__)


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


def readiness(services: Services) -> Readiness:
    """What ``GET /readyz`` reports: not ready while the audit trail cannot write."""

    def check() -> tuple[bool, str | None]:
        if not services.audit.healthy:
            return False, "database unavailable"
        return True, None

    return check


async def _serve(settings: Settings, services: Services, stop: asyncio.Event) -> None:
    dispatcher = Dispatcher()
    app = build_app(settings, services, dispatcher)
    freeze_start_up_objects()
    if settings.slack_app_token is not None:
        # The probes and the image's health check ask over HTTP in this mode too; the
        # port answers until the work in hand is finished.
        health = await start_health_server(
            host=settings.host, port=settings.port, readiness=readiness(services)
        )
        try:
            handler = await start_socket_mode(app, settings.slack_app_token.get_secret_value())
            logger.info(
                "MediaLink is connected to Slack over Socket Mode (GET /healthz, GET /readyz "
                "on %s:%d)",
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
        return
    secret = settings.slack_signing_secret
    server = await start_http_server(
        app,
        dispatcher,
        signing_secret=secret.get_secret_value() if secret is not None else "",
        host=settings.host,
        port=settings.port,
        readiness=readiness(services),
    )
    logger.info(
        "MediaLink is listening on %s:%d (POST /slack/events, GET /healthz, GET /readyz)",
        settings.host,
        server.port,
    )
    try:
        await stop.wait()
    finally:
        await server.close()  # the dispatcher finishes the work in hand first
