"""The results as Markdown tables: printed, and written next to the JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _num(value: Any, digits: int | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if digits is None:
            digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
        return f"{value:,.{digits}f}"
    return str(value)


def _range(pair: Sequence[float] | None) -> str:
    if not pair:
        return "-"
    return f"{_num(pair[0])}-{_num(pair[1])}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_num(cell) if not isinstance(cell, str) else cell for cell in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _verdict(value: bool | None) -> str:
    return "n/a" if value is None else "MET" if value else "MISSED"


_DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _ack(ack: dict[str, Any]) -> list[str]:
    database = ack.get("database")
    on = f"; audit trail on {_DATABASE_NAMES.get(database, database)}" if database else ""
    audit = (
        []
        if ack.get("audit_rows") is None
        else [
            f"Audit trail: {ack['audit_rows']:,} rows written for "
            f"{ack['audit_rows_expected']:,} files sent to MediaLink (warm-up included). "
            f"users.info calls (the access policy's directory, cached 5 minutes): "
            f"{ack.get('users_info_calls_warm_up')} in the warm-up, "
            f"{' / '.join(str(n) for n in ack.get('users_info_calls_per_run', []))} by run.",
            "",
        ]
    )
    return [
        f"## 1. Ack latency, ms (Wix answers in {ack['wix_latency_s'] * 1000:.0f} ms{on})",
        "",
        table(
            [
                "concurrent",
                "MediaLink p50",
                "p99",
                "max",
                "p99 range",
                "bare Bolt p50",
                "p99",
                "max",
                "ratio p50",
                "ratio p99",
                "reply p50",
                "reply p99",
            ],
            [
                [
                    row["concurrency"],
                    row["medialink_p50_ms"],
                    row["medialink_p99_ms"],
                    row["medialink_max_ms"],
                    _range(row["medialink_p99_ms_range"]),
                    row["bare_p50_ms"],
                    row["bare_p99_ms"],
                    row["bare_max_ms"],
                    row["ratio_p50_ms"],
                    row["ratio_p99_ms"],
                    row["reply_p50_ms"],
                    row["reply_p99_ms"],
                ]
                for row in ack["rows"]
            ],
        ),
        "",
        "Ratio = MediaLink / bare Bolt, per run, median. Reply = command sent → its links "
        "in the response_url sink.",
        "",
        "Against bare Bolt with `process_before_response=True` (answers when the listener "
        "returns, without the default 10 ms poll for the ack, as MediaLink does):",
        "",
        table(
            [
                "concurrent",
                "MediaLink p99",
                "bare Bolt (direct) p50",
                "p99",
                "ratio p50",
                "ratio p99",
            ],
            [
                [
                    row["concurrency"],
                    row["medialink_p99_ms"],
                    row["bare-direct_p50_ms"],
                    row["bare-direct_p99_ms"],
                    row["ratio_direct_p50_ms"],
                    row["ratio_direct_p99_ms"],
                ]
                for row in ack["rows"]
            ],
        ),
        "",
        *audit,
    ]


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    out = [
        f"# MediaLink benchmarks ({results['plan']} run, {machine['started_at']})",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
        f"{machine['memory_mib'] // 1024} GiB, Python {machine['python']}, "
        f"{machine['platform']}. Shared with other engineers' test runs: load average "
        f"{' / '.join(str(v) for v in machine['load_average_at_start'])} at the start, "
        f"{' / '.join(str(v) for v in results.get('load_average_at_end', []))} at the end. "
        f"Figures are medians over {results['runs']} run(s) unless stated; ranges are "
        "min-max across runs.",
        "",
    ]
    sections = results["sections"]

    for key in sorted(name for name in sections if name == "ack" or name.startswith("ack@")):
        out += _ack(sections[key])

    if "fanout" in sections:
        fan = sections["fanout"]
        out += [
            f"## 2. Fan-out (Wix answers in {fan['wix_latency_s'] * 1000:.0f} ms)",
            "",
            table(
                [
                    "files",
                    "reply ms",
                    "range",
                    "x one file",
                    "messages",
                    "Wix calls",
                    "max in flight",
                    "calls spread ms",
                ],
                [
                    [
                        row["files"],
                        row["reply_ms"],
                        _range(row["reply_ms_range"]),
                        row["vs_one_file"],
                        row.get("messages"),
                        row.get("wix_calls"),
                        row.get("wix_max_in_flight"),
                        row.get("wix_calls_spread_ms"),
                    ]
                    for row in fan["rows"]
                ],
            ),
            "",
            "Calls spread = first to last Wix call's arrival: the time the app took to send "
            "them all. Right after a burst of 50 commands (Wix connection pool grown): one file "
            f"{_num(fan['after_burst']['one_file_ms'])} ms, 20 files "
            f"{_num(fan['after_burst']['twenty_files_ms'])} ms, "
            f"{_num(fan['after_burst']['vs_one_file'])} x.",
            "",
        ]
    if "limiter" in sections:
        lim = sections["limiter"]
        out += [
            f"Rate limiter, configured to {lim['limit']} calls per {lim['period_s']:g} s: "
            f"{lim['commands']} commands made {lim['wix_calls']} Wix calls over "
            f"{lim['duration_s']:.2f} s (at least {lim['min_duration_s']:.2f} s needed); "
            f"by arrival time at Wix, the most in any rolling {lim['period_s']:g} s window was "
            f"{lim['max_calls_in_any_window']} (bound {lim['limit']}), and the shortest span "
            f"holding {lim['limit'] + 1} calls was "
            f"{_num(lim['shortest_span_of_limit_plus_one_calls_s'], 3)} s "
            f"(bound {lim['period_s']:g} s); "
            f"{lim['replies_complete']}/{lim['commands']} replies complete.",
            "",
        ]

    if "throughput" in sections:
        thr = sections["throughput"]
        out += [
            f"## 3. Throughput at saturation (Wix {thr['wix_latency_s'] * 1000:.0f} ms, "
            f"{thr['in_flight']} requests in flight)",
            "",
            table(
                ["app", "commands/s", "range", "CPU ms/command", "ack p50", "ack p99", "host busy"],
                [
                    [
                        "MediaLink (ack + reply delivered)"
                        if row["app"] == "medialink"
                        else "bare Bolt (ack only)",
                        row["per_second"],
                        _range(row["per_second_range"]),
                        row["cpu_ms_per_command"],
                        row["ack_p50_ms"],
                        row["ack_p99_ms"],
                        f"{row['host_busy_fraction'] * 100:.0f}%",
                    ]
                    for row in thr["rows"]
                ],
            ),
            "",
        ]

    if "startup" in sections or "memory" in sections:
        out += ["## 4. Memory and start-up", ""]
        rows: list[list[Any]] = []
        if "startup" in sections:
            st = sections["startup"]
            rows.append(
                [
                    f"`{st['command']}` start → /healthz 200",
                    f"{_num(st['to_healthz_ms'])} ms (range {_range(st['to_healthz_ms_range'])})",
                ]
            )
            rows.append(["RSS idle (`medialink serve`)", f"{_num(st['idle_rss_mib'])} MiB"])
        if "memory" in sections:
            mem = sections["memory"]
            rows += [
                ["RSS idle (benchmark runner)", f"{_num(mem['idle_rss_mib'])} MiB"],
                ["RSS after warm-up", f"{_num(mem['after_warmup_rss_mib'])} MiB"],
                [
                    f"RSS after {mem['commands']:,} commands "
                    f"(at most {mem['unanswered_at_most']} unanswered at once)",
                    f"{_num(mem['final_rss_mib'])} MiB (peak {_num(mem['peak_rss_mib'])} MiB)",
                ],
                [
                    "growth after warm-up / in the second half",
                    f"{_num(mem['growth_mib'])} / {_num(mem['second_half_growth_mib'])} MiB "
                    f"(bound {_num(mem['bound']['max_growth_mib'])} / "
                    f"{_num(mem['bound']['max_second_half_growth_mib'])} MiB)",
                ],
                [
                    "RSS by commands served",
                    ", ".join(
                        f"{point['commands']:,}: {point['rss_mib']:.1f}" for point in mem["series"]
                    ),
                ],
            ]
        out += [table(["", ""], rows), ""]

    if "cli" in sections:
        out += _cli_startup(sections["cli"])

    if "parser" in sections:
        par = sections["parser"]
        out += ["## 5. Parser (`parse_media_refs`, in process)", ""]
        rows = []
        for shape, shape_rows in par["shapes"].items():
            rows += [
                [
                    shape,
                    row["kib"],
                    row["refs"],
                    row["ms"],
                    row["refs_per_second"],
                    row["us_per_kib"],
                    row["per_kib_vs_4kib"],
                ]
                for row in shape_rows
            ]
        out += [
            table(["text", "KiB", "refs", "ms/parse", "refs/s", "us/KiB", "us/KiB vs 4 KiB"], rows),
            "",
        ]
        exponents = ", ".join(
            f"{shape} {_num(value, 2)}" for shape, value in par["growth_exponent"].items()
        )
        out += [
            f"Fitted k in time ~ size^k from 4 KiB up (1 = linear, 2 = quadratic): {exponents}.",
            "",
        ]
        four = par["four_kib_message"]
        if four["refs_per_second"] is not None:
            out += [
                f"A 4 KiB message with {_num(four['refs'])} references: "
                f"{_num(four['refs_per_second'])} references/s; "
                f"{_num(four['ms_with_app_max_refs'], 3)} ms per parse with the app's limit of "
                f"{four['app_max_refs']} references.",
                "",
            ]

    if "whatif" in sections:
        wi = sections["whatif"]
        out += [
            f"## 6. Before and after (bursts, Wix {wi['wix_latency_s'] * 1000:.0f} ms; "
            "benchmarks/experiments.py)",
            "",
            table(
                [
                    "concurrent",
                    "variant",
                    "ack p50",
                    "ack p99",
                    "ratio p99 vs bare",
                    "reply p50",
                    "reply p99",
                    "CPU ms/command",
                    "20 files / 1 file",
                ],
                [
                    [
                        row["concurrency"],
                        row["variant"],
                        row["ack_p50_ms"],
                        row["ack_p99_ms"],
                        row["ratio_p99_vs_bare"],
                        row["reply_p50_ms"] or "-",
                        row["reply_p99_ms"] or "-",
                        row["cpu_ms_per_command"],
                        row.get("fanout_20_vs_1", "-"),
                    ]
                    for row in wi["rows"]
                ],
            ),
            "",
        ]

    if "unsigned" in sections:
        out += _unsigned(sections["unsigned"])
    if "fairness" in sections:
        out += _fairness(sections["fairness"])
    if "replicas" in sections:
        out += _replicas(sections["replicas"])
    if "picker" in sections:
        out += _picker(sections["picker"])

    targets = results.get("targets", {})
    if targets:
        out += [
            "## Targets",
            "",
            table(["target", "result"], [[k, _verdict(v)] for k, v in targets.items()]),
            "",
        ]
    problems = results.get("problems", [])
    if problems:
        out += ["## Problems seen", "", *[f"- {problem}" for problem in problems], ""]
    out.append(f"Total time: {results['seconds']:.0f} s.")
    return "\n".join(out) + "\n"


def _picker(pick: dict[str, Any]) -> list[str]:
    return [
        f"## 10. The form's type-ahead (`block_suggestion`, Wix "
        f"{pick['wix_latency_s'] * 1000:.0f} ms, MediaLink's deadline "
        f"{pick['deadline_s']:g} s, Slack's 3 s)",
        "",
        table(
            ["in flight", "p50 (ms)", "p95", "p99", "p99 range", "max", "answers", "empty"],
            [
                [
                    str(row["concurrency"]),
                    row["p50_ms"],
                    row["p95_ms"],
                    row["p99_ms"],
                    _range(row["p99_ms_range"]),
                    row["max_ms"],
                    row["answers"],
                    row["empty_answers"],
                ]
                for row in pick["rows"]
            ],
        ),
        "",
        f"{pick['requests_per_level']} suggestions per level and run, typed text matching "
        f"50-{pick['matching_files']} files; a sample answer held {pick['sample_options']} "
        "options (Slack's limit is 100). Empty = answered with no options (deadline missed "
        "or search failed).",
        "",
    ]


def _p50_p99(summary: dict[str, float]) -> str:
    return f"{_num(summary['p50_ms'])} / {_num(summary['p99_ms'])}"


def _cli_startup(cli: dict[str, Any]) -> list[str]:
    return [
        "## 4b. Start-up of the offline commands (a fresh process each, spawn to exit; "
        f"median of {cli['rows'][0]['runs']} runs)",
        "",
        table(
            ["command", "median ms", "range", "vs the parser alone", "heavy packages imported"],
            [
                [
                    f"`{row['command']}`",
                    _num(row["median_ms"]),
                    _range(row["range_ms"]),
                    f"{row['vs_parser_alone_ms']:+.0f} ms",
                    ", ".join(row["heavy_imported"]) or "none",
                ]
                for row in cli["rows"]
            ],
        ),
        "",
    ]


def _unsigned(uns: dict[str, Any]) -> list[str]:
    statuses = ", ".join(f"{count} x {status}" for status, count in uns["statuses"].items())
    return [
        f"## 7. Unsigned requests ({uns['body_kib']} KiB of `http://`, a wrong signature; "
        f"bursts of {uns['unsigned_per_burst']} next to {uns['signed_per_burst']} signed "
        f"one-file commands; Wix {uns['wix_latency_s'] * 1000:.0f} ms)",
        "",
        table(
            ["", "p50 / p99 ms", "max ms", "samples"],
            [
                [
                    "unsigned: sent → 401 (body upload included)",
                    _p50_p99(uns["refused_ms"]),
                    uns["refused_ms"]["max_ms"],
                    int(uns["refused_ms"]["n"]),
                ],
                [
                    "signed ack, alone",
                    _p50_p99(uns["signed_alone_ms"]),
                    uns["signed_alone_ms"]["max_ms"],
                    int(uns["signed_alone_ms"]["n"]),
                ],
                [
                    "signed ack, during the unsigned burst",
                    _p50_p99(uns["signed_during_flood_ms"]),
                    uns["signed_during_flood_ms"]["max_ms"],
                    int(uns["signed_during_flood_ms"]["n"]),
                ],
                [
                    "`GET /healthz`, idle app",
                    _p50_p99(uns["healthz_idle_ms"]),
                    uns["healthz_idle_ms"]["max_ms"],
                    int(uns["healthz_idle_ms"]["n"]),
                ],
                [
                    "`GET /healthz`, during unsigned bursts",
                    _p50_p99(uns["healthz_during_flood_ms"]),
                    uns["healthz_during_flood_ms"]["max_ms"],
                    int(uns["healthz_during_flood_ms"]["n"]),
                ],
            ],
        ),
        "",
        f"{uns['unsigned_sent']} unsigned requests over {uns['bursts']} rounds: {statuses}; "
        f"app CPU {_num(uns['cpu_ms_per_unsigned'])} ms per unsigned request (from /proc, "
        "unsigned bursts alone); "
        f"{uns['signed_acks_overlapping_flood']} of "
        f"{int(uns['signed_during_flood_ms']['n'])} signed commands sent before the "
        "burst's last 401. Canaries (a file and a response_url in every unsigned body): "
        f"{uns['canary_wix_calls']} Wix calls, {uns['canary_response_url_posts']} posts.",
        "",
    ]


def _fairness(fair: dict[str, Any]) -> list[str]:
    return [
        f"## 8. Fairness (limiter {fair['limit']} calls per {fair['period_s']:g} s; one "
        f"member sends {fair['flood_commands']} commands x {fair['flood_files_per_command']} "
        f"files at once, another a one-file command {fair['delay_s']:g} s later)",
        "",
        table(
            ["", "median", "range"],
            [
                [
                    "other member's reply, idle app (ms)",
                    fair["idle_reply_ms"],
                    _range(fair["idle_reply_ms_range"]),
                ],
                [
                    "other member's reply, during the flood (ms)",
                    fair["during_reply_ms"],
                    _range(fair["during_reply_ms_range"]),
                ],
                [
                    "flood: sent → its last reply (s)",
                    fair["flood_done_s"],
                    _range(fair["flood_done_s_range"]),
                ],
            ],
        ),
        "",
        f"{fair['flood_wix_calls']} Wix calls in all (the other member's included); "
        "when the other member's command "
        f"went out, {_num(fair['flood_calls_not_yet_made_at_send'])} of them had not reached "
        "Wix yet (median). Other member's reply before the flood's last, per run: "
        f"{', '.join('yes' if early else 'no' for early in fair['other_before_flood_end'])} "
        f"(median {_num(fair['other_ahead_of_flood_end_s'])} s ahead of it). "
        f"Per-member quota raised to {fair['user_files_per_minute']} files a minute, so "
        "every flood command is accepted.",
        "",
    ]


def _replicas(rep: dict[str, Any]) -> list[str]:
    return [
        f"## 9. Several replicas (`medialink serve` with Redis and PostgreSQL, Wix "
        f"{rep['wix_latency_s'] * 1000:.0f} ms, {rep['in_flight']} requests in flight in all)",
        "",
        table(
            ["replicas", "commands/s", "range", "reply p50 (ms)", "reply p99 (ms)", "ack p99 (ms)"],
            [
                [
                    str(row["replicas"]),
                    row["per_second"],
                    _range(row["per_second_range"]),
                    row["reply_p50_ms"],
                    row["reply_p99_ms"],
                    row["ack_p99_ms"],
                ]
                for row in rep["rows"]
            ],
        ),
        "",
        f"{rep['commands']} one-file commands per run, split evenly over the replicas; every "
        f"Wix call takes a place in the shared Redis window ({rep['rate_limit']} per "
        f"{rep['rate_period_s']:g} s here, so the limit is not what is measured).",
        "",
    ]
