"""Fixtures shared by the whole suite."""

from __future__ import annotations

import copy
import io
import logging
from collections.abc import Iterator

import pytest
from hypothesis import settings

from bot.logs import HANDLER_NAME, build_handler, configure_logging
from tests.log_secrets import SUITE_SECRETS, describe, forget_issued, leaks, watched

# Hypothesis: no per-example deadline. Its default (200 ms) fails a slow example on a
# loaded 2-core CI machine without any defect; what must be fast is measured in
# benchmarks/, and the linearity tests bound cost by comparing sizes, not by a clock.
settings.register_profile("medialink", deadline=None)
settings.load_profile("medialink")

# Loggers whose levels configure_logging sets (restored after each test).
_CONFIGURED = (
    "bot",
    "__main__",
    "slack_sdk",
    "slack_bolt",
    "aiohttp",
    "websockets",
    "httpx",
    "httpcore",
)


class _Unfiltered(logging.Handler):
    """Keeps a copy of each record as its logger made it, before any handler's filter
    rewrites it (handlers share one record), to replay through the JSON format."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(copy.copy(record))


def _as_json(records: list[logging.LogRecord]) -> str:
    """``records`` through the handler ``LOG_FORMAT=json`` installs, as it would write them."""
    output = io.StringIO()
    handler = build_handler(output, secrets=SUITE_SECRETS.values(), log_format="json")
    for record in records:
        handler.handle(record)
    return output.getvalue()


@pytest.fixture(autouse=True)
def suite_log() -> Iterator[io.StringIO]:
    """Every test runs at DEBUG through bot.logs' own handler, and fails if what that
    handler wrote (this buffer) holds a secret, a response_url or a signed-link token
    (see tests/log_secrets.py). The same records also go through the JSON format
    (``LOG_FORMAT=json``), checked the same way. Afterwards the next test gets a clean
    root logger."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _CONFIGURED}
    forget_issued()
    output = io.StringIO()
    unfiltered = _Unfiltered()
    root.addHandler(unfiltered)  # first: it sees each record before any filter does
    configure_logging("DEBUG", stream=output, secrets=SUITE_SECRETS.values())
    # Renamed, so a test's own configure_logging call adds its handler beside this one.
    [handler] = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
    handler.set_name("suite-log-check")
    # Harsher than `medialink serve`: loggers created from here on (Bolt's) are at
    # DEBUG too, so the handler's filter alone must keep library bodies out.
    root.setLevel(logging.DEBUG)
    try:
        yield output
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
    secrets = watched()
    found = leaks(output.getvalue(), secrets)
    if not found:
        found = [f"(JSON) {leak}" for leak in leaks(_as_json(unfiltered.records), secrets)]
    if found:
        pytest.fail(describe(found), pytrace=False)


@pytest.fixture(autouse=True)
def audit_database(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Every test's audit trail (DATABASE_URL) is an SQLite file of its own, never a
    medialink.db in the working directory; tests that need another database set it."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('audit')}/medialink.db"
    monkeypatch.setenv("DATABASE_URL", url)
    return url
