"""How much of each measurement a run does: the full run (``make bench``) and ``--quick``.

Every loop in the benchmarks is bounded by these counts, and every wait by a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plan:
    name: str
    runs: int  # repetitions whose median is reported (the machine is noisy)

    # 1. Ack latency: bursts of N concurrent /medialink commands, Wix answering in 300 ms.
    ack_wix_latency: float = 0.3
    ack_rounds: dict[int, int] = field(default_factory=dict)  # concurrency → bursts per run

    # 2. Fan-out: one command with N files, Wix answering in 200 ms; then the rate limiter.
    fanout_wix_latency: float = 0.2
    fanout_sizes: tuple[int, ...] = (1, 5, 20, 50)
    fanout_runs: int = 5
    limiter_limit: int = 20  # calls …
    limiter_period: float = 2.0  # … per rolling window of this many seconds
    limiter_commands: int = 30  # one file each: two Wix calls

    # 3. Throughput: a stream of commands, Wix answering in 50 ms.
    throughput_wix_latency: float = 0.05
    throughput_concurrency: int = 16
    throughput_commands: int = 400  # MediaLink, per run
    throughput_bare_commands: int = 2000

    # 4. Memory and start-up.
    startup_runs: int = 5
    memory_wix_latency: float = 0.02
    memory_commands: int = 10_000
    memory_batch: int = 1000
    memory_warmup: int = 200
    memory_concurrency: int = 8
    memory_inflight: int = 64  # commands sent before their replies are awaited

    # 4b. Start-up of the offline commands (medialink parse, --help): runs per command.
    cli_startup_runs: int = 11

    # 5. Parser.
    parser_sizes_kb: tuple[int, ...] = (1, 4, 16, 64, 256)
    parser_min_seconds: float = 0.1  # per timing
    parser_repeats: int = 5

    # 6. What-if variants (benchmarks/experiments.py), bursts of these many commands.
    whatif_runs: int = 3
    whatif_levels: tuple[int, ...] = (10, 50, 200)

    # 7. Unsigned requests: bursts of 900 KiB bodies with a bad signature, next to signed
    # one-file commands (Wix at ack_wix_latency).
    unsigned_kib: int = 900
    unsigned_count: int = 20  # unsigned requests per burst
    unsigned_signed: int = 10  # signed commands per burst
    unsigned_rounds: int = 3  # rounds per run

    # 8. Fairness: one member's flood in a limiter of fairness_limit calls per period,
    # and another member's one-file command fairness_delay seconds after it.
    fairness_limit: int = 20
    fairness_period: float = 1.0
    fairness_flood_commands: int = 6
    fairness_flood_files: int = 40
    fairness_delay: float = 1.0
    fairness_idle_samples: int = 3  # per run
    fairness_user_files: int = 1000  # MEDIALINK_USER_FILES_PER_MINUTE: the flood is accepted

    # 9. Several replicas: one-file commands over one replica, then over two (the real
    # `medialink serve` with Redis and PostgreSQL), this many in flight in all.
    replicas_wix_latency: float = 0.05
    replicas_concurrency: int = 16
    replicas_commands: int = 400  # per run and setup

    # 10. The form's type-ahead: block_suggestion answers, Wix answering in 200 ms.
    picker_wix_latency: float = 0.2
    picker_levels: tuple[int, ...] = (1, 10, 25)  # requests in flight
    picker_requests: int = 200  # per level and run
    picker_matching_files: int = 150  # files the typed text can match

    skip_by_default: tuple[str, ...] = ()  # sections left out unless named with --only


FULL = Plan(
    name="full",
    runs=3,
    ack_rounds={1: 10, 10: 4, 50: 2, 200: 3},
    skip_by_default=("whatif",),  # --with-whatif, or --only whatif
)

QUICK = Plan(
    name="quick",
    runs=1,
    ack_rounds={1: 3, 10: 1, 50: 1, 200: 1},
    fanout_runs=1,
    limiter_limit=10,
    limiter_period=1.0,
    limiter_commands=10,
    throughput_commands=100,
    throughput_bare_commands=400,
    startup_runs=1,
    cli_startup_runs=3,
    memory_commands=600,
    memory_batch=300,
    memory_warmup=50,
    parser_sizes_kb=(1, 4, 16),
    parser_min_seconds=0.03,
    parser_repeats=3,
    whatif_runs=1,
    unsigned_count=10,
    unsigned_signed=5,
    unsigned_rounds=1,
    fairness_flood_commands=3,
    fairness_flood_files=20,
    fairness_delay=0.5,
    fairness_idle_samples=1,
    replicas_commands=100,
    picker_requests=50,
    skip_by_default=("whatif",),
)
