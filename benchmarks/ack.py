"""1. Ack latency under concurrency: MediaLink next to a bare Bolt app, in the same run.

A burst is N signed ``/medialink`` commands sent at once, each on its own (already
open) connection; the ack time is from writing a request to reading its whole HTTP
answer. Wix answers in 300 ms, so MediaLink's Wix calls are in flight while later
acks are due. After each MediaLink burst the run waits for every reply to reach the
response_url sink, so bursts do not overlap; that reply time is reported too.
The apps take turns burst by burst, in an order that rotates run by run, so a noisy
neighbour hits them all alike; a run's p99 at a level is over all its bursts there.

The issue's baseline is ``bare``: a minimal Bolt app as Bolt serves one by default,
which polls for the ack every 10 ms. MediaLink answers at ``ack()`` instead
(``process_before_response=True``), so it is also compared with ``bare-direct``, the
minimal app run that way: the fastest a Bolt app acks.

MediaLink runs as deployed: the access policy on (``users.info`` for each member, cached
5 minutes, before that member's first ack) and the audit trail writing a row per link
to the run's database (``--database``). The load comes from 200 members in turn, so
the first run meets each member once cold. After the section, the audit table must
hold a row for every file of every command MediaLink was sent; its count is reported.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.database import count_rows
from benchmarks.harness import AppName, Bench, one_file_commands
from benchmarks.plan import Plan
from benchmarks.stats import median, spread, summary_ms

APPS: tuple[AppName, ...] = ("medialink", "bare", "bare-direct")
BASELINES: tuple[AppName, ...] = ("bare", "bare-direct")
WARM_UP = 20  # one-file commands per app before timing
ROWS_WAIT = 30.0  # seconds for the trail's background writer to catch up


def _wait_for_rows(url: str, wanted: int) -> int:
    """The audit table's row count once it reaches ``wanted``, or after ``ROWS_WAIT``."""
    deadline = time.monotonic() + ROWS_WAIT
    while True:
        rows = count_rows(url)
        if rows >= wanted or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def run(bench: Bench, plan: Plan) -> dict[str, Any]:
    bench.fakes.wix.latency = plan.ack_wix_latency
    database_url = bench.fakes.database_url
    rows_before = count_rows(database_url) if database_url else 0
    users_info_before = len(bench.fakes.slack.calls_to("users.info"))
    apps = {name: bench.app(name) for name in APPS}
    for app in apps.values():
        bench.warm_up(app, WARM_UP)
    files_to_medialink = WARM_UP
    users_info_warm_up = len(bench.fakes.slack.calls_to("users.info")) - users_info_before
    users_info_per_run: list[int] = []
    levels = sorted(plan.ack_rounds)
    # per_run[app][level] = one summary per run
    per_run: dict[str, dict[int, list[dict[str, float]]]] = {
        name: {level: [] for level in levels} for name in (*APPS, "reply")
    }
    problems: list[str] = []
    for number in range(plan.runs):
        users_info_at_start = len(bench.fakes.slack.calls_to("users.info"))
        order = APPS[number % len(APPS) :] + APPS[: number % len(APPS)]
        for level in levels:
            acks: dict[str, list[float]] = {name: [] for name in (*APPS, "reply")}
            for _ in range(plan.ack_rounds[level]):
                # Burst by burst the apps take turns, so each meets the machine as the
                # others just did (its load moves from second to second on this machine).
                for name in order:
                    commands = one_file_commands(bench.fakes, level, offset=number)
                    sent = bench.burst(apps[name], commands)
                    problems += [f"{name} x{level}: {p}" for p in sent.problems()[:3]]
                    acks[name] += sent.ack_seconds()
                    if name == "medialink":
                        files_to_medialink += sum(commands.files_per_command)
                        done = bench.replies(commands, within=120)
                        if done.missing or done.refused:
                            problems.append(
                                f"{name} x{level}: {len(done.missing)} replies missing, "
                                f"{len(done.refused)} refused"
                            )
                        acks["reply"] += bench.reply_seconds(commands, sent, done)
                    bench.fakes.wix.reset()
                    time.sleep(0.05)
            for series, seconds in acks.items():
                per_run[series][level].append(summary_ms(seconds))
        users_info_per_run.append(
            len(bench.fakes.slack.calls_to("users.info")) - users_info_at_start
        )

    rows = []
    for level in levels:
        row: dict[str, Any] = {"concurrency": level}
        for series in (*APPS, "reply"):
            runs = per_run[series][level]
            for stat in ("p50_ms", "p99_ms", "max_ms"):
                row[f"{series}_{stat}"] = median([summary[stat] for summary in runs])
            row[f"{series}_p99_ms_range"] = spread([summary["p99_ms"] for summary in runs])
            row[f"{series}_samples_per_run"] = runs[0]["n"] if runs else 0
        for baseline in BASELINES:
            for stat in ("p50_ms", "p99_ms"):
                ratios = [
                    ml[stat] / bare[stat]
                    for ml, bare in zip(
                        per_run["medialink"][level], per_run[baseline][level], strict=True
                    )
                    if bare[stat] > 0
                ]
                prefix = "ratio" if baseline == "bare" else "ratio_direct"
                row[f"{prefix}_{stat}"] = median(ratios)
        rows.append(row)

    rows_expected = rows_before + files_to_medialink
    audit_rows = _wait_for_rows(database_url, rows_expected) if database_url else None
    if audit_rows is not None and audit_rows != rows_expected:
        problems.append(f"audit trail: {audit_rows} rows, expected {rows_expected}")

    at_50 = next((row for row in rows if row["concurrency"] == 50), None)
    return {
        "database": database_url.partition("+")[0] if database_url else None,
        "audit_rows": None if audit_rows is None else audit_rows - rows_before,
        "audit_rows_expected": files_to_medialink,
        "users_info_calls_warm_up": users_info_warm_up,
        "users_info_calls_per_run": users_info_per_run,
        "wix_latency_s": plan.ack_wix_latency,
        "runs": plan.runs,
        "bursts_per_run": {str(level): plan.ack_rounds[level] for level in levels},
        "rows": rows,
        "per_run": {
            name: {str(level): runs for level, runs in levels_runs.items()}
            for name, levels_runs in per_run.items()
        },
        "targets": {
            "p99_ack_at_50_under_100ms": None if at_50 is None else at_50["medialink_p99_ms"] < 100,
            "ratio_p99_under_1.5_at_every_level": all(row["ratio_p99_ms"] < 1.5 for row in rows),
            "ratio_p99_under_1.5_at_50": None if at_50 is None else at_50["ratio_p99_ms"] < 1.5,
            "audit_row_per_file": None if audit_rows is None else audit_rows == rows_expected,
            # Not the target: the same bound against the fastest-acking Bolt app.
            "ratio_direct_p99_under_1.5_at_every_level": all(
                row["ratio_direct_p99_ms"] < 1.5 for row in rows
            ),
        },
        "problems": problems[:20],
    }
