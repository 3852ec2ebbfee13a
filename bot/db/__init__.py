"""SQL storage: one code path for SQLite (default) and PostgreSQL."""

from bot.db.engine import make_engine, ping
from bot.db.migrate import current_revision, head_revision, upgrade

__all__ = ["current_revision", "head_revision", "make_engine", "ping", "upgrade"]
