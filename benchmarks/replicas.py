"""9. Several replicas: throughput and reply latency with one and with two replicas.

Both setups run the real ``medialink serve`` (the console script's code, HTTP mode)
with ``REDIS_URL`` and a PostgreSQL ``DATABASE_URL``, so the number of replicas is the
only difference. Redis and PostgreSQL are throwaway servers started here the way the
test suite starts them (``MEDIALINK_TEST_REDIS_URL`` / ``MEDIALINK_TEST_POSTGRES_URL``
are used instead when set). The same commands, with the same number in flight in all,
are split evenly over the replicas, one load generator per replica.

Wix's limit is scaled so it is not what is measured (``WIX_RATE_LIMIT`` 200 per
``WIX_RATE_PERIOD`` 0.1 s), yet every Wix call still takes its place in the shared
Redis window. In production the shared limit (180 calls a minute) bounds both setups
alike: a second replica adds CPU and availability, not Wix calls.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.footprint import _serve_command
from benchmarks.harness import AppProcess, Bench, Commands, LoadGen, LoadResult, one_file_commands
from benchmarks.plan import Plan
from benchmarks.stats import median, spread, summary_ms
from tests.audit.postgres import PostgresCluster
from tests.replicas.redis_server import RedisServer

RATE_LIMIT = 200
RATE_PERIOD = 0.1


@contextlib.contextmanager
def shared_servers() -> Iterator[tuple[str, str]]:
    """(Redis URL, PostgreSQL URL): from the environment, or servers started here."""
    with contextlib.ExitStack() as stack:
        redis_url = os.environ.get("MEDIALINK_TEST_REDIS_URL")
        if not redis_url:
            redis = RedisServer()
            stack.callback(redis.destroy)
            redis.start()
            redis_url = redis.url
        postgres_url = os.environ.get("MEDIALINK_TEST_POSTGRES_URL")
        if not postgres_url:
            postgres = PostgresCluster()
            stack.callback(postgres.destroy)
            postgres.start()
            postgres_url = postgres.url
        yield redis_url, postgres_url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _split(commands: Commands, parts: int) -> list[Commands]:
    return [
        Commands(
            commands.requests[index::parts],
            commands.response_urls[index::parts],
            commands.files_per_command[index::parts],
        )
        for index in range(parts)
    ]


def _send(
    loadgens: list[LoadGen], replicas: list[AppProcess], parts: list[Commands], in_flight: int
) -> list[LoadResult]:
    """Each part to its replica at once, from its own load generator, in parallel."""
    results: list[LoadResult | None] = [None] * len(parts)
    errors: list[BaseException] = []

    def drive(index: int) -> None:
        try:
            results[index] = loadgens[index].run(
                replicas[index].port,
                parts[index].requests,
                concurrency=max(1, in_flight // len(parts)),
            )
        except BaseException as error:  # reported by the caller
            errors.append(error)

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(parts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    if errors or any(result is None for result in results):
        raise RuntimeError(f"a load generator failed: {errors[:1]}")
    return [result for result in results if result is not None]


def _measure(
    bench: Bench, plan: Plan, replicas: list[AppProcess], loadgens: list[LoadGen], number: int
) -> tuple[dict[str, float], list[str]]:
    commands = one_file_commands(bench.fakes, plan.replicas_commands, offset=number)
    parts = _split(commands, len(replicas))
    sent = _send(loadgens, replicas, parts, plan.replicas_concurrency)
    problems = [p for result in sent for p in result.problems()[:3]]
    done = bench.replies(commands, within=600)
    if done.missing or done.refused:
        problems.append(f"{len(done.missing) + len(done.refused)} replies lost")
    first_send = min(t for result in sent for t in result.t_send)
    end = max(done.completed.values(), default=first_send)
    replies = [
        reply_seconds
        for part, result in zip(parts, sent, strict=True)
        for reply_seconds in bench.reply_seconds(part, result, done)
    ]
    acks = summary_ms([s for result in sent for s in result.ack_seconds()])
    reply = summary_ms(replies)
    elapsed = end - first_send
    bench.fakes.wix.reset()
    return {
        "commands": float(len(done.completed)),
        "per_second": len(done.completed) / elapsed if elapsed > 0 else 0.0,
        "reply_p50_ms": reply["p50_ms"],
        "reply_p99_ms": reply["p99_ms"],
        "ack_p50_ms": acks["p50_ms"],
        "ack_p99_ms": acks["p99_ms"],
    }, problems


def run(bench: Bench, plan: Plan) -> dict[str, Any]:
    bench.fakes.wix.latency = plan.replicas_wix_latency
    rows: list[dict[str, Any]] = []
    per_run: dict[str, list[dict[str, float]]] = {}
    problems: list[str] = []
    with (
        shared_servers() as (redis_url, postgres_url),
        tempfile.TemporaryDirectory(prefix="medialink-bench-replicas-") as workdir,
    ):
        for count in (1, 2):
            replicas: list[AppProcess] = []
            loadgens = [bench.loadgen] + [LoadGen() for _ in range(count - 1)]
            try:
                for index in range(count):
                    port = _free_port()
                    env = bench.fakes.app_env(
                        HOST="127.0.0.1",
                        PORT=str(port),
                        REDIS_URL=redis_url,
                        DATABASE_URL=postgres_url,
                        WIX_RATE_LIMIT=str(RATE_LIMIT),
                        WIX_RATE_PERIOD=str(RATE_PERIOD),
                        MEDIALINK_REPLICAS="2",
                    )
                    process = bench.start(
                        AppProcess(
                            f"medialink-replica-{count}-{index}",
                            _serve_command(),
                            env,
                            Path(workdir),
                        )
                    )
                    replicas.append(process)
                    process.wait_healthy(port)
                for replica in replicas:
                    bench.warm_up(replica)
                runs = []
                for number in range(plan.runs):
                    figures, found = _measure(bench, plan, replicas, loadgens, number)
                    runs.append(figures)
                    problems += [f"{count} replica(s): {p}" for p in found]
            finally:
                for replica in replicas:
                    bench.stop(replica)
                for loadgen in loadgens[1:]:
                    loadgen.close()
            per_run[str(count)] = runs
            rows.append(
                {
                    "replicas": count,
                    "per_second": median([r["per_second"] for r in runs]),
                    "per_second_range": spread([r["per_second"] for r in runs]),
                    "reply_p50_ms": median([r["reply_p50_ms"] for r in runs]),
                    "reply_p99_ms": median([r["reply_p99_ms"] for r in runs]),
                    "ack_p99_ms": median([r["ack_p99_ms"] for r in runs]),
                }
            )
    return {
        "wix_latency_s": plan.replicas_wix_latency,
        "in_flight": plan.replicas_concurrency,
        "commands": plan.replicas_commands,
        "rate_limit": RATE_LIMIT,
        "rate_period_s": RATE_PERIOD,
        "rows": rows,
        "per_run": per_run,
        "problems": problems[:20],
    }
