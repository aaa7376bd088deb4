"""6. Before and after: MediaLink as it is next to the fixes proposed for it.

Each variant is MediaLink with one or more of benchmarks/experiments.py applied, in its
own process; all of them, and the bare Bolt app, get the same bursts of commands (10,
50 and 200 at once; Wix at 300 ms) in rotating order, run after run. Reported: ack
p50/p99 and its ratio to bare Bolt's, reply time and the app's CPU per command; then,
Wix at 200 ms, the fan-out ratio (a 20-file command's reply time over a one-file
command's).
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.fanout import fan_out
from benchmarks.harness import AppProcess, Bench, one_file_commands
from benchmarks.plan import Plan
from benchmarks.stats import median, summary_ms

BARE = "bare Bolt (ack only)"
VARIANTS: dict[str, tuple[str, ...]] = {
    "as is": (),
    "- calm (give way to pending acks only)": ("no-calm",),
    "- give way (work starts at its own ack)": ("no-give-way",),
    "- collector hold (collections during a burst's acks)": ("no-collector-hold",),
}


def run(bench: Bench, plan: Plan) -> dict[str, Any]:
    fakes = bench.fakes
    fakes.wix.latency = 0.3
    levels = plan.whatif_levels
    apps: dict[str, AppProcess] = {
        name: bench.start(
            AppProcess.runner(f"whatif-{index}", "medialink", fakes, experiments=experiments)
        )
        for index, (name, experiments) in enumerate(VARIANTS.items())
    }
    apps[BARE] = bench.app("bare")
    for app in apps.values():
        bench.warm_up(app)
    results: dict[tuple[str, int], list[dict[str, float]]] = {
        (name, level): [] for name in apps for level in levels
    }
    names = list(apps)
    try:
        for number in range(plan.whatif_runs):
            shift = number % len(names)
            for level in levels:
                for name in names[shift:] + names[:shift]:
                    results[name, level].append(_burst(bench, apps[name], level, number))
            if plan.fanout_sizes:
                fakes.wix.latency = plan.fanout_wix_latency
                for name in names[shift:] + names[:shift]:
                    if apps[name].name == "bare":
                        continue
                    one, _ = fan_out(bench, apps[name], 1)
                    twenty, _ = fan_out(bench, apps[name], 20)
                    if one and twenty:
                        results[name, levels[-1]][-1]["fanout_20_vs_1"] = twenty / one
                fakes.wix.latency = 0.3
    finally:
        for app in apps.values():
            if app.name != "bare":
                bench.stop(app)
    rows = []
    for (name, level), runs in results.items():
        keys = sorted({key for run in runs for key in run})
        row: dict[str, Any] = {
            "variant": name,
            "concurrency": level,
            "experiments": list(VARIANTS.get(name, ())),
        } | {key: median([run[key] for run in runs if key in run]) for key in keys}
        bare_runs = results[BARE, level]
        row["ratio_p99_vs_bare"] = median(
            [
                run["ack_p99_ms"] / bare["ack_p99_ms"]
                for run, bare in zip(runs, bare_runs, strict=True)
                if bare["ack_p99_ms"] > 0
            ]
        )
        rows.append(row)
    rows.sort(key=lambda row: (row["concurrency"], names.index(row["variant"])))
    return {"levels": list(levels), "wix_latency_s": 0.3, "runs": plan.whatif_runs, "rows": rows}


def _burst(bench: Bench, app: AppProcess, level: int, number: int) -> dict[str, float]:
    commands = one_file_commands(bench.fakes, level, offset=number)
    cpu_before = app.cpu_seconds()
    sent = bench.burst(app, commands)
    reply = {"p50_ms": 0.0, "p99_ms": 0.0}
    if app.name != "bare":
        done = bench.replies(commands, within=120)
        reply = summary_ms(bench.reply_seconds(commands, sent, done))
    time.sleep(0.2)
    acks = summary_ms(sent.ack_seconds())
    bench.fakes.wix.reset()
    return {
        "ack_p50_ms": acks["p50_ms"],
        "ack_p99_ms": acks["p99_ms"],
        "reply_p50_ms": reply["p50_ms"],
        "reply_p99_ms": reply["p99_ms"],
        "cpu_ms_per_command": (app.cpu_seconds() - cpu_before) / level * 1000,
    }
