"""Where installations and OAuth states live: the audit trail's database, asynchronously.

slack_sdk 3.48 ships asyncio SQLAlchemy stores (``AsyncSQLAlchemyInstallationStore``,
``AsyncSQLAlchemyOAuthStateStore``); its synchronous ones would block the event loop on
every query, so only the async ones are used, on the engine the audit trail already
holds (docs/slack.md, Installing in several workspaces):

- ``InstallationStore``: Slack's async store with every call under a deadline.
- ``SignedStateStore``: the ``state`` of an install, one-time and short-lived in the
  table Slack's state store uses, and signed with ``SLACK_STATE_SECRET``. Written here
  rather than taken as it is: the SDK's consume reads then deletes (two replicas could
  both accept one state), never prunes expired rows, and its issue has no bound, while
  ``/slack/install`` is open to anyone. A forged state costs one HMAC and no query.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from logging import Logger
from typing import Any

import sqlalchemy as sa
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.workspaces.schema import BOTS, INSTALLATIONS, oauth_states

logger = logging.getLogger(__name__)

DB_TIMEOUT = 10.0  # seconds for one store operation, connecting included
STATE_LIFETIME = 600  # seconds an install may take from /slack/install to the redirect
MAX_PENDING_STATES = 10_000  # installs under way at once; beyond, /slack/install says busy
MAX_STATE_CHARS = 200  # the column's width; anything longer is not ours


class TooManyInstalls(Exception):
    """More installs are under way than ``MAX_PENDING_STATES``; try again later."""


class InstallationStore(AsyncSQLAlchemyInstallationStore):
    """Slack's async SQLAlchemy installation store, each operation within ``timeout``."""

    def __init__(self, client_id: str, engine: AsyncEngine, *, timeout: float = DB_TIMEOUT) -> None:
        super().__init__(
            client_id=client_id,
            engine=engine,
            bots_table_name=BOTS,
            installations_table_name=INSTALLATIONS,
            logger=logger,
        )
        self.timeout = timeout

    async def async_save(self, installation: Installation) -> None:
        async with asyncio.timeout(self.timeout):
            await super().async_save(installation)

    async def async_save_bot(self, bot: Bot) -> None:
        async with asyncio.timeout(self.timeout):
            await super().async_save_bot(bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        async with asyncio.timeout(self.timeout):
            return await super().async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        async with asyncio.timeout(self.timeout):
            return await super().async_find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        async with asyncio.timeout(self.timeout):
            await super().async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        async with asyncio.timeout(self.timeout):
            await super().async_delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )


class SignedStateStore(AsyncOAuthStateStore):
    """One-time OAuth states: ``<nonce>.<HMAC-SHA256(secret, nonce)>``, kept until used
    or ``lifetime`` seconds old."""

    def __init__(
        self,
        engine: AsyncEngine,
        secret: bytes,
        *,
        lifetime: int = STATE_LIFETIME,
        max_pending: int = MAX_PENDING_STATES,
        timeout: float = DB_TIMEOUT,
    ) -> None:
        self.engine = engine
        self._secret = secret
        self.lifetime = lifetime
        self.max_pending = max_pending
        self.timeout = timeout

    @property
    def logger(self) -> Logger:
        return logger

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def signed(self, state: str) -> bool:
        """Whether ``state`` carries our signature (says nothing of whether it was used)."""
        if not state or len(state) > MAX_STATE_CHARS or not state.isascii():
            return False
        nonce, _, signature = state.partition(".")
        return bool(nonce) and hmac.compare_digest(signature, self._sign(nonce))

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        nonce = secrets.token_urlsafe(24)
        state = f"{nonce}.{self._sign(nonce)}"
        now = _naive_utc_now()
        table = oauth_states
        async with asyncio.timeout(self.timeout), self.engine.begin() as connection:
            await connection.execute(table.delete().where(table.c.expire_at <= now))
            pending = await connection.scalar(sa.select(sa.func.count()).select_from(table))
            if (pending or 0) >= self.max_pending:
                raise TooManyInstalls
            await connection.execute(
                table.insert(),
                {"state": state, "expire_at": now + timedelta(seconds=self.lifetime)},
            )
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state we issued that has not expired; never again after."""
        if not self.signed(state):
            return False
        table = oauth_states
        try:
            async with asyncio.timeout(self.timeout), self.engine.begin() as connection:
                # One statement: of two replicas consuming one state, one deletes it.
                result = await connection.execute(
                    table.delete().where(
                        table.c.state == state, table.c.expire_at > _naive_utc_now()
                    )
                )
        except Exception as error:  # the install fails with "try again", never a trace
            logger.warning("could not check an install's state (%s)", type(error).__name__)
            return False
        return bool(result.rowcount == 1)


def _naive_utc_now() -> datetime:
    # Slack's tables keep naive UTC (DateTime without a zone), on SQLite and PostgreSQL.
    return datetime.now(UTC).replace(tzinfo=None)
