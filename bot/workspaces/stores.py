"""Where installations and OAuth states live: the audit trail's database, asynchronously.

slack_sdk 3.48 ships asyncio SQLAlchemy stores (``AsyncSQLAlchemyInstallationStore``,
``AsyncSQLAlchemyOAuthStateStore``); its synchronous ones would block the event loop on
every query, so only the async ones are used, on the engine the audit trail already
holds (docs/slack.md, Installing in several workspaces):

- ``InstallationStore``: Slack's async store with every call under a deadline.
- ``SignedStateStore``: the ``state`` of an install, signed with ``SLACK_STATE_SECRET``
  and carrying its own expiry, so issuing one writes nothing: ``/slack/install`` is open
  to anyone, and a store row per visit let anonymous traffic fill the table and block
  real installs. A state is written down (in the table Slack's state store uses) only
  once Slack has accepted the code exchange it came with, so it is never accepted again.
  A forged or expired state costs one HMAC and no query.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
MAX_STATE_CHARS = 200  # the column's width; anything longer is not ours


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
    """OAuth states ``<nonce>.<expiry>.<HMAC-SHA256(secret, nonce.expiry)>``: checked
    without the database until they matter; one row per install Slack accepted, kept
    until the state expires, so a used state is refused."""

    def __init__(
        self,
        engine: AsyncEngine,
        secret: bytes,
        *,
        lifetime: int = STATE_LIFETIME,
        timeout: float = DB_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self._secret = secret
        self.lifetime = lifetime
        self.timeout = timeout
        self.clock = clock

    @property
    def logger(self) -> Logger:
        return logger

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()

    def signed(self, state: str) -> bool:
        """Whether ``state`` carries our signature and has not expired (says nothing of
        whether it was used)."""
        if not state or len(state) > MAX_STATE_CHARS or not state.isascii():
            return False
        body, _, signature = state.rpartition(".")
        nonce, _, expiry = body.partition(".")
        if (
            not nonce
            or not expiry.isdigit()
            or not hmac.compare_digest(signature, self._sign(body))
        ):
            return False
        return self.clock() < int(expiry) <= self.clock() + self.lifetime

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state; nothing is stored (the browser's cookie holds it meanwhile)."""
        body = f"{secrets.token_urlsafe(24)}.{int(self.clock()) + self.lifetime}"
        return f"{body}.{self._sign(body)}"

    async def async_consume(self, state: str) -> bool:
        """Whether the callback may go on to the code exchange: our state, not expired,
        not used by an install already. Nothing is written here (``used`` does that once
        Slack accepts the code, which is one-time at Slack anyway)."""
        if not self.signed(state):
            return False
        table = oauth_states
        try:
            async with asyncio.timeout(self.timeout), self.engine.connect() as connection:
                found = await connection.scalar(
                    sa.select(sa.func.count()).select_from(table).where(table.c.state == state)
                )
        except Exception as error:  # the install fails with "try again", never a trace
            logger.warning("could not check an install's state (%s)", type(error).__name__)
            return False
        return not found

    async def used(self, state: str) -> None:
        """Slack accepted the install this state came with: never accept it again. Rows
        of states past their expiry go at the same time (they are refused unread)."""
        if not self.signed(state):
            return
        body = state.rpartition(".")[0]
        expire_at = datetime.fromtimestamp(int(body.partition(".")[2]), UTC).replace(tzinfo=None)
        table = oauth_states
        try:
            async with asyncio.timeout(self.timeout), self.engine.begin() as connection:
                await connection.execute(
                    table.delete().where(table.c.expire_at <= _naive_utc_now())
                )
                await connection.execute(table.insert(), {"state": state, "expire_at": expire_at})
        except sa.exc.IntegrityError:
            pass  # another replica wrote it first: used all the same


def _naive_utc_now() -> datetime:
    # Slack's tables keep naive UTC (DateTime without a zone), on SQLite and PostgreSQL.
    return datetime.now(UTC).replace(tzinfo=None)
