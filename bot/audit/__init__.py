"""The audit trail: a record of every link MediaLink made and every request it refused.

A record never holds a signed URL, a link token or a response_url: it must not become
a way in. The Slack and CLI layers build ``AuditEvent``s and hand them to an
``AuditTrail``; only ``bot.audit`` talks to the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

# Events one query returns at most (the store and `medialink audit --limit`).
MAX_QUERY_LIMIT = 1000


class Entry(StrEnum):
    """Where a request came in. Buttons are ``button:<action>``, built by ``button()``."""

    COMMAND = "command"
    MESSAGE_SHORTCUT = "message_shortcut"
    GLOBAL_SHORTCUT = "global_shortcut"  # the form's submission
    HISTORY = "history"
    CLI = "cli"
    WORKFLOW = "workflow"  # the Workflow Builder step
    # "Get a download link" under an unfurled Wix URL: a button, so labelled as one.
    UNFURL_BUTTON = "button:unfurl"
    FIND = "find"  # links made from /medialink find's results (what was searched is not kept)
    SITES = "sites"  # an admin's change to the connected Wix sites (bot/sites)
    INSTALL = "install"  # installed through the OAuth flow (the installer is the user)
    UNINSTALL = "uninstall"  # app_uninstalled, or the bot token revoked
    SETTINGS = "settings"  # a workspace's admin changed its settings from App Home

    @staticmethod
    def button(name: str) -> str:
        return f"button:{name}"


class Outcome(StrEnum):
    """``ok`` and ``refused``; a Wix failure is recorded as Wix's error code instead."""

    OK = "ok"
    REFUSED = "refused"
    # Changes to the connected Wix sites (``Entry.SITES``); the reason names the site,
    # never its key.
    SITE_ADDED = "site_added"
    SITE_TESTED = "site_tested"
    SITE_RENAMED = "site_renamed"
    SITE_REMOVED = "site_removed"
    SITE_DOMAINS = "site_domains"
    SITE_DEFAULT = "site_default"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One link made (one per file: its asset keys together), or one refusal.

    ``at`` and ``expires_at`` are timezone-aware (UTC). ``outcome`` is ``ok``,
    ``refused`` or Wix's error code (e.g. ``NOT_FOUND``, ``HTTP_403``).
    """

    at: datetime
    team_id: str | None
    enterprise_id: str | None
    user_id: str | None
    channel_id: str | None
    entry: str
    outcome: str
    file_id: str | None = None
    file_name: str | None = None
    private: bool | None = None
    asset_keys: tuple[str, ...] = field(default=())
    expires_at: datetime | None = None
    reason: str | None = None
    wix_request_id: str | None = None
    request_id: str | None = None  # the Slack request's ID, as on its log lines
    # The workspace (or org-wide install) it belongs to (bot.tenancy); when None, the
    # trail stamps the tenant of the request being served (bot.tenancy.current_tenant).
    tenant_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which events to read back, newest first."""

    team_id: str | None = None
    user_id: str | None = None
    file_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    limit: int = 20
    # Only this tenant's rows (bot.tenancy): what one workspace of several may see. Rows
    # from before tenants were recorded count as their workspace's (``team_id``).
    tenant_id: str | None = None


class AuditTrail(Protocol):
    """Where events go. ``record`` never blocks the caller and never raises: events are
    buffered (bounded) and written in the background, and kept while the database is
    down. ``healthy`` is False while it cannot write (``/readyz`` answers 503)."""

    def record(self, events: Iterable[AuditEvent]) -> None: ...

    async def query(self, query: AuditQuery) -> Sequence[AuditEvent]: ...

    @property
    def healthy(self) -> bool: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class AuditUnavailable(Exception):
    """The record cannot be read right now (the database is unreachable or too slow);
    ``str()`` is a sentence for a person."""
