"""Alembic's environment: MediaLink runs migrations itself, on a connection it holds
(under a lock, so replicas starting together migrate once); see bot.audit.store."""

from __future__ import annotations

from alembic import context

from bot.audit.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "MediaLink applies its own migrations at start (`medialink serve` or "
        "`medialink audit`); it does not use the alembic command"
    )
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
