"""The delivery log: one row per notification and channel. A row is written
("trying") before a push, so a channel without idempotency (WeChat) never
carries the same notification twice, even when a worker dies mid-send."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.schema import notification_deliveries as deliveries

TRYING, SENT, REFUSED, FAILED = "trying", "sent", "refused", "failed"


class DeliveryLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def states(self, outbox_id: int) -> dict[str, str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(deliveries.c.channel, deliveries.c.outcome).where(deliveries.c.outbox_id == outbox_id)
            )
            return {r.channel: r.outcome for r in rows}

    async def mark(self, outbox_id: int, channel: str, outcome: str, detail: str = "") -> None:
        now = datetime.now(UTC)
        stmt = self._insert(deliveries).values(
            outbox_id=outbox_id, channel=channel, outcome=outcome, detail=detail[:500], at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["outbox_id", "channel"], set_={"outcome": outcome, "detail": detail[:500], "at": now}
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)
