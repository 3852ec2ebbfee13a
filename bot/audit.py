"""The audit log: who did what, when (agents, admins, the system). Append-only;
every console action writes one row in the transaction that does the action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db.schema import audit_log


async def audit(conn: AsyncConnection, actor: str, action: str, target: str = "", **detail: Any) -> None:
    await conn.execute(insert(audit_log).values(actor=actor, action=action, target=target[:128], detail=detail))


async def recent(engine: AsyncEngine, limit: int = 100, target: str | None = None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if target is not None:
        query = query.where(audit_log.c.target == target)
    async with engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query)]
