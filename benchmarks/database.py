"""The audit trail's database for a benchmark run: an SQLite file in the results folder,
or a throwaway PostgreSQL server on loopback, started here and stopped at the end.

The PostgreSQL server is set up the way CI sets up its own (``.ci/run``): ``initdb``
and ``pg_ctl`` from the distribution's packages, a temporary data directory, trust
authentication, listening on 127.0.0.1 only; as the ``postgres`` OS user when this
runs as root, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from benchmarks.harness import RESULTS_DIR

Database = Literal["sqlite", "postgres"]
DATABASES: tuple[Database, ...] = ("sqlite", "postgres")
_START_TIMEOUT = 60  # seconds, for initdb and for the server to accept connections


class DatabaseUnavailable(RuntimeError):
    """No PostgreSQL server could be started on this machine."""


def _postgres_bin() -> Path:
    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path))

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)
    if not found or not (Path(found[-1]) / "initdb").exists():
        raise DatabaseUnavailable(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; install the "
            "distribution's postgresql package (as .ci/run does), or use --database sqlite"
        )
    return Path(found[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(argv: Sequence[str]) -> list[str]:
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise DatabaseUnavailable("running as root without runuser to drop to postgres")
        return [runuser, "-u", "postgres", "--", *argv]
    return list(argv)


def _run(argv: Sequence[str]) -> None:
    done = subprocess.run(  # noqa: S603 - the server's own tools, our arguments
        _as_postgres(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_START_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise DatabaseUnavailable(
            f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-500:]}"
        )


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 for the duration; yields its DATABASE_URL."""
    bin_dir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="medialink-bench-pg-"))
    data = root / "data"
    port = _free_port()
    stop = [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
    starting = False
    try:
        if os.geteuid() == 0:
            try:
                shutil.chown(root, user="postgres")
            except LookupError as error:
                raise DatabaseUnavailable("run as root, and no postgres user") from error
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "--no-sync", "-E", "UTF8"])  # fmt: skip
        # fsync stays on: the audit trail's writes should cost what they cost in production.
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root}"
        starting = True  # from here on, a server may be running whatever happens
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
              "-t", str(_START_TIMEOUT), "-o", options, "start"])  # fmt: skip
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if starting:
            with contextlib.suppress(DatabaseUnavailable, subprocess.TimeoutExpired):
                _run(stop)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def database_url(database: Database) -> Iterator[str]:
    """The DATABASE_URL of a fresh, empty audit database of the kind asked for."""
    if database == "postgres":
        with throwaway_postgres() as url:
            yield url
        return
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "audit.db"
    for suffix in ("", "-wal", "-shm", "-journal"):  # the migration lock file may stay
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    yield f"sqlite+aiosqlite:///{path}"


def count_rows(url: str) -> int:
    """Rows in the audit table (0 before the schema exists)."""
    return asyncio.run(_count_rows(url))


async def _count_rows(url: str) -> int:
    import sqlalchemy as sa  # noqa: PLC0415 - only runs that check the trail load it
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    from bot.audit.schema import audit_events  # noqa: PLC0415

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            if not await connection.run_sync(
                lambda sync: sa.inspect(sync).has_table(audit_events.name)
            ):
                return 0
            count = await connection.scalar(sa.select(sa.func.count()).select_from(audit_events))
            return int(count or 0)
    finally:
        await engine.dispose()
