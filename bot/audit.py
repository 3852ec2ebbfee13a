"""The audit log: who did what, when (agents, admins, the system). Every console
action writes one row in the transaction that does the action.

Append-only and tamper-evident: database triggers refuse DELETE and any UPDATE
(migration 0009), and the rows are chained: the worker's sealer gives each new
row, in id order, ``row_hash = sha256(prev_hash | the row)`` (one sealer at a
time, under a Redis lock; sealing after the insert keeps the insert free of
contention). ``verify`` recomputes the chain: a row altered or removed behind
the database's back breaks it there. Rows are never deleted: the law asks for
at least six months (网络安全法 第二十一条)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from datetime import UTC
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import insert, select, update
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


log = logging.getLogger(__name__)
GENESIS = "0" * 64


def _canonical(row: Any) -> bytes:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    body = [row.id, at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), row.actor, row.action, row.target,
            row.detail, row.note]  # fmt: skip
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def chain(prev: str, row: Any) -> str:
    return hashlib.sha256(prev.encode() + b"|" + _canonical(row)).hexdigest()


async def seal(engine: AsyncEngine, batch: int = 500) -> int:
    """Chain the rows not yet sealed, in id order; → how many."""
    async with engine.begin() as conn:
        last = (
            await conn.execute(
                select(audit_log.c.row_hash).where(audit_log.c.row_hash.is_not(None)).order_by(audit_log.c.id.desc())
            )
        ).first()
        prev = last[0] if last else GENESIS
        rows = list(
            await conn.execute(
                select(audit_log).where(audit_log.c.row_hash.is_(None)).order_by(audit_log.c.id).limit(batch)
            )
        )
        for row in rows:
            digest = chain(prev, row)
            await conn.execute(
                update(audit_log).where(audit_log.c.id == row.id).values(prev_hash=prev, row_hash=digest)
            )
            prev = digest
        return len(rows)


async def verify(engine: AsyncEngine) -> dict[str, Any]:
    """Walk the chain; → {"rows", "sealed", "broken_at": the first id where it does not hold, or None}."""
    prev, count, sealed = GENESIS, 0, 0
    async with engine.connect() as conn:
        result = await conn.stream(select(audit_log).order_by(audit_log.c.id))
        async for row in result:
            count += 1
            if row.row_hash is None:
                continue  # not sealed yet (the newest rows)
            sealed += 1
            if row.prev_hash != prev or chain(prev, row) != row.row_hash:
                return {"rows": count, "sealed": sealed, "broken_at": row.id}
            prev = row.row_hash
    return {"rows": count, "sealed": sealed, "broken_at": None}


class AuditSealer:
    """The worker's consumer: seal new rows every few seconds, one worker at a time."""

    def __init__(self, engine: AsyncEngine, redis: Redis, every: float = 5.0) -> None:
        self.engine = engine
        self.redis = redis
        self.every = every

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self.redis.lock("audit:sealer", timeout=60, blocking_timeout=0.1):
                    while await seal(self.engine) and not stop.is_set():
                        pass
            except Exception as exc:  # lock taken elsewhere, Redis or the database away: next round
                log.debug("audit sealing skipped: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)
