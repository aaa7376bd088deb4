"""7. Unsigned requests: what a 900 KiB body with a bad signature costs the app.

The body is ``http://`` repeated to 900 KiB (the shape that once stalled the app
through a quadratic log filter), followed by the fields of a real ``/medialink``
command: a Wix file that nothing else asks for and a response_url of its own. Had the
request reached Bolt, that file would show up in FakeWix's log and that response_url
would get a post; the section checks that neither happens. Each request carries a
well-formed but wrong signature, the costliest way to fail: the whole body is read
and hashed before it is refused.

Per run and round: the unsigned requests alone, all at once (their 401 times, and
the app's CPU time from ``/proc/<pid>/stat``); a burst of signed one-file commands
alone; and the same burst sent while the unsigned requests arrive, from a second load
generator; then 0.2 s of quiet. A thread polls ``GET /healthz`` throughout, one
request at a time, on one connection: its times during the unsigned bursts are
compared with those in the quiet.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import (
    AppProcess,
    Bench,
    Commands,
    LoadGen,
    LoadResult,
    medialink_text,
    one_file_commands,
)
from benchmarks.plan import Plan
from benchmarks.stats import summary_ms
from tests.slack.conftest import CHANNEL_ID, command_form

_BAD_SIGNATURE = "v0=" + "0" * 64  # well-formed, so the body is hashed before it is refused
_FLOOD_USER = "U0UNSIGNED"


@dataclass
class _HealthProbe:
    """``GET /healthz`` one after another on one connection, in a thread, until stopped."""

    port: int
    samples: list[tuple[float, float]] = field(default_factory=list)  # (sent, seconds)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    connection.request("GET", "/healthz")
                    answer = connection.getresponse()
                    answer.read()
                    if answer.status != 200:
                        self.errors.append(f"/healthz answered {answer.status}")
                except (OSError, http.client.HTTPException) as error:
                    self.errors.append(f"/healthz: {type(error).__name__}")
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.samples.append((sent, time.monotonic() - sent))
                self._stop.wait(0.005)
        finally:
            connection.close()

    def between(self, start: float, end: float) -> list[float]:
        """Durations of the probes sent within [start, end]."""
        return [seconds for sent, seconds in list(self.samples) if start <= sent <= end]


@dataclass
class _Canaries:
    """What an unsigned request would have left behind had it reached Bolt."""

    file_id: str
    response_urls: list[str] = field(default_factory=list)


def hostile_requests(bench: Bench, plan: Plan, canaries: _Canaries) -> list[list[str]]:
    """``plan.unsigned_count`` bodies of ``http://`` to 900 KiB, then a command's fields."""
    slack = bench.fakes.slack
    padding = "http://" * (plan.unsigned_kib * 1024 // len("http://"))
    requests = []
    for _ in range(plan.unsigned_count):
        url = slack.new_response_url(channel=CHANNEL_ID, user=_FLOOD_USER)
        canaries.response_urls.append(url)
        form = command_form(
            medialink_text([canaries.file_id]),
            response_url=url,
            trigger_id=slack.new_trigger_id(),
            user=_FLOOD_USER,
        )
        requests.append([f"{padding}&{form}", str(int(time.time())), _BAD_SIGNATURE])
    return requests


def run(bench: Bench, plan: Plan) -> dict[str, Any]:
    fakes = bench.fakes
    fakes.wix.latency = plan.ack_wix_latency
    canaries = _Canaries(file_id=fakes.wix.add_file(kind="image"))  # not in the shared pool
    app = bench.start(AppProcess.runner("medialink-unsigned", "medialink", fakes))
    second = LoadGen()
    probe = _HealthProbe(app.port)
    refused: list[float] = []
    acks_alone: list[float] = []
    acks_flood: list[float] = []
    health_idle: list[float] = []
    health_flood: list[float] = []
    statuses: dict[str, int] = {}
    cpu_seconds = 0.0
    unsigned_sent = 0
    overlapping = 0
    problems: list[str] = []
    wix_log: list[str] = []
    try:
        bench.warm_up(app, count=10)
        probe.start()
        time.sleep(0.2)
        for number in range(plan.runs * plan.unsigned_rounds):
            # The unsigned requests alone: their answers and the app's CPU for them.
            hostile = hostile_requests(bench, plan, canaries)
            before = app.cpu_seconds()
            started = time.monotonic()
            flood = second.run(app.port, hostile, concurrency=len(hostile))
            health_flood += probe.between(started, time.monotonic())
            time.sleep(0.05)  # let the app finish with the last one before reading /proc
            cpu_seconds += app.cpu_seconds() - before
            unsigned_sent += len(hostile)
            refused += flood.ack_seconds()
            _count(statuses, flood)
            problems += flood.errors[:3]

            # Signed commands alone, then the same while unsigned requests arrive.
            commands = one_file_commands(fakes, plan.unsigned_signed, offset=number)
            sent = bench.burst(app, commands)
            acks_alone += sent.ack_seconds()
            problems += _replies(bench, commands, sent, "signed alone")

            hostile = hostile_requests(bench, plan, canaries)
            commands = one_file_commands(fakes, plan.unsigned_signed, offset=number + 1)
            started = time.monotonic()
            flood, sent = _together(bench, second, app, hostile, commands.requests)
            health_flood += probe.between(started, time.monotonic())
            unsigned_sent += len(hostile)
            refused += flood.ack_seconds()
            _count(statuses, flood)
            acks_flood += sent.ack_seconds()
            overlapping += _overlap(flood, sent)
            problems += _replies(bench, commands, sent, "signed during the flood")
            wix_log += [json.dumps(request.json) for request in fakes.wix.requests]
            fakes.wix.reset()
            started = time.monotonic()  # a quiet moment: /healthz on an idle app
            time.sleep(0.2)
            health_idle += probe.between(started, time.monotonic())
        time.sleep(0.5)  # anything an unsigned request set off would have happened by now
        wix_log += [json.dumps(request.json) for request in fakes.wix.requests]
    finally:
        probe.stop()
        second.close()
        bench.stop(app)

    canary_posts = sum(len(fakes.slack.posts(url)) for url in canaries.response_urls)
    canary_wix_calls = sum(1 for body in wix_log if canaries.file_id in body)
    problems += probe.errors[:3]
    refused_ms = summary_ms(refused)
    alone_ms, flood_ms = summary_ms(acks_alone), summary_ms(acks_flood)
    all_401 = statuses.get("401", 0) == unsigned_sent
    return {
        "body_kib": plan.unsigned_kib,
        "unsigned_per_burst": plan.unsigned_count,
        "signed_per_burst": plan.unsigned_signed,
        "bursts": plan.runs * plan.unsigned_rounds,
        "wix_latency_s": plan.ack_wix_latency,
        "unsigned_sent": unsigned_sent,
        "statuses": statuses,
        "refused_ms": refused_ms,
        "signed_alone_ms": alone_ms,
        "signed_during_flood_ms": flood_ms,
        "signed_acks_overlapping_flood": overlapping,
        "healthz_idle_ms": summary_ms(health_idle),
        "healthz_during_flood_ms": summary_ms(health_flood),
        "cpu_ms_per_unsigned": cpu_seconds / unsigned_sent * 1000 if unsigned_sent else None,
        "canary_wix_calls": canary_wix_calls,
        "canary_response_url_posts": canary_posts,
        "targets": {
            "unsigned_all_401": all_401,
            "unsigned_reached_nothing": canary_wix_calls == 0 and canary_posts == 0,
            "signed_ack_p99_under_100ms_during_flood": flood_ms["p99_ms"] < 100,
        },
        "problems": problems[:20],
    }


def _together(
    bench: Bench,
    second: LoadGen,
    app: AppProcess,
    hostile: list[list[str]],
    signed: list[list[str]],
) -> tuple[LoadResult, LoadResult]:
    """The unsigned burst from ``second`` and the signed burst from the bench's load
    generator, started together."""
    found: dict[str, LoadResult] = {}

    def flood() -> None:
        found["flood"] = second.run(app.port, hostile, concurrency=len(hostile))

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    time.sleep(0.005)  # the unsigned bodies are on their way when the commands go out
    sent = bench.loadgen.run(app.port, signed, concurrency=len(signed))
    thread.join(timeout=120)
    if "flood" not in found:
        raise RuntimeError("the unsigned burst did not finish within 120 s")
    return found["flood"], sent


def _count(statuses: dict[str, int], result: LoadResult) -> None:
    for status in result.status:
        statuses[str(status)] = statuses.get(str(status), 0) + 1


def _overlap(flood: LoadResult, sent: LoadResult) -> int:
    """Signed requests sent before the last unsigned one was answered."""
    if not flood.t_ack:
        return 0
    flood_end = max(flood.t_ack)
    return sum(1 for start in sent.t_send if start < flood_end)


def _replies(bench: Bench, commands: Commands, sent: LoadResult, label: str) -> list[str]:
    problems = [f"{label}: {problem}" for problem in sent.problems()[:3]]
    done = bench.replies(commands, within=60)
    if done.missing or done.refused:
        missing, refused = len(done.missing), len(done.refused)
        problems.append(f"{label}: {missing} replies missing, {refused} refused")
    return problems
