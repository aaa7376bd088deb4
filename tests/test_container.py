"""The container image: its Dockerfile is lint-clean, and its steps, replayed here
without a container engine, give a process that serves health, readiness and a signed
command as the image's non-root user, in both modes.

No container engine with registry access runs on these machines, so the replay does
what the Dockerfile does in a temporary root: the build stage's RUN lines run as
written (the same locks, the same pip commands, only the files it copies), then the
image's command runs with the image's environment, user and working directory. The
Dockerfile is parsed, not restated, so the replay cannot drift from it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.wix import FakeWix
from tests.slack.conftest import SIGNING_SECRET
from tests.test_serve import (
    fakes,
    free_port,
    post_command,
    run_until_exit,
    serve,
    wait_healthy,
)

__all__ = ["fakes"]  # the fixture, shared with test_serve

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
# The PATH of the official Python images, which the image's ENV PATH extends.
BASE_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# The Dockerfile, parsed ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    args: str


@dataclass(slots=True)
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]

    def one(self, keyword: str) -> str:
        [args] = self.all(keyword)
        return args

    def env(self) -> dict[str, str]:
        """ENV K=V ... in order; ``$NAME`` stays for the replay to expand."""
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for pair in shlex.split(args):
                name, _, value = pair.partition("=")
                values[name] = value
        return values

    def copies(self) -> list[tuple[dict[str, str], list[str], str]]:
        """Each COPY as (flags, sources, destination)."""
        found = []
        for args in self.all("COPY"):
            words = shlex.split(args)
            flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
            paths = [w for w in words if not w.startswith("--")]
            found.append((flags, paths[:-1], paths[-1]))
        return found


@dataclass(frozen=True, slots=True)
class Dockerfile:
    args: dict[str, str]  # ARG defaults before the first FROM
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        [stage] = [s for s in self.stages if s.name == name]
        return stage

    @property
    def runtime(self) -> Stage:
        return self.stages[-1]


def logical_lines(text: str) -> Iterator[str]:
    """Instructions with their continuation lines joined; comments and blanks dropped
    (a comment inside a continued instruction too, as Docker does)."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"


def parse_dockerfile(text: str) -> Dockerfile:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, rest))
    return Dockerfile(args=args, stages=stages)


def exec_form(args: str) -> list[str]:
    """CMD/HEALTHCHECK's command: the JSON array (the shell form is refused)."""
    command = json.loads(args)
    assert isinstance(command, list), f"not exec form: {args}"
    assert all(isinstance(word, str) for word in command)
    return command


def health_check_command(stage: Stage) -> list[str]:
    words = stage.one("HEALTHCHECK")
    options, found, command = words.partition(" CMD ")
    assert found, "HEALTHCHECK has no CMD"
    assert all(option.startswith("--") for option in options.split())
    return exec_form(command)


def user_ids(stage: Stage) -> tuple[int, int]:
    user, _, group = stage.one("USER").partition(":")
    return int(user), int(group or user)


DOCKER = parse_dockerfile(DOCKERFILE.read_text())


# The replay -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Image:
    root: Path  # what the runtime stage holds of its own (the base image is the host's)
    uid: int
    gid: int
    workdir: Path
    env: dict[str, str]
    command: list[str]
    health_check: list[str]

    def as_user(self, command: list[str]) -> list[str]:
        """``command`` as the image's USER (when the test runs as root, as CI does)."""
        if os.geteuid() != 0:
            return command
        ids = [f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups"]
        return ["setpriv", *ids, "--", *command]


def run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def expand(value: str, env: Mapping[str, str]) -> str:
    for name, known in env.items():
        value = value.replace(f"${{{name}}}", known).replace(f"${name}", known)
    return value


def base_image_python() -> str:
    """The Python the replayed image builds and runs with: one the image's non-root user
    can run whole, as in the image. (An interpreter under root's home, such as a pyenv
    build, makes any other user load the system's libpython instead, so the build's
    environment markers would not match the Python that runs it.)"""
    for candidate in ("/usr/local/bin/python3", "/usr/bin/python3"):
        if Path(candidate).exists():
            return candidate
    return sys.executable


def replay_build(build: Stage, image_root: Path, scratch: Path) -> None:
    """The build stage's COPYs and RUNs, as written. Its ``python`` is a fresh virtual
    environment of the test's interpreter (the base image's Python, in the image), and
    its absolute paths are under ``image_root``: the runtime stage copies them from
    the same place (checked by the caller)."""
    tools = scratch / "build-python"
    run([base_image_python(), "-m", "venv", str(tools)])
    context = scratch / "context"
    context.mkdir()
    for flags, sources, destination in build.copies():
        assert not flags, "the build stage copies from the build context only"
        target = context / destination
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                dest = target if not destination.endswith("/") else target / origin.name
                shutil.copytree(origin, dest, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)
    # pip's own configuration (the machine's index) comes along, as a builder's would.
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    env |= {"PATH": f"{tools / 'bin'}:{BASE_IMAGE_PATH}", "HOME": str(scratch)}
    for name, value in build.env().items():
        env[name] = str(image_root / value.lstrip("/")) if value.startswith("/") else value
    for command in build.all("RUN"):
        run(["sh", "-ec", command], cwd=context, env=env)


@pytest.fixture(scope="session")
def image() -> Iterator[Image]:
    """The image, replayed once per session (the dependency install takes a while)."""
    runtime = DOCKER.runtime
    # Outside pytest's own temporary directories, which only their owner may enter: the
    # image's user must read what it runs.
    scratch = Path(tempfile.mkdtemp(prefix="medialink-image-"))
    scratch.chmod(0o755)
    image_root = scratch / "image"
    try:
        replay_build(DOCKER.stage("build"), image_root, scratch)
        for flags, sources, destination in runtime.copies():
            # A virtual environment is not relocatable: the runtime takes it from where
            # the build stage made it, which the replay built in place.
            assert flags.get("from") == "build", "the runtime stage copies only from the build"
            assert sources == [destination]
            copied = image_root / destination.lstrip("/")
            # The environment holds MediaLink and its locked dependencies, not the tools
            # that installed them.
            site = next(copied.glob("lib/python3*/site-packages"))
            assert (site / "bot" / "audit" / "migrations" / "env.py").is_file()
            assert not (site / "pip").exists()
            assert not (site / "hatchling").exists()
        uid, gid = user_ids(runtime)
        workdir = image_root / runtime.one("WORKDIR").lstrip("/")
        workdir.mkdir(parents=True)
        if os.geteuid() == 0:
            os.chown(workdir, uid, gid)
        env = {"HOME": str(workdir), "PATH": BASE_IMAGE_PATH}
        for name, value in runtime.env().items():
            entries = expand(value, env).split(":") if name == "PATH" else [value]
            mapped = [
                str(image_root / entry.lstrip("/"))
                if entry.startswith("/") and (image_root / entry.lstrip("/")).exists()
                else entry
                for entry in entries
            ]
            env[name] = ":".join(mapped)
        yield Image(
            root=image_root,
            uid=uid,
            gid=gid,
            workdir=workdir,
            env=env,
            command=exec_form(runtime.one("CMD")),
            health_check=health_check_command(runtime),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def settings_for(slack: FakeSlack, wix: FakeWix, port: int) -> dict[str, str]:
    """What an operator's --env-file would hold, pointed at the fakes."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "WIX_API_KEY": FakeWix.API_KEY,
        "WIX_SITE_ID": FakeWix.SITE_ID,
        "WIX_API_URL": wix.base_url,
        "HOST": "127.0.0.1",  # the image listens on every interface; a test need not
        "PORT": str(port),
    }


def start(image: Image, settings: Mapping[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        image.as_user(image.command),
        env=image.env | dict(settings),
        cwd=image.workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def health_check(image: Image, settings: Mapping[str, str]) -> int:
    """The image's HEALTHCHECK, as Docker runs it: in the container, as its user."""
    return subprocess.run(
        image.as_user(image.health_check),
        env=image.env | dict(settings),
        cwd=image.workdir,
        capture_output=True,
        timeout=30,
        check=False,
    ).returncode


def process_uid(process: subprocess.Popen[str]) -> int:
    status = Path(f"/proc/{process.pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("Uid:")]
    return int(line.split()[2])  # the effective uid


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    return run_until_exit(process)


def test_the_image_serves_probes_and_a_signed_command_as_its_own_user(
    image: Image, fakes: tuple[FakeSlack, FakeWix]
) -> None:
    slack, wix = fakes
    photo = wix.add_file(kind="image", display_name="container.jpg")
    settings = settings_for(slack, wix, free_port())
    base = f"http://127.0.0.1:{settings['PORT']}"
    assert health_check(image, settings) != 0  # nothing listens yet: the check can fail
    process = start(image, settings)
    try:
        wait_healthy(base, process, within=60)
        if os.geteuid() == 0:
            assert process_uid(process) == image.uid
        assert health_check(image, settings) == 0
        assert httpx.get(f"{base}/healthz").json() == {"ok": True}
        # Ready: the audit trail's migrations shipped in the wheel and ran.
        assert httpx.get(f"{base}/readyz").json() == {"ok": True}

        answer, response_url, _ = post_command(base, slack, photo)
        assert answer.status_code == 200
        slack.wait_until_sync(lambda: bool(slack.posts(response_url)), what="the reply")
        [post] = slack.posts(response_url)
        assert post.accepted
        assert "container.jpg" in str(post.body)
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert "MediaLink stopped" in output
    assert "Traceback" not in output
    # The default audit trail is SQLite in the working directory, writable by the user.
    with sqlite3.connect(image.workdir / "medialink.db") as db:
        [(rows,)] = db.execute("SELECT count(*) FROM audit_events").fetchall()
    assert rows == 1


def test_the_image_health_check_passes_in_socket_mode(
    image: Image, fakes: tuple[FakeSlack, FakeWix]
) -> None:
    slack, wix = fakes
    port = free_port()
    settings = settings_for(slack, wix, port) | {"SLACK_APP_TOKEN": APP_TOKEN}
    del settings["SLACK_SIGNING_SECRET"]
    process = start(image, settings)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, within=60)
        slack.wait_until_sync(lambda: slack.socket_connections >= 1, within=30, what="the socket")
        assert health_check(image, settings) == 0
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json() == {"ok": True}
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert "Traceback" not in output


def test_medialink_check_runs_in_the_image(image: Image) -> None:
    """`docker run --rm --env-file .env medialink medialink check`, with nothing set."""
    result = subprocess.run(
        image.as_user(["medialink", "check"]),
        env=image.env,
        cwd=image.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SLACK_BOT_TOKEN" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# The Dockerfile's own rules -----------------------------------------------------------


def test_hadolint_reports_nothing_at_any_level() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_dockerfile_has_the_shape_the_deployment_relies_on() -> None:
    assert DOCKER.args["PYTHON_IMAGE"].startswith("python:3.11")
    assert [stage.base for stage in DOCKER.stages] == ["${PYTHON_IMAGE}"] * 2
    assert DOCKER.stages[0].name == "build"
    [install, _] = DOCKER.stage("build").all("RUN")
    assert "--require-hashes --no-deps -r requirements.lock" in install
    uid, gid = user_ids(DOCKER.runtime)
    assert uid > 0
    assert gid > 0
    # The replay makes the working directory the user's (the runtime's RUN is not
    # replayed: it adds a user); the image must do the same.
    [make_user] = DOCKER.runtime.all("RUN")
    assert f"install -d -o {uid} -g {gid}" in make_user
    assert make_user.rstrip().endswith(DOCKER.runtime.one("WORKDIR"))
    assert exec_form(DOCKER.runtime.one("CMD")) == ["medialink", "serve"]
    assert DOCKER.runtime.env()["PORT"] == "3000"
    assert DOCKER.runtime.one("EXPOSE") == "3000"


def lock_entries(path: Path) -> dict[str, str]:
    """A hashed lock's entries by pin (``name==version``), each with its hash lines."""
    entries: dict[str, str] = {}
    current = ""
    for line in path.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            current = line.split()[0]
            entries[current] = ""
        elif current and line.strip().startswith("--hash"):
            entries[current] += line.strip().rstrip(" \\") + "\n"
    return entries


def test_the_build_lock_pins_what_the_dev_lock_pins() -> None:
    build = lock_entries(ROOT / "requirements-build.lock")
    dev = lock_entries(ROOT / "requirements-dev.lock")
    assert any(pin.startswith("hatchling==") for pin in build)
    for pin, hashes in build.items():
        assert hashes, pin
        assert dev.get(pin) == hashes, f"{pin} differs from requirements-dev.lock: make lock"


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the context (patterns as in .dockerignore;
    the last matching one decides)."""
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        candidates = [bare, bare.removeprefix("**/")] if bare.startswith("**/") else [bare]
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for candidate in candidates:
            anywhere = candidate != bare
            for prefix in prefixes:
                name = prefix.rsplit("/", 1)[-1] if anywhere else prefix
                if fnmatch.fnmatchcase(name, candidate):
                    verdict = not negated
    return verdict


def test_dockerignore_keeps_secrets_and_local_state_out_but_not_what_is_copied() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in [
        ".env",
        "bot/.env",
        "medialink.db",
        "medialink.db-wal",
        "data/medialink.db",
        ".venv/bin/python",
        ".git/config",
        "bot/__pycache__/app.cpython-311.pyc",
        ".mypy_cache/x",
        ".pytest_cache/x",
        ".hypothesis/x",
        ".ruff_cache/x",
        "benchmarks/results/run.json",
    ]:
        assert ignored(path, patterns), path
    copied = [
        source for stage in DOCKER.stages for _, sources, _ in stage.copies() for source in sources
    ]
    for source in copied:
        if not source.startswith("/"):
            assert not ignored(source, patterns), source
    assert not ignored("bot/audit/migrations/versions/r0001_audit_events.py", patterns)


def test_socket_mode_serves_health_and_readiness_on_port(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    port = free_port()
    process = serve(
        slack, wix, port, tmp_path, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        assert httpx.get(f"{base}/healthz").json() == {"ok": True}
        assert httpx.get(f"{base}/readyz").json() == {"ok": True}
        # Only the probes: Slack's requests come over the socket, never over this port.
        assert httpx.post(f"{base}/slack/events", content=b"{}").status_code in {404, 405}
        slack.wait_until_sync(lambda: slack.socket_connections >= 1, within=20, what="the socket")
    finally:
        process.send_signal(signal.SIGTERM)
        output = run_until_exit(process)
    assert process.returncode == 0, output
    assert "MediaLink stopped" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_a_port_in_use_is_a_clear_message_in_either_mode(
    socket_mode: bool, fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    mode = {"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": None} if socket_mode else {}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        process = serve(slack, wix, port, tmp_path, **mode)
        output = run_until_exit(process)
    assert process.returncode == 2, output
    assert f"cannot listen on 127.0.0.1:{port}" in output
    assert "set PORT" in output
    assert "Traceback" not in output
    assert slack.socket_connections == 0
