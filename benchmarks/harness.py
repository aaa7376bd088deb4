"""The pieces every measurement uses: the fakes, the app in a subprocess, the load
generator, signed slash commands, and waiting for the replies in the response_url sink.

The fakes are the test suite's (``tests/fakes``) and the request builders are the
end-to-end harness's (``tests/slack/conftest.py``), imported rather than copied, so
the benchmarks send what the tests send.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from benchmarks.machine import cpu_seconds, memory_kib
from tests.fakes.slack import FakeSlack, iter_elements
from tests.fakes.wix import FakeWix, Kind
from tests.slack.conftest import (
    CHANNEL_ID,
    SIGNING_SECRET,
    command_form,
    manifest_bot_scopes,
    sign,
    wix_url,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
# The apps benchmarks/serve.py serves.
AppName = Literal["medialink", "bare", "bare-direct"]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
_ENV_PREFIXES = ("SLACK_", "WIX_", "MEDIALINK_")
_ENV_NAMES = ("HOST", "PORT", "LOG_LEVEL", "LOG_FORMAT", "DATABASE_URL")
# A mix like a Media Manager's: mostly images, some videos (with renditions), documents, audio.
FILE_KINDS: tuple[Kind, ...] = ("image", "image", "video", "document", "image", "audio")


# ------------------------------------------------------------------------------ the fakes


@dataclass
class Fakes:
    """FakeWix and FakeSlack, on loopback in threads of this process, and a pool of files."""

    wix: FakeWix
    slack: FakeSlack
    files: list[str] = field(default_factory=list)
    # The audit trail's DATABASE_URL for every MediaLink started (benchmarks/database.py).
    database_url: str = ""
    # LOG_FORMAT for every MediaLink started: "text" (the default) or "json".
    log_format: str = "text"

    def add_files(self, count: int) -> list[str]:
        kinds = itertools.cycle(FILE_KINDS)
        new = [self.wix.add_file(kind=next(kinds)) for _ in range(count)]
        self.files.extend(new)
        return new

    def app_env(self, **extra: str) -> dict[str, str]:
        """The environment of an app under test: this one minus any MediaLink settings,
        plus the fakes' addresses and credentials."""
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.upper().startswith(_ENV_PREFIXES) and name.upper() not in _ENV_NAMES
        }
        env.update(
            SLACK_BOT_TOKEN=self.slack.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.slack.api_url,
            WIX_API_KEY=FakeWix.API_KEY,
            WIX_SITE_ID=FakeWix.SITE_ID,
            WIX_API_URL=self.wix.base_url,
            LOG_LEVEL="INFO",  # production's default
            LOG_FORMAT=self.log_format,
            PYTHONPATH=str(REPO_ROOT),
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(extra)
        return env


@contextlib.contextmanager
def running_fakes(*, wix_latency: float) -> Iterator[Fakes]:
    with FakeWix(latency=wix_latency) as wix, FakeSlack(scopes=manifest_bot_scopes()) as slack:
        yield Fakes(wix=wix, slack=slack)


# ------------------------------------------------------------------------ the app process


class AppProcess:
    """An app under test in its own process, so its CPU time and memory are its own."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        self.name = name
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = RESULTS_DIR / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.port = 0

    @classmethod
    def runner(
        cls,
        name: str,
        app: AppName,
        fakes: Fakes,
        *,
        wix_rate_limit: int | None = 1_000_000,
        wix_rate_period: float = 60.0,
        experiments: Sequence[str] = (),
    ) -> AppProcess:
        """``python -m benchmarks.serve``; returns once the app listens."""
        argv = [sys.executable, "-m", "benchmarks.serve", app]
        if app == "medialink" and wix_rate_limit is not None:
            argv += ["--wix-rate-limit", str(wix_rate_limit)]
            argv += ["--wix-rate-period", str(wix_rate_period)]
        for experiment in experiments:
            argv += ["--experiment", experiment]
        process = cls(name, argv, fakes.app_env(), REPO_ROOT)
        process.wait_ready()
        return process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, within: float = 60.0) -> None:
        """Read ``READY <port>`` from the runner's stdout."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            line = self.process.stdout.readline().decode().strip()
            if line.startswith("READY "):
                self.port = int(line.split()[1])
                return
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def wait_healthy(self, port: int, within: float = 60.0) -> float:
        """Poll ``GET /healthz`` until it answers 200; seconds since the process started."""
        self.port = port
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1.0) as answer:  # noqa: S310 - loopback http
                    if answer.status == 200:
                        return time.monotonic() - self.started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} was not healthy within {within} s")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def memory_kib(self) -> dict[str, int]:
        return memory_kib(self.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


# ---------------------------------------------------------------------- the load generator


@dataclass
class LoadResult:
    t_send: list[float]
    t_ack: list[float]
    status: list[int]
    ack_bytes: list[int]
    errors: list[str]

    def ack_seconds(self) -> list[float]:
        return [ack - sent for sent, ack in zip(self.t_send, self.t_ack, strict=True)]

    def problems(self) -> list[str]:
        """Requests that did not get a plain, empty 200 ack (which a working command gets)."""
        found = list(self.errors)
        for index, (status, size) in enumerate(zip(self.status, self.ack_bytes, strict=True)):
            if status and (status != 200 or size != 0):
                found.append(f"request {index}: HTTP {status}, {size} bytes in the ack")
        return found


class LoadGen:
    """``python -m benchmarks.loadgen``, one per benchmark run, driven line by line."""

    def __init__(self) -> None:
        self.process = self._start()

    @staticmethod
    def _start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "benchmarks.loadgen"],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self,
        port: int,
        requests: Sequence[Sequence[str]],
        *,
        concurrency: int,
        fresh_connections: bool = False,
    ) -> LoadResult:
        if self.process.poll() is not None:  # it died with an earlier job: start afresh
            self.process = self._start()
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        job = {
            "op": "run",
            "port": port,
            "requests": [list(triple) for triple in requests],
            "concurrency": concurrency,
            "fresh_connections": fresh_connections,
        }
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load generator exited")
        answer: dict[str, Any] = json.loads(line)
        return LoadResult(**answer)

    def close(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


# ------------------------------------------------------------------------------- commands


@dataclass
class Commands:
    """Signed ``/medialink`` requests and where each one's reply will arrive."""

    requests: list[list[str]]  # [body, timestamp, signature]
    response_urls: list[str]
    files_per_command: list[int]


def medialink_text(file_ids: Sequence[str]) -> str:
    """What a person pastes: each file's public URL, one per line."""
    return "\n".join(wix_url(file_id) for file_id in file_ids)


# Members sending the load, in turn. Enough that no one member's file quota is what a
# run measures, few enough that the access policy's directory cache (users.info) is
# warm after the first round, as in a workspace where people come back.
MEMBERS = 200
_members = itertools.count()


def next_member() -> str:
    """The next of ``MEMBERS`` members, in turn across the whole run: load comes from a
    team, as it would in a workspace."""
    return f"U0LOAD{next(_members) % MEMBERS:05d}"


def signed_commands(slack: FakeSlack, file_sets: Sequence[Sequence[str]]) -> Commands:
    requests, urls = [], []
    for file_ids in file_sets:
        user = next_member()
        response_url = slack.new_response_url(channel=CHANNEL_ID, user=user)
        body = command_form(
            medialink_text(file_ids),
            response_url=response_url,
            trigger_id=slack.new_trigger_id(),
            user=user,
        )
        timestamp = str(int(time.time()))
        requests.append([body, timestamp, sign(body, timestamp)])
        urls.append(response_url)
    return Commands(requests, urls, [len(file_ids) for file_ids in file_sets])


def one_file_commands(fakes: Fakes, count: int, *, offset: int = 0) -> Commands:
    files = fakes.files
    return signed_commands(
        fakes.slack, [[files[(offset + index) % len(files)]] for index in range(count)]
    )


# -------------------------------------------------------------------------------- replies


@dataclass
class Replies:
    """When each command's reply was complete in the sink (``time.monotonic()``)."""

    completed: dict[str, float]
    messages: dict[str, int]
    missing: list[str]
    refused: list[str]  # response_urls that answered a post with an error

    def complete_times(self, urls: Sequence[str]) -> list[float | None]:
        return [self.completed.get(url) for url in urls]


def _link_buttons(body: Mapping[str, Any]) -> int:
    blocks = body.get("blocks")
    if not isinstance(blocks, list):
        return 0
    return sum(
        1
        for _, element in iter_elements(blocks)
        if element.get("type") == "button" and "url" in element
    )


def wait_for_replies(
    slack: FakeSlack,
    urls: Sequence[str],
    files: Sequence[int],
    *,
    within: float,
    stall: float = 30.0,
) -> Replies:
    """Wait until every response_url holds link buttons for all its files, or time is up
    (``within`` in all, or ``stall`` seconds without a new reply: a crashed app).

    A reply may be split over several messages; it is complete when the last file's
    link arrived, and its time is that post's arrival time in the sink.
    """
    pending = dict(zip(urls, files, strict=True))
    replies = Replies(completed={}, messages={}, missing=[], refused=[])
    deadline = time.monotonic() + within
    progress = (time.monotonic(), len(pending))
    while pending:
        for url, wanted in list(pending.items()):
            seen = 0
            for count, post in enumerate(slack.posts(url), start=1):
                if not post.accepted:
                    replies.refused.append(url)
                    del pending[url]
                    break
                seen += _link_buttons(post.body)
                if seen >= wanted:
                    replies.completed[url] = post.at
                    replies.messages[url] = count
                    del pending[url]
                    break
        now = time.monotonic()
        if len(pending) < progress[1]:
            progress = (now, len(pending))
        if not pending or now > deadline or now - progress[0] > stall:
            break
        time.sleep(0.02)
    replies.missing = list(pending)
    return replies


# ------------------------------------------------------------------------------ a run


class Bench:
    """What the measurements share: the fakes, the load generator, the apps under test.

    Apps are started on first use and all stopped by ``close()``, whatever happened.
    """

    def __init__(self, fakes: Fakes) -> None:
        self.fakes = fakes
        self.loadgen = LoadGen()
        self._apps: dict[str, AppProcess] = {}
        self._others: list[AppProcess] = []

    def app(self, name: AppName) -> AppProcess:
        """The shared MediaLink (Wix rate limit lifted) or a bare Bolt app."""
        if name not in self._apps:
            self._apps[name] = AppProcess.runner(name, name, self.fakes)
        return self._apps[name]

    def start(self, process: AppProcess) -> AppProcess:
        """Register another app process to be stopped by ``close()``."""
        self._others.append(process)
        return process

    def stop(self, process: AppProcess) -> None:
        process.stop()
        if process in self._others:
            self._others.remove(process)

    def close(self) -> None:
        for process in [*self._others, *self._apps.values()]:
            process.stop()
        self.loadgen.close()

    def burst(self, app: AppProcess, commands: Commands) -> LoadResult:
        """All commands at once, one connection each."""
        return self.loadgen.run(app.port, commands.requests, concurrency=len(commands.requests))

    def replies(self, commands: Commands, *, within: float) -> Replies:
        return wait_for_replies(
            self.fakes.slack, commands.response_urls, commands.files_per_command, within=within
        )

    def reply_seconds(self, commands: Commands, sent: LoadResult, replies: Replies) -> list[float]:
        """Command sent → last link of its reply in the sink, for the complete replies."""
        return [
            done - started
            for done, started in zip(
                replies.complete_times(commands.response_urls), sent.t_send, strict=True
            )
            if done is not None
        ]

    def warm_up(self, app: AppProcess, count: int = 20) -> None:
        """First requests pay for Bolt's auth.test, lazy imports and new connections."""
        commands = one_file_commands(self.fakes, count)
        self.burst(app, commands)
        if app.name != "bare":
            self.replies(commands, within=60)
        self.fakes.wix.reset()
