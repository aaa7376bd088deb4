"""``python -m benchmarks [--quick] [--only SECTIONS] [--database sqlite|postgres|both]``:
run, print a table, write JSON.

Every MediaLink started writes its audit trail to the run's database: an SQLite file in
the results folder (the default), or a throwaway PostgreSQL server on loopback
(benchmarks/database.py). With ``both``, the sections run on SQLite and then the ack
section runs again on PostgreSQL.

Writes ``benchmarks/results/latest.json`` (everything, per run) and ``latest.md`` (the
tables, as printed); the apps' logs go to ``benchmarks/results/*.log``. The folder is
git-ignored. A section that fails is reported and the others still run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import (
    ack,
    cli_startup,
    fairness,
    fanout,
    footprint,
    parser,
    picker,
    replicas,
    report,
    throughput,
    unsigned,
    whatif,
)
from benchmarks.database import DATABASES, Database, DatabaseUnavailable, database_url
from benchmarks.harness import RESULTS_DIR, Bench, Fakes, running_fakes
from benchmarks.machine import describe_machine, load_average
from benchmarks.plan import FULL, QUICK, Plan

SECTIONS = (
    "parser",
    "startup",
    "cli",
    "ack",
    "fanout",
    "limiter",
    "throughput",
    "whatif",
    "memory",
    "unsigned",
    "fairness",
    "replicas",
    "picker",
)
_FILES_IN_POOL = 60

_TARGETS = {
    ("ack", "p99_ack_at_50_under_100ms"): "1. p99 ack < 100 ms at 50 concurrent",
    ("ack", "ratio_p99_under_1.5_at_50"): "1. ack p99 MediaLink / bare Bolt < 1.5 at 50 concurrent",
    ("ack", "ratio_p99_under_1.5_at_every_level"): "1. ack p99 ratio < 1.5 at every concurrency",
    ("ack", "ratio_direct_p99_under_1.5_at_every_level"): (
        "(stricter, not the issue's) the same against bare Bolt with process_before_response"
    ),
    ("ack", "audit_row_per_file"): "1. an audit row for every file MediaLink was sent",
    ("ack@postgres", "ratio_p99_under_1.5_at_every_level"): (
        "1. ack p99 ratio < 1.5 at every concurrency (PostgreSQL)"
    ),
    ("ack@postgres", "audit_row_per_file"): (
        "1. an audit row for every file MediaLink was sent (PostgreSQL)"
    ),
    ("fanout", "20_files_under_1.5x_one_file"): "2. 20 files < 1.5 x one file",
    ("limiter", "limiter_keeps_calls_within_bound"): "2. Wix calls within the limiter's bound",
    ("memory", "memory_growth_bounded"): "4. memory growth bounded",
    ("cli", "offline_commands_import_no_heavy_package"): (
        "medialink parse and --help import no network, settings or storage package"
    ),
    ("parser", "parser_linear"): "5. parser cost linear (k <= 1.15 in time ~ size^k)",
    ("unsigned", "unsigned_all_401"): "7. every unsigned request answered 401",
    ("unsigned", "unsigned_reached_nothing"): (
        "7. no unsigned request reached Bolt (no Wix call, no response_url post)"
    ),
    ("unsigned", "signed_ack_p99_under_100ms_during_flood"): (
        "7. signed acks' p99 < 100 ms during the unsigned flood"
    ),
    ("fairness", "other_member_within_5s_before_flood_ends"): (
        "8. another member's link within 5 s, before the flood's last reply"
    ),
    ("picker", "p99_under_1s_with_wix_at_200ms"): (
        "10. type-ahead answer p99 < 1 s (Slack waits 3 s), Wix at 200 ms, none empty"
    ),
}


def _clean(value: Any) -> Any:
    """JSON without NaN (which strict readers refuse): NaN becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def _section(bench: Bench, plan: Plan, name: str) -> dict[str, Any]:
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "parser": lambda: parser.run(plan),
        "startup": lambda: footprint.run_startup(bench, plan),
        "cli": lambda: cli_startup.run(plan),
        "ack": lambda: ack.run(bench, plan),
        "fanout": lambda: fanout.run_fanout(bench, plan),
        "limiter": lambda: fanout.run_limiter(bench, plan),
        "throughput": lambda: throughput.run(bench, plan),
        "whatif": lambda: whatif.run(bench, plan),
        "memory": lambda: footprint.run_memory(bench, plan),
        "unsigned": lambda: unsigned.run(bench, plan),
        "fairness": lambda: fairness.run(bench, plan),
        "replicas": lambda: replicas.run(bench, plan),
        "picker": lambda: picker.run(bench, plan),
    }
    return runners[name]()


# Sections run again on each database after the first, with ``--database both``.
_PER_DATABASE = ("ack",)


def _run_sections(
    fakes: Fakes, plan: Plan, names: tuple[str, ...], suffix: str, results: dict[str, Any]
) -> None:
    bench = Bench(fakes)
    try:
        for name in names:
            key = name + suffix
            section_started = time.monotonic()
            sys.stderr.write(f"[bench] {key} …\n")
            sys.stderr.flush()
            try:
                results["sections"][key] = _section(bench, plan, name)
            except Exception as error:  # report it and measure what we can
                traceback.print_exc()
                results["problems"].append(f"{key}: {type(error).__name__}: {error}")
            results["section_seconds"][key] = round(time.monotonic() - section_started, 1)
            sys.stderr.write(f"[bench] {key} done in {results['section_seconds'][key]} s\n")
    finally:
        bench.close()  # every app stops, writing its pending audit rows, before the database


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    options.add_argument("--quick", action="store_true", help="a ~30 s smoke run")
    options.add_argument(
        "--only",
        metavar="SECTIONS",
        help=f"comma-separated sections to run, from: {', '.join(SECTIONS)}",
    )
    options.add_argument(
        "--with-whatif",
        action="store_true",
        help="also run section 6: MediaLink next to variants without one of its fixes (~35 s)",
    )
    options.add_argument(
        "--memory-commands",
        type=int,
        metavar="N",
        help="commands the memory section serves (a longer soak; default 10,000)",
    )
    options.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="LOG_FORMAT of the apps under test (json: one JSON object per log line)",
    )
    options.add_argument(
        "--database",
        choices=(*DATABASES, "both"),
        default="sqlite",
        help="the audit trail's database: an SQLite file in the results folder (default), "
        "a throwaway PostgreSQL on loopback, or both (the ack section on each)",
    )
    options.add_argument(
        "--out", type=Path, default=RESULTS_DIR / "latest.json", help="where to write the JSON"
    )
    args = options.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.memory_commands:
        plan = dataclasses.replace(plan, memory_commands=args.memory_commands)
    chosen = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        options.error(f"unknown section(s): {', '.join(unknown)}")
    if not args.only:
        skipped = () if args.with_whatif else plan.skip_by_default
        chosen = tuple(name for name in chosen if name not in skipped)

    started = time.monotonic()
    results: dict[str, Any] = {
        "plan": plan.name,
        "runs": plan.runs,
        "machine": describe_machine(),
        "sections": {},
        "section_seconds": {},
        "problems": [],
    }
    databases: tuple[Database, ...] = DATABASES if args.database == "both" else (args.database,)
    results["databases"] = list(databases)
    with running_fakes(wix_latency=plan.ack_wix_latency) as fakes:
        fakes.add_files(_FILES_IN_POOL)
        fakes.log_format = args.log_format
        results["log_format"] = args.log_format
        for index, database in enumerate(databases):
            names = chosen if index == 0 else tuple(n for n in chosen if n in _PER_DATABASE)
            if not names:
                continue
            try:
                with database_url(database) as url:
                    fakes.database_url = url
                    _run_sections(fakes, plan, names, "" if index == 0 else "@" + database, results)
            except DatabaseUnavailable as error:
                results["problems"].append(f"{database}: {error}")
                sys.stderr.write(f"[bench] {database}: {error}\n")
            finally:
                fakes.database_url = ""

    for section in results["sections"].values():
        results["problems"] += section.get("problems", [])
    results["targets"] = {
        label: results["sections"][section]["targets"].get(key)
        for (section, key), label in _TARGETS.items()
        if section in results["sections"]
    }
    results["load_average_at_end"] = load_average()
    results["seconds"] = time.monotonic() - started

    results = _clean(results)
    text = report.render(results)
    sys.stdout.write(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    sys.stdout.write(f"\nWrote {args.out} and {args.out.with_suffix('.md')}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
