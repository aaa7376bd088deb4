"""3. Throughput at saturation, and CPU seconds per command.

The load generator keeps a fixed number of commands in flight at the HTTP level,
sending the next as soon as one is acked, so MediaLink's work after the ack piles
up and the app is saturated. End to end, MediaLink's rate is commands divided by the
time from the first send to the last reply complete in the sink; the bare Bolt app
only acks, so its rate is commands over the time to the last ack. CPU is the app
process's own (user + system, from /proc), over the same span.

The Wix rate limiter is lifted here (see benchmarks/serve.py): with production's 180
calls per minute and two Wix calls per one-file command, one instance makes links for
at most 90 such commands a minute, whatever its CPU could do.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from benchmarks.harness import Bench, one_file_commands
from benchmarks.machine import HostCpu
from benchmarks.plan import Plan
from benchmarks.stats import median, spread, summary_ms

APPS: tuple[Literal["medialink", "bare"], ...] = ("medialink", "bare")


def run(bench: Bench, plan: Plan) -> dict[str, Any]:
    bench.fakes.wix.latency = plan.throughput_wix_latency
    apps = {name: bench.app(name) for name in APPS}
    for app in apps.values():
        bench.warm_up(app)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in APPS}
    problems: list[str] = []
    for number in range(plan.runs):
        order = APPS if number % 2 == 0 else APPS[::-1]
        for name in order:
            app = apps[name]
            count = (
                plan.throughput_commands if name == "medialink" else plan.throughput_bare_commands
            )
            commands = one_file_commands(bench.fakes, count, offset=number)
            host_before = HostCpu.read()
            cpu_before = app.cpu_seconds()
            sent = bench.loadgen.run(
                app.port, commands.requests, concurrency=plan.throughput_concurrency
            )
            problems += [f"{name}: {p}" for p in sent.problems()[:3]]
            end = max(sent.t_ack)
            if name == "medialink":
                done = bench.replies(commands, within=600)
                if done.missing or done.refused:
                    problems.append(f"{name}: {len(done.missing) + len(done.refused)} replies lost")
                end = max(done.completed.values(), default=end)
                count = len(done.completed)
            time.sleep(0.2)  # let the app finish what it was closing
            cpu = app.cpu_seconds() - cpu_before
            busy = HostCpu.read().busy_fraction_since(host_before)
            elapsed = end - min(sent.t_send)
            acks = summary_ms(sent.ack_seconds())
            results[name].append(
                {
                    "commands": float(count),
                    "seconds": elapsed,
                    "per_second": count / elapsed if elapsed > 0 else 0.0,
                    "cpu_ms_per_command": cpu / count * 1000 if count else 0.0,
                    "ack_p50_ms": acks["p50_ms"],
                    "ack_p99_ms": acks["p99_ms"],
                    "host_busy_fraction": busy,
                }
            )
            bench.fakes.wix.reset()
    rows = []
    for name in APPS:
        runs = results[name]
        rows.append(
            {
                "app": name,
                "per_second": median([r["per_second"] for r in runs]),
                "per_second_range": spread([r["per_second"] for r in runs]),
                "cpu_ms_per_command": median([r["cpu_ms_per_command"] for r in runs]),
                "ack_p50_ms": median([r["ack_p50_ms"] for r in runs]),
                "ack_p99_ms": median([r["ack_p99_ms"] for r in runs]),
                "host_busy_fraction": median([r["host_busy_fraction"] for r in runs]),
            }
        )
    return {
        "wix_latency_s": plan.throughput_wix_latency,
        "in_flight": plan.throughput_concurrency,
        "rows": rows,
        "per_run": results,
        "problems": problems[:20],
    }
