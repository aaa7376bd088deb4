"""4b. Start-up of the offline commands: ``medialink parse`` and ``medialink --help``.

Each command runs as a fresh process (``python -m bot.cli …``, as the console script
does), timed from spawn to exit, several times, median reported; next to them, a
process that only imports the parser (``bot.wix.refs``) and one that imports nothing,
so the table shows what the command adds to the parser and what the interpreter costs.
The runs take turns, so a noisy moment hits all of them alike.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from benchmarks.plan import Plan
from benchmarks.stats import median, spread

URL = "https://static.wixstatic.com/media/2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"
# What an offline command must not import (tests/test_cli.py asserts the same).
HEAVY = ("aiohttp", "httpx", "pydantic", "slack_bolt", "slack_sdk", "sqlalchemy")
COMMANDS: dict[str, list[str]] = {
    "python (nothing imported)": ["-c", "pass"],
    "import bot.wix.refs (the parser alone)": ["-c", "import bot.wix.refs"],
    "medialink parse URL": ["-m", "bot.cli", "parse", URL],
    "medialink --help": ["-m", "bot.cli", "--help"],
}
PARSER_ALONE = "import bot.wix.refs (the parser alone)"
TIMEOUT = 60.0  # seconds: one run


def _time_once(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=TIMEOUT,
    )
    return time.perf_counter() - started


def _heavy_imported(args: list[str]) -> list[str]:
    """The heavy packages a command imports, from ``-X importtime``."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    )
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return sorted(names & set(HEAVY))


def run(plan: Plan) -> dict[str, Any]:
    seconds: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for args in COMMANDS.values():  # warm the file cache, untimed
        _time_once(args)
    for _ in range(plan.cli_startup_runs):
        for name, args in COMMANDS.items():
            seconds[name].append(_time_once(args))
    parser_ms = median(seconds[PARSER_ALONE]) * 1000
    rows = []
    for name, args in COMMANDS.items():
        ms = median(seconds[name]) * 1000
        low, high = spread(seconds[name])
        rows.append(
            {
                "command": name,
                "runs": len(seconds[name]),
                "median_ms": ms,
                "range_ms": (low * 1000, high * 1000),
                "vs_parser_alone_ms": ms - parser_ms,
                "heavy_imported": _heavy_imported(args) if args[0] == "-m" else [],
            }
        )
    return {
        "python": sys.executable.rsplit("/", 1)[-1],
        "rows": rows,
        "targets": {
            "offline_commands_import_no_heavy_package": all(
                not row["heavy_imported"] for row in rows
            ),
        },
    }
