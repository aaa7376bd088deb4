"""Alembic migrations for the audit trail, run by ``bot.audit.store`` at start."""
