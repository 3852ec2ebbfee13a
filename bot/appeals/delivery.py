"""The worker's sender of work orders to 12345 (outbox kind ``work_order``):
idempotent by our id, so a retry after a lost answer never opens a second
order. The 工单号 is told to the person once 12345 has it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.appeals.orders import Appeal, WorkOrders
from bot.applications.notices import NoticeQueue
from bot.db.schema import ratings
from bot.outbox import OutboxConsumer, RetryLater

log = logging.getLogger(__name__)

CHANNELS = {"wechat": "wechat", "miniprogram": "miniprogram", "liaoshitong": "liaoshitong", "ivr": "ivr"}


class Hotline(Protocol):
    async def create_order(self, **fields: Any) -> Any: ...  # → has number, status, seq

    async def add_supplement(self, number: str, supplement_id: str, content: str) -> Any: ...


def working_days_after(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday–Friday) after ``start``, same time of day."""
    at = start
    while days > 0:
        at += timedelta(days=1)
        if at.weekday() < 5:
            days -= 1
    return at


class WorkOrderDelivery(OutboxConsumer):
    kinds = ("work_order", "work_order_supplement")

    def __init__(
        self,
        db: AsyncEngine,
        orders: WorkOrders,
        notices: NoticeQueue,
        hotline: Hotline,
        callback_url: str,
        unreachable: tuple[type[Exception], ...],
        refused: tuple[type[Exception], ...],
        **timing: Any,
    ) -> None:
        super().__init__(db, **timing)
        self.orders = orders
        self.notices = notices
        self.hotline = hotline
        self.callback_url = callback_url
        self.unreachable = unreachable
        self.refused = refused

    async def handle(self, row: Any) -> None:
        if row.kind == "work_order_supplement":
            await self.add_supplement(row)
            return
        order, req = await self.orders.request_of(row.ref)
        days = req.get("deadline_days")
        deadline = working_days_after(datetime.now(UTC), int(days)) if days else None
        try:
            created = await self.hotline.create_order(
                external_id=order.id,
                channel=CHANNELS.get(order.channel, "web"),
                kind=order.kind,
                citizen_name=req["citizen_name"],
                phone=req["phone"],
                content=req["content"],
                region=req["region"],
                department=req["department"],
                application_number=req.get("application_number"),
                deadline=deadline,
                context=req.get("context") or None,
                callback_url=self.callback_url,
            )
        except self.unreachable as exc:
            raise RetryLater(str(exc)) from exc
        except self.refused as exc:
            log.error("12345 refused work order %s: %s", order.id, exc)
            await self.finish(row.id, error=f"refused: {exc}")
            return
        user = self.orders.vault.decrypt(order.user_ref)
        async with self.db.begin() as conn:
            await self.orders.created(conn, order.id, created.number, created.status, created.seq)
            notice = {"kind": "work_order_opened", "number": created.number, "order_kind": order.kind}
            await self.notices.queue_to(conn, user, order.channel, req["phone"], notice, ref=order.id)
            await self.finish(row.id, conn=conn)

    async def add_supplement(self, row: Any) -> None:
        """More words for an order 12345 has: sent once it has its number; if 12345 closed the order
        meanwhile, they open an order of their own (nothing the person said is dropped)."""
        payload = json.loads(self.orders.vault.decrypt(row.payload))
        order, _ = await self.orders.request_of(payload["order"])
        if order.number is None:
            raise RetryLater("the order is not at 12345 yet")
        appeal = Appeal(**payload["appeal"])
        try:
            await self.hotline.add_supplement(order.number, f"S{row.id}-{order.id[:16]}", appeal.content)
        except self.unreachable as exc:
            raise RetryLater(str(exc)) from exc
        except self.refused as exc:
            if getattr(exc, "status", None) != 409:
                log.error("12345 refused a supplement of work order %s: %s", order.id, exc)
                await self.finish(row.id, error=f"refused: {exc}")
                return
            async with self.db.begin() as conn:  # closed meanwhile: the words become their own order
                new_id = await self.orders.open(appeal, conn=conn)
                if payload.get("rating") is not None:
                    await conn.execute(
                        update(ratings).where(ratings.c.id == payload["rating"]).values(work_order_id=new_id)
                    )
                await self.finish(row.id, conn=conn)
            return
        await self.finish(row.id)
