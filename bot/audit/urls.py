"""``DATABASE_URL``: which databases the audit trail runs on, and how a URL is shown.

Kept free of SQLAlchemy so settings can be checked without loading it.
"""

from __future__ import annotations

import re

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./medialink.db"
DATABASE_URL_HELP = (
    "use sqlite+aiosqlite:///path/to/medialink.db (one process) or "
    "postgresql+asyncpg://user:password@host:5432/dbname (several replicas)"
)

# The async driver for each accepted scheme: a plain postgresql:// (as hosting
# platforms hand out) means asyncpg, a plain sqlite:// means aiosqlite.
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
MAX_URL_CHARS = 2048
# user:password@ in the authority part; the password ends at the last "@".
_PASSWORD = re.compile(r"^([^:/@]*):[^/]*@")


def normalize_database_url(url: str) -> str:
    """The URL with its async driver named; ValueError (without the URL, which may hold
    a password) when it is not one MediaLink can use."""
    text = url.strip()
    if len(text) > MAX_URL_CHARS:
        raise ValueError(f"DATABASE_URL is longer than {MAX_URL_CHARS} characters")
    scheme, separator, rest = text.partition("://")
    driver = _DRIVERS.get(scheme.lower())
    if not separator or driver is None:
        raise ValueError(f"DATABASE_URL names no database MediaLink supports; {DATABASE_URL_HELP}")
    if driver.startswith("postgresql") and not rest.split("/", 1)[0]:
        raise ValueError(f"DATABASE_URL names no PostgreSQL host; {DATABASE_URL_HELP}")
    if driver.startswith("sqlite") and rest in ("", "/"):
        raise ValueError(f"DATABASE_URL names no SQLite file; {DATABASE_URL_HELP}")
    return f"{driver}://{rest}"


def shown_database_url(url: str) -> str:
    """The URL as logs may show it: the password replaced by ``***``."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "***"
    hidden = _PASSWORD.sub(r"\1:***@", rest, count=1)
    return f"{scheme}://{hidden}"
