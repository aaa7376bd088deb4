"""Fixtures shared by the whole suite."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from hypothesis import settings

from bot.logs import HANDLER_NAME, configure_logging
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


@pytest.fixture(autouse=True)
def suite_log() -> Iterator[io.StringIO]:
    """Every test runs at DEBUG through bot.logs' own handler, and fails if what that
    handler wrote (this buffer) holds a secret, a response_url or a signed-link token
    (see tests/log_secrets.py). Afterwards the next test gets a clean root logger."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _CONFIGURED}
    forget_issued()
    output = io.StringIO()
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
    found = leaks(output.getvalue(), watched())
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
