"""The delivery log: one row per notification and channel. A row is written
("trying") before a push, so a channel without idempotency (WeChat) never
carries the same notification twice, even when a worker dies mid-send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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

    async def states_of(self, outbox_ids: list[int]) -> dict[int, dict[str, str]]:
        if not outbox_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(deliveries.c.outbox_id, deliveries.c.channel, deliveries.c.outcome).where(
                    deliveries.c.outbox_id.in_(outbox_ids)
                )
            )
            out: dict[int, dict[str, str]] = {}
            for r in rows:
                out.setdefault(r.outbox_id, {})[r.channel] = r.outcome
            return out

    async def mark_many(self, marks: list[tuple[int, str, str, str]], conn: Any) -> None:
        """(outbox id, channel, outcome, detail) for many notices: one statement, executed for many
        rows (compiled once and cached, where a VALUES list of varying length would compile each time)."""
        if not marks:
            return
        now = datetime.now(UTC)
        stmt = self._insert(deliveries)
        stmt = stmt.on_conflict_do_update(
            index_elements=["outbox_id", "channel"],
            set_={"outcome": stmt.excluded.outcome, "detail": stmt.excluded.detail, "at": stmt.excluded.at},
        )
        await conn.execute(
            stmt, [{"outbox_id": i, "channel": c, "outcome": o, "detail": d[:500], "at": now} for i, c, o, d in marks]
        )

    async def mark(self, outbox_id: int, channel: str, outcome: str, detail: str = "", conn: Any = None) -> None:
        now = datetime.now(UTC)
        stmt = self._insert(deliveries).values(
            outbox_id=outbox_id, channel=channel, outcome=outcome, detail=detail[:500], at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["outbox_id", "channel"], set_={"outcome": outcome, "detail": detail[:500], "at": now}
        )
        if conn is not None:
            await conn.execute(stmt)
            return
        async with self.engine.begin() as own:
            await own.execute(stmt)
