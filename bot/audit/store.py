"""The audit trail on SQLAlchemy's async engine: SQLite by default, PostgreSQL for replicas.

``record`` only appends to a bounded buffer; one background task writes it in batches.
While the database is down the rows stay in memory (the oldest dropped beyond the
bound, counted and logged) and are written when it is back; ``healthy`` is False
meanwhile, so ``/readyz`` answers 503. Schema migrations (Alembic, shipped in this
package) run at start under a lock, so replicas starting together migrate once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.audit import MAX_QUERY_LIMIT, AuditEvent, AuditQuery, AuditUnavailable
from bot.audit.schema import (
    ASSET_KEY_CHARS,
    ENTRY_CHARS,
    FILE_ID_CHARS,
    FILE_NAME_CHARS,
    ID_CHARS,
    MAX_ASSET_KEYS,
    OUTCOME_CHARS,
    REASON_CHARS,
    REQUEST_ID_CHARS,
    audit_events,
)
from bot.audit.urls import normalize_database_url, shown_database_url
from bot.logs import REDACTED, redact
from bot.tenancy import current_tenant

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

DEFAULT_RETENTION = timedelta(days=365)
BUFFER_LIMIT = 10_000  # events held in memory at most; beyond it the oldest are dropped
BATCH_SIZE = 500  # rows per INSERT
PRUNE_EVERY = 3600.0  # seconds between retention runs
PRUNE_BATCH = 1000  # rows per DELETE, so a long-unpruned table never locks for long
PRUNE_MAX_BATCHES = 100  # per run; the next run goes on
RETRY_FIRST = 0.5  # seconds; doubles per failure up to retry_max
RETRY_MAX = 30.0
PROBE_EVERY = 30.0  # an idle trail checks the database this often, so /readyz sees an outage
OPERATION_TIMEOUT = 15.0  # every statement, connection included
MIGRATION_TIMEOUT = 60.0  # includes waiting for another replica's migration
CLOSE_DEADLINE = 10.0
QUERY_WAIT = 2.0  # a query first waits this long at most for events recorded before it
# pg_advisory_xact_lock's key for "migrating the audit schema" (any fixed int64).
MIGRATION_LOCK_KEY = 0x4D4C_4155_4449_5401


@dataclass(slots=True)
class _Pending:
    seq: int
    row: dict[str, Any]


# A URL with a query string anywhere in free text: the query goes, the rest stays.
_URL_QUERY = re.compile(r"(://[^\s?#]*)[?#][^\s]*")


def _clean(value: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text; a cut keeps every row within its column.
    return value.replace("\x00", "")[:limit]


def _identifier(value: str | None, limit: int, name: str, redacted: list[str]) -> str | None:
    """IDs, names, keys: anything that looks like a URL or credential is refused whole."""
    if value is None:
        return None
    text = _clean(str(value), limit)
    if "://" in text or "hooks.slack" in text.lower() or redact(text) != text:
        redacted.append(name)
        return REDACTED
    return text


def _free_text(value: str | None, limit: int, name: str, redacted: list[str]) -> str | None:
    """A reason may name a URL, never its query string or a credential."""
    if value is None:
        return None
    text = _clean(str(value), limit * 2)
    cleaned = redact(_URL_QUERY.sub(r"\1?" + REDACTED, text))
    if cleaned != text:
        redacted.append(name)
    return cleaned[:limit]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def event_row(event: AuditEvent) -> tuple[dict[str, Any], list[str]]:
    """The row to write for ``event``, and the fields that were redacted (defence in
    depth: callers never put a signed URL, token or response_url in an event)."""
    redacted: list[str] = []
    keys = [
        key
        for key in (
            _identifier(key, ASSET_KEY_CHARS, "asset_keys", redacted)
            for key in event.asset_keys[:MAX_ASSET_KEYS]
        )
        if key is not None
    ]
    row = {
        "at": _utc(event.at) or datetime.now(UTC),
        "team_id": _identifier(event.team_id, ID_CHARS, "team_id", redacted),
        "enterprise_id": _identifier(event.enterprise_id, ID_CHARS, "enterprise_id", redacted),
        "user_id": _identifier(event.user_id, ID_CHARS, "user_id", redacted),
        "channel_id": _identifier(event.channel_id, ID_CHARS, "channel_id", redacted),
        "entry": _identifier(event.entry, ENTRY_CHARS, "entry", redacted) or "",
        "file_id": _identifier(event.file_id, FILE_ID_CHARS, "file_id", redacted),
        "file_name": _identifier(event.file_name, FILE_NAME_CHARS, "file_name", redacted),
        "private": None if event.private is None else bool(event.private),
        "asset_keys": json.dumps(keys),
        "expires_at": _utc(event.expires_at),
        "outcome": _identifier(event.outcome, OUTCOME_CHARS, "outcome", redacted) or "",
        "reason": _free_text(event.reason, REASON_CHARS, "reason", redacted),
        "wix_request_id": _identifier(
            event.wix_request_id, REQUEST_ID_CHARS, "wix_request_id", redacted
        ),
        "request_id": _identifier(event.request_id, ID_CHARS, "request_id", redacted),
        "tenant_id": _identifier(
            event.tenant_id or current_tenant.get(), ID_CHARS, "tenant_id", redacted
        ),
    }
    return row, redacted


def _event(row: sa.Row[Any]) -> AuditEvent:
    try:
        keys = json.loads(row.asset_keys)
    except ValueError:
        keys = []
    return AuditEvent(
        at=row.at,
        team_id=row.team_id,
        enterprise_id=row.enterprise_id,
        user_id=row.user_id,
        channel_id=row.channel_id,
        entry=row.entry,
        outcome=row.outcome,
        file_id=row.file_id,
        file_name=row.file_name,
        private=row.private,
        asset_keys=tuple(str(key) for key in keys) if isinstance(keys, list) else (),
        expires_at=row.expires_at,
        reason=row.reason,
        wix_request_id=row.wix_request_id,
        request_id=row.request_id,
        tenant_id=row.tenant_id,
    )


def _upgrade(connection: sa.Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class SqlAuditTrail:
    """An ``AuditTrail`` on a SQL database. Building one does no I/O; ``start()``
    migrates the schema and starts the writer and the retention task."""

    def __init__(
        self,
        database_url: str,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        buffer_limit: int = BUFFER_LIMIT,
        batch_size: int = BATCH_SIZE,
        prune_every: float = PRUNE_EVERY,
        retry_first: float = RETRY_FIRST,
        retry_max: float = RETRY_MAX,
        probe_every: float = PROBE_EVERY,
        operation_timeout: float = OPERATION_TIMEOUT,
        close_deadline: float = CLOSE_DEADLINE,
    ) -> None:
        url = normalize_database_url(database_url)
        self._password = sa.make_url(url).password
        self.shown_url = shown_database_url(url)
        self._retention = retention
        self._buffer_limit = buffer_limit
        self._batch_size = batch_size
        self._prune_every = prune_every
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._probe_every = probe_every
        self._timeout = operation_timeout
        self._close_deadline = close_deadline
        self._engine = self._create_engine(url)
        self._sqlite_file = self._sqlite_path(url)

        self._buffer: deque[_Pending] = deque()
        self._in_flight: list[_Pending] = []
        self._seq = 0  # the last event recorded
        self._done_seq = 0  # every event up to this one is written (or dropped)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._progress = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        self._migrated = False
        self._closed = False
        self._healthy = True
        self._outage_since: float | None = None
        self._dropped = 0  # since the last report
        self.dropped_total = 0
        self.written_total = 0
        # Awaited before each write while serving (``bot.app`` sets it to the dispatcher's
        # wait for pending acks): a burst's acks never share the loop with a batch of
        # inserts, whose parameters are built on it. None: write at once (the CLI).
        self.give_way: Callable[[], Awaitable[None]] | None = None

    # -- building ----------------------------------------------------------------------

    def _create_engine(self, url: str) -> AsyncEngine:
        if url.startswith("postgresql"):
            connect_args: dict[str, Any] = {
                "timeout": min(self._timeout, 10.0),  # connecting
                "command_timeout": self._timeout,
                "server_settings": {"application_name": "medialink"},
            }
        else:
            connect_args = {"timeout": self._timeout}  # SQLite's busy timeout
        engine = create_async_engine(url, pool_pre_ping=True, connect_args=connect_args)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine

    @staticmethod
    def _sqlite_path(url: str) -> Path | None:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return None
        database = parsed.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database)

    # -- the interface -----------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def engine(self) -> AsyncEngine:
        """The engine, shared with what else lives in this database (bot.workspaces)."""
        return self._engine

    async def ensure_migrated(self) -> None:
        """Migrate unless done already (as ``query`` does); raises when it cannot."""
        if not self._migrated:
            await self.migrate()

    @property
    def pending(self) -> int:
        """Events recorded and not yet written."""
        return len(self._buffer) + len(self._in_flight)

    def record(self, events: Iterable[AuditEvent]) -> None:
        """Queue ``events`` for writing. Never blocks, never raises."""
        try:
            for event in events:
                self._queue(event)
            self._wake.set()
        except Exception as error:  # the caller's link must not fail for its record
            logger.error(  # noqa: TRY400 - names only: a traceback may show the event
                "audit trail: could not queue an event (%s)", type(error).__name__
            )

    def _queue(self, event: AuditEvent) -> None:
        if self._closed:
            self._drop(1, "the trail is closed")
            return
        try:
            row, redacted = event_row(event)
        except Exception as error:
            logger.error(  # noqa: TRY400 - names only: a traceback may show the event
                "audit trail: an event could not be read (%s)", type(error).__name__
            )
            return
        if redacted:
            logger.warning(
                "audit trail: redacted %s of an event: it looked like a URL with a query "
                "string, a response_url or a credential",
                ", ".join(sorted(set(redacted))),
            )
        self._seq += 1
        self._buffer.append(_Pending(self._seq, row))
        if len(self._buffer) > self._buffer_limit:
            self._buffer.popleft()
            self._drop(1, f"the buffer is full ({self._buffer_limit} events)")

    def _drop(self, count: int, why: str) -> None:
        if self._dropped == 0:
            logger.error(
                "audit trail: dropping events because %s; these links are not recorded "
                "(a count follows when the database takes writes again)",
                why,
            )
        self._dropped += count
        self.dropped_total += count

    async def query(self, query: AuditQuery) -> Sequence[AuditEvent]:
        """Events matching ``query``, newest first; at most ``MAX_QUERY_LIMIT``.
        Raises ``AuditUnavailable`` when the database cannot answer."""
        limit = max(1, min(query.limit, MAX_QUERY_LIMIT))
        if self._writer is not None and self._healthy:
            await self.flush(QUERY_WAIT)  # so a person sees the link they just made
        table = audit_events.c
        statement = sa.select(audit_events)
        if query.tenant_id is not None:
            # Rows recorded before tenants were stamped (revision 0004) belong to the
            # workspace they were made through.
            statement = statement.where(
                sa.or_(
                    table.tenant_id == query.tenant_id,
                    sa.and_(table.tenant_id.is_(None), table.team_id == query.tenant_id),
                )
            )
        if query.team_id is not None:
            statement = statement.where(table.team_id == query.team_id)
        if query.user_id is not None:
            statement = statement.where(table.user_id == query.user_id)
        if query.file_id is not None:
            statement = statement.where(table.file_id == query.file_id)
        if query.outcome is not None:
            statement = statement.where(table.outcome == query.outcome)
        if query.since is not None:
            statement = statement.where(table.at >= query.since)
        statement = statement.order_by(table.at.desc(), table.id.desc()).limit(limit)
        try:
            if not self._migrated:
                await self.migrate()
            async with asyncio.timeout(self._timeout), self._engine.connect() as connection:
                rows = (await connection.execute(statement)).all()
        except Exception as error:
            logger.error(  # noqa: TRY400 - a traceback would show the SQL and its values
                "audit trail: could not read the record (%s)", self._describe(error)
            )
            raise AuditUnavailable(
                "the audit record cannot be read right now: its database is unavailable"
            ) from None
        return [_event(row) for row in rows]

    async def start(self) -> None:
        """Migrate the schema, then write and prune in the background. A database that
        cannot be reached is logged at ERROR and retried; links are not held up."""
        if self._writer is not None or self._closed:
            return
        try:
            await self.migrate()
        except Exception as error:
            self._failed(error)
        self._writer = asyncio.create_task(self._run_writer(), name="audit-writer")
        self._pruner = asyncio.create_task(self._run_pruner(), name="audit-retention")

    async def aclose(self) -> None:
        """Write what is pending, within the close deadline, then close the engine."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        self._wake.set()
        if self._pruner is not None:
            self._pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruner
        if self._writer is None and self.pending:
            # Never started (the CLI): write what was recorded all the same.
            self._writer = asyncio.create_task(self._run_writer(), name="audit-writer")
        if self._writer is not None:
            done, _ = await asyncio.wait({self._writer}, timeout=self._close_deadline)
            if not done:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
        if self.pending:
            logger.error(
                "audit trail: %d events could not be written before stopping "
                "(the database at %s is unavailable); these links are not recorded",
                self.pending,
                self.shown_url,
            )
        await self._engine.dispose()

    # -- more than the interface: flushing, migrating, pruning -------------------------

    async def flush(self, within: float) -> bool:
        """Wait until every event recorded so far is written (or dropped), at most
        ``within`` seconds; True if it was."""
        target = self._seq
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self._done_seq < target and self.pending:
                    await self._progress.wait()
        return self._done_seq >= target or not self.pending

    async def migrate(self) -> None:
        """Bring the schema to the newest revision, once across replicas starting
        together. Raises when the database cannot be reached."""
        async with asyncio.timeout(MIGRATION_TIMEOUT):
            if self._engine.dialect.name == "postgresql":
                async with self._engine.begin() as connection:
                    # Held to the end of this transaction: the others wait, then find
                    # the schema current and do nothing.
                    await connection.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": MIGRATION_LOCK_KEY},
                    )
                    await connection.run_sync(_upgrade)
            else:
                async with self._file_lock(), self._engine.begin() as connection:
                    await connection.run_sync(_upgrade)
        self._migrated = True

    @contextlib.asynccontextmanager
    async def _file_lock(self) -> AsyncIterator[None]:
        """SQLite: an exclusive lock on a file beside the database, for processes
        sharing it. (Never a lock on the database file itself: closing another
        descriptor of it would drop SQLite's own locks.)"""
        if self._sqlite_file is None:
            yield
            return
        lock_path = self._sqlite_file.with_name(self._sqlite_file.name + ".lock")
        with lock_path.open("a") as handle:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.05)  # bounded by the caller's timeout
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    async def prune(self, now: datetime | None = None) -> int:
        """Delete rows older than the retention period, in bounded batches; the count."""
        cutoff = (now or datetime.now(UTC)) - self._retention
        oldest = (
            sa.select(audit_events.c.id)
            .where(audit_events.c.at < cutoff)
            .limit(PRUNE_BATCH)
            .scalar_subquery()
        )
        statement = sa.delete(audit_events).where(audit_events.c.id.in_(oldest))
        total = 0
        for _ in range(PRUNE_MAX_BATCHES):
            async with asyncio.timeout(self._timeout), self._engine.begin() as connection:
                deleted = (await connection.execute(statement)).rowcount
            total += deleted
            if deleted < PRUNE_BATCH:
                break
        return total

    # -- the background tasks ----------------------------------------------------------

    async def _run_writer(self) -> None:
        delay = self._retry_first
        while True:
            self._wake.clear()
            if not self._in_flight and self._buffer:
                count = min(self._batch_size, len(self._buffer))
                self._in_flight = [self._buffer.popleft() for _ in range(count)]
            if not self._in_flight:
                if self._stopping.is_set():
                    return
                if self._healthy and self._migrated:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._probe_every):
                            await self._wake.wait()
                            continue
            try:
                if not self._migrated:
                    await self.migrate()
                if self._in_flight:
                    held = self.pending
                    if self.give_way is not None and not self._stopping.is_set():
                        await self.give_way()
                    await self._write_in_flight()
                else:
                    held = 0
                    await self._probe()
            except Exception as error:
                self._failed(error)
                if self._stopping.is_set():
                    await asyncio.sleep(min(delay, 0.2))  # aclose's deadline bounds this
                else:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._stopping.wait()
                delay = min(delay * 2, self._retry_max)
                continue
            delay = self._retry_first
            self._recovered(held)

    async def _write_in_flight(self) -> None:
        try:
            async with asyncio.timeout(self._timeout), self._engine.begin() as connection:
                await connection.execute(
                    audit_events.insert(), [pending.row for pending in self._in_flight]
                )
        except (DataError, IntegrityError):
            # A value this database refuses (none should pass event_row): write the
            # rest one by one, so one row cannot hold back all that follow.
            await self._write_one_by_one()
            return
        self._written(self._in_flight)
        self._in_flight = []

    async def _write_one_by_one(self) -> None:
        refused = 0
        while self._in_flight:
            pending = self._in_flight[0]
            try:
                async with asyncio.timeout(self._timeout), self._engine.begin() as connection:
                    await connection.execute(audit_events.insert(), [pending.row])
            except (DataError, IntegrityError):
                refused += 1
            else:
                self.written_total += 1
            self._in_flight.pop(0)
            self._advance(pending.seq)
        if refused:
            logger.error(
                "audit trail: the database refused %d events; they are not recorded", refused
            )

    async def _probe(self) -> None:
        async with asyncio.timeout(self._timeout), self._engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    def _written(self, batch: list[_Pending]) -> None:
        self.written_total += len(batch)
        self._advance(batch[-1].seq)

    def _advance(self, seq: int) -> None:
        self._done_seq = max(self._done_seq, seq)
        self._progress.set()
        self._progress = asyncio.Event()

    async def _run_pruner(self) -> None:
        while True:
            if self._migrated:
                try:
                    deleted = await self.prune()
                except Exception as error:  # the writer reports outages
                    logger.warning("audit trail: retention run failed (%s)", self._describe(error))
                else:
                    if deleted:
                        logger.info("audit trail: removed %d events past retention", deleted)
                await asyncio.sleep(self._prune_every)
            else:
                await asyncio.sleep(min(self._prune_every, 5.0))

    # -- health ------------------------------------------------------------------------

    def _failed(self, error: BaseException) -> None:
        if not self._healthy:
            return
        self._healthy = False
        self._outage_since = time.monotonic()
        logger.error(
            "audit trail: cannot use the database at %s (%s); links still work, their "
            "records are kept in memory (up to %d) and written when it is back",
            self.shown_url,
            self._describe(error),
            self._buffer_limit,
        )

    def _recovered(self, held: int) -> None:
        if not self._healthy:
            self._healthy = True
            since = self._outage_since or time.monotonic()
            logger.warning(
                "audit trail: the database is back after %.0f s; writing the %d events "
                "held meanwhile (%d dropped)",
                time.monotonic() - since,
                held,
                self._dropped,
            )
            self._dropped = 0
        elif self._dropped and not self._buffer:
            logger.warning("audit trail: %d events were dropped, not recorded", self._dropped)
            self._dropped = 0

    def _describe(self, error: BaseException) -> str:
        """The error's kind and first line, without the statement, its parameters or
        the database password."""
        cause = getattr(error, "orig", None) or error.__cause__ or error
        lines = str(cause).strip().splitlines()
        text = f"{type(cause).__name__}: {lines[0][:200]}" if lines else type(cause).__name__
        if self._password:
            text = text.replace(self._password, "***")
        return redact(text)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL: the writer and readers (history, export) do not block each other.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
