"""2. Fan-out: one command with 1, 5, 20 or 50 files, and the client-side rate limiter.

Fan-out: the time from sending the command to the last file's link arriving in the
response_url sink (a 50-file reply comes as several messages), Wix answering every
call in 200 ms. The link service asks for every file at once next to one bulk
descriptor call, so the time should stay near one Wix round trip.

Limiter: a separate MediaLink whose Wix limiter allows only a few calls per short
window, sent a burst that needs several windows. FakeWix records when each call
arrived; the largest number in any rolling window is compared with the bound. That
is what Wix itself counts, so calls held up between the limiter and the wire (a new
connection, a busy event loop) would show here as a window over the bound.
"""

from __future__ import annotations

import bisect
import math
import time
from typing import Any

from benchmarks.harness import AppProcess, Bench, one_file_commands, signed_commands
from benchmarks.plan import Plan
from benchmarks.stats import median, spread


def run_fanout(bench: Bench, plan: Plan) -> dict[str, Any]:
    fakes = bench.fakes
    fakes.wix.latency = plan.fanout_wix_latency
    # A fresh app: what earlier sections left in its Wix connection pool changes the cost.
    app = bench.start(AppProcess.runner("medialink-fanout", "medialink", fakes))
    largest = max(plan.fanout_sizes)
    if len(fakes.files) < largest:
        fakes.add_files(largest - len(fakes.files))
    times: dict[int, list[float]] = {size: [] for size in plan.fanout_sizes}
    details: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    try:
        bench.warm_up(app, count=2)
        for number in range(plan.fanout_runs):
            sizes = list(plan.fanout_sizes)
            sizes = sizes[number % len(sizes) :] + sizes[: number % len(sizes)]  # vary the order
            for size in sizes:
                seconds, detail = fan_out(bench, app, size)
                if seconds is None:
                    problems.append(f"{size} files: reply incomplete or refused")
                    continue
                times[size].append(seconds)
                details[size] = detail
                time.sleep(0.05)
        # The same after a burst of 50 one-file commands has grown the Wix connection pool
        # (httpx keeps idle connections for 5 s), as happens in a busy app.
        after_burst: dict[int, list[float]] = {1: [], 20: []}
        for _ in range(max(1, plan.fanout_runs // 2)):
            burst = one_file_commands(fakes, 50)
            bench.burst(app, burst)
            bench.replies(burst, within=120)
            for size, samples in after_burst.items():
                seconds, _ = fan_out(bench, app, size)
                if seconds is not None:
                    samples.append(seconds)
    finally:
        bench.stop(app)
    one = median(times[min(plan.fanout_sizes)]) if times else math.nan
    rows = []
    for size in plan.fanout_sizes:
        reply = median(times[size]) * 1000
        low, high = spread(times[size])
        rows.append(
            {
                "files": size,
                "reply_ms": reply,
                "reply_ms_range": (low * 1000, high * 1000),
                "vs_one_file": reply / (one * 1000) if one else math.nan,
                "runs": len(times[size]),
                **details.get(size, {}),
            }
        )
    at_20 = next((row for row in rows if row["files"] == 20), None)
    burst_one, burst_twenty = median(after_burst[1]), median(after_burst[20])
    return {
        "after_burst": {
            "one_file_ms": burst_one * 1000,
            "twenty_files_ms": burst_twenty * 1000,
            "vs_one_file": burst_twenty / burst_one if burst_one else math.nan,
        },
        "wix_latency_s": plan.fanout_wix_latency,
        "rows": rows,
        "targets": {
            "20_files_under_1.5x_one_file": None if at_20 is None else at_20["vs_one_file"] < 1.5
        },
        "problems": problems[:20],
    }


def fan_out(bench: Bench, app: AppProcess, size: int) -> tuple[float | None, dict[str, Any]]:
    """One command with ``size`` files: seconds until its reply is complete, and details."""
    fakes = bench.fakes
    commands = signed_commands(fakes.slack, [fakes.files[:size]])
    fakes.wix.reset()
    sent = bench.loadgen.run(app.port, commands.requests, concurrency=1)
    done = bench.replies(commands, within=60)
    if sent.problems() or done.missing or done.refused:
        return None, {}
    starts = sorted(request.started for request in fakes.wix.requests)
    return bench.reply_seconds(commands, sent, done)[0], {
        "messages": done.messages[commands.response_urls[0]],
        "wix_calls": len(starts),
        "wix_max_in_flight": fakes.wix.max_in_flight,
        # How long the app took to put all its Wix calls on the wire.
        "wix_calls_spread_ms": (starts[-1] - starts[0]) * 1000 if starts else 0.0,
    }


def max_in_window(starts: list[float], period: float) -> int:
    """The most calls that began within any half-open window [t, t + period)."""
    ordered = sorted(starts)
    return max(
        (
            bisect.bisect_left(ordered, start + period) - index
            for index, start in enumerate(ordered)
        ),
        default=0,
    )


def run_limiter(bench: Bench, plan: Plan) -> dict[str, Any]:
    fakes = bench.fakes
    fakes.wix.latency = 0.05
    limit, period = plan.limiter_limit, plan.limiter_period
    app = bench.start(
        AppProcess.runner(
            "medialink-limited",
            "medialink",
            fakes,
            wix_rate_limit=limit,
            wix_rate_period=period,
        )
    )
    try:
        fakes.wix.reset()
        commands = one_file_commands(fakes, plan.limiter_commands)
        sent = bench.burst(app, commands)
        calls_needed = 2 * plan.limiter_commands
        within = (calls_needed / limit + 2) * period + 30
        done = bench.replies(commands, within=within)
        starts = [request.started for request in fakes.wix.requests]
    finally:
        bench.stop(app)
    observed = max_in_window(starts, period)
    duration = max(starts) - min(starts) if starts else 0.0
    ordered = sorted(starts)
    # Call i + limit must not reach Wix less than `period` after call i.
    gaps = [later - earlier for earlier, later in zip(ordered, ordered[limit:], strict=False)]
    return {
        "limit": limit,
        "period_s": period,
        "commands": plan.limiter_commands,
        "wix_calls": len(starts),
        "max_calls_in_any_window": observed,
        # With `limit` allowed at once, the rest need ceil(calls / limit) - 1 more windows.
        "min_duration_s": (math.ceil(len(starts) / limit) - 1) * period if starts else 0.0,
        "duration_s": duration,
        "shortest_span_of_limit_plus_one_calls_s": min(gaps) if gaps else None,
        "replies_complete": len(done.completed),
        "acks_ok": not sent.problems(),
        "targets": {"limiter_keeps_calls_within_bound": observed <= limit},
    }
