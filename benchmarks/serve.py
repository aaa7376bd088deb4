"""``python -m benchmarks.serve {medialink,bare}``: one app under test, alone in this process.

``medialink`` is what ``medialink serve`` runs in HTTP mode (``bot.run.serve``), built
from the environment with ``load_settings``, with one difference: the Wix client's
rate limiter can be set with ``--wix-rate-limit``/``--wix-rate-period``. Production
keeps Wix's 180 calls per rolling minute, which would make any throughput run measure
the limiter instead of the app; the limiter itself is measured on its own.

``bare`` is the baseline: a minimal Bolt ``AsyncApp`` whose only listener acks
``/medialink``, served the way Bolt's own aiohttp adapter serves an app (the same
``to_bolt_request``/``to_aiohttp_response`` as MediaLink's server, on aiohttp, on
loopback, with the same signing secret). It imports nothing from ``bot``.
``bare-direct`` is the same app with ``process_before_response=True``, as MediaLink
runs: Bolt answers when the listener returns instead of polling for the ack every
10 ms, the fastest a Bolt app acks.

``--experiment NAME`` applies one of the what-if variants of benchmarks/experiments.py
(never by default). Both apps print ``READY <port>`` on stdout once listening (port 0
picks a free one) and stop on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from benchmarks.experiments import EXPERIMENTS, apply


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _ready(port: int) -> None:
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()


async def serve_medialink(
    rate_limit: int | None, rate_period: float, experiments: Sequence[str] = ()
) -> None:
    from bot.app import build_app  # noqa: PLC0415 - only this app loads MediaLink
    from bot.config import load_settings  # noqa: PLC0415
    from bot.dispatch import CALM, GIVE_WAY_LIMIT, Dispatcher  # noqa: PLC0415
    from bot.logs import configure_logging  # noqa: PLC0415
    from bot.policy import link_rules  # noqa: PLC0415
    from bot.run import freeze_start_up_objects, readiness  # noqa: PLC0415
    from bot.server import start_http_server  # noqa: PLC0415
    from bot.services import (  # noqa: PLC0415
        Services,
        build_audit_trail,
        build_services,
        build_wix_auth,
    )
    from bot.wix.client import RetryPolicy, WixMediaClient  # noqa: PLC0415
    from bot.wix.links import LinkService  # noqa: PLC0415
    from bot.wix.ratelimit import RateLimiter  # noqa: PLC0415

    settings = load_settings(env_file=None)
    settings.wix_credentials()
    settings.require_slack()
    configure_logging(settings.log_level)
    for experiment in experiments:
        apply(experiment)  # no-gc-freeze is applied below, after the app is built
    if rate_limit is None:
        services = build_services(settings)
    else:
        # build_services() with the limiter swapped; kept in step with bot/services.py.
        client = WixMediaClient(
            build_wix_auth(settings),
            base_url=settings.wix_api_url,
            retry=RetryPolicy(),
            sleep=asyncio.sleep,
            limiter=RateLimiter(rate_limit, rate_period),
        )
        services = Services(
            links=LinkService(
                client,
                rules=link_rules(settings),
                default_redirect_url=settings.medialink_expiration_redirect_url,
                user_files_per_minute=settings.medialink_user_files_per_minute,
            ),
            max_refs=settings.medialink_max_refs,
            audit=build_audit_trail(settings),
        )
    try:
        # As `medialink serve` does (bot/run.py): migrate the audit schema, then write
        # the trail in the background while serving; aclose() writes what is pending.
        await services.audit.start()
        dispatcher = Dispatcher(
            give_way_limit=0.0 if "no-give-way" in experiments else GIVE_WAY_LIMIT,
            calm=0.0 if "no-calm" in experiments else CALM,
            hold_collector="no-collector-hold" not in experiments,
        )
        app = build_app(settings, services, dispatcher)
        if "no-gc-freeze" not in experiments:
            freeze_start_up_objects()
        server = await start_http_server(
            app,
            dispatcher,
            signing_secret=os.environ["SLACK_SIGNING_SECRET"],
            host="127.0.0.1",
            port=0,
            readiness=readiness(services),
        )
        _ready(server.port)
        try:
            await _wait_for_stop()
        finally:
            await server.close()
    finally:
        await services.aclose()


async def serve_bare(*, process_before_response: bool = False) -> None:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: PLC0415
    from slack_bolt.async_app import AsyncAck, AsyncApp  # noqa: PLC0415
    from slack_sdk.web.async_client import AsyncWebClient  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO)
    app = AsyncApp(
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
        ),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=process_before_response,
    )

    @app.command("/medialink")
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    _ready(int(runner.addresses[0][1]))
    try:
        await _wait_for_stop()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve")
    parser.add_argument("app", choices=("medialink", "bare", "bare-direct"))
    parser.add_argument("--wix-rate-limit", type=int, default=None, metavar="CALLS")
    parser.add_argument("--wix-rate-period", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument(
        "--experiment",
        action="append",
        default=[],
        choices=EXPERIMENTS,
        help="a what-if variant of MediaLink (benchmarks/experiments.py)",
    )
    args = parser.parse_args()
    if args.app == "medialink":
        asyncio.run(serve_medialink(args.wix_rate_limit, args.wix_rate_period, args.experiment))
    else:
        asyncio.run(serve_bare(process_before_response=args.app == "bare-direct"))


if __name__ == "__main__":
    main()
