"""Work orders at 12345, kept in ``work_orders`` and sent through the outbox
(kind ``work_order``: nothing is lost while 12345 is down). Their callbacks
move them along by ``seq`` only, and each change is told to the person."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.crypto import Vault
from bot.db.schema import outbox, work_orders
from bot.people.keys import user_key

KINDS = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
CLOSED = ("已办结", "已回访")  # 12345 takes no supplement on these: a new matter is a new order
DEFAULT_DEPARTMENT = "辽宁省营商环境建设局"  # runs the province's 12345 and 政务服务 when no one-thing is named


@dataclass(frozen=True)
class Appeal:
    user: str
    channel: str
    kind: str
    content: str
    name: str
    phone: str
    region: str
    department: str
    context: str = ""  # the conversation so far, masked
    thing_id: str | None = None
    application_id: str | None = None
    application_number: str | None = None
    deadline_days: int | None = None  # working days; None: 12345's own default for the kind


class WorkOrders:
    def __init__(self, engine: AsyncEngine, vault: Vault) -> None:
        self.engine = engine
        self.vault = vault

    async def open(self, appeal: Appeal, conn: Any = None) -> str:
        """Record the appeal and queue it for 12345; returns our id (the order's external_id)."""
        order_id = uuid.uuid4().hex
        request = {
            "kind": appeal.kind, "citizen_name": appeal.name, "phone": appeal.phone, "content": appeal.content,
            "region": appeal.region, "department": appeal.department, "context": appeal.context,
            "application_number": appeal.application_number, "deadline_days": appeal.deadline_days,
        }  # fmt: skip
        sealed = self.vault.encrypt(json.dumps(request, ensure_ascii=False))
        values = {
            "id": order_id, "user_key": user_key(appeal.user), "user_ref": self.vault.encrypt(appeal.user),
            "channel": appeal.channel, "kind": appeal.kind, "thing_id": appeal.thing_id,
            "application_id": appeal.application_id, "request": sealed,
        }  # fmt: skip
        if conn is not None:
            await self._write(conn, order_id, values)
        else:
            async with self.engine.begin() as own:
                await self._write(own, order_id, values)
        return order_id

    async def open_about(self, conn: Any, application_id: str, kind: str) -> str | None:
        """Our id of the open order of this kind about this application, if there is one."""
        row = (
            await conn.execute(
                select(work_orders.c.id)
                .where(
                    work_orders.c.application_id == application_id,
                    work_orders.c.kind == kind,
                    work_orders.c.status.not_in(CLOSED),
                )
                .order_by(work_orders.c.created_at.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else str(row.id)

    async def supplement(self, conn: Any, order_id: str, appeal: Appeal, rating: int | None = None) -> None:
        """Queue the appeal's words as a 补充诉求 of the open order ``order_id`` (outbox kind
        ``work_order_supplement``). Should 12345 have closed the order meanwhile, the words become an
        order of their own: the appeal goes along whole for that, and the rating it came from."""
        payload = {"order": order_id, "appeal": asdict(appeal), "rating": rating}
        await conn.execute(
            insert(outbox).values(
                kind="work_order_supplement", ref=order_id, next_at=datetime.now(UTC),
                payload=self.vault.encrypt(json.dumps(payload, ensure_ascii=False)),
            )
        )  # fmt: skip

    async def _write(self, conn: Any, order_id: str, values: dict[str, Any]) -> None:
        await conn.execute(insert(work_orders).values(**values))
        await conn.execute(insert(outbox).values(kind="work_order", ref=order_id, next_at=datetime.now(UTC)))

    async def request_of(self, order_id: str) -> tuple[Any, dict[str, Any]]:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(work_orders).where(work_orders.c.id == order_id))).one()
        return row, json.loads(self.vault.decrypt(row.request))

    async def of(self, user: str) -> list[dict[str, Any]]:
        """This person's work orders, newest first (for 查进度 and the consoles)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(work_orders)
                .where(work_orders.c.user_key == user_key(user))
                .order_by(work_orders.c.created_at.desc())
            )
            return [
                {"id": r.id, "kind": r.kind, "number": r.number, "status": r.status,
                 "result": self.vault.decrypt(r.result) if r.result else ""}
                for r in rows
            ]  # fmt: skip

    async def created(self, conn: Any, order_id: str, number: str, status: str, seq: int) -> None:
        await conn.execute(
            update(work_orders)
            .where(work_orders.c.id == order_id, work_orders.c.seq < seq)
            .values(number=number, status=status, seq=seq, updated_at=datetime.now(UTC))
        )
        await conn.execute(
            update(work_orders)
            .where(work_orders.c.id == order_id, work_orders.c.number.is_(None))
            .values(number=number)
        )

    async def move(self, external_id: str, status: str, seq: int, result: str) -> Any | None:
        """A callback: the order moved; returns its row when the move was taken (higher seq)."""
        async with self.engine.begin() as conn:
            moved = await conn.execute(
                update(work_orders)
                .where(work_orders.c.id == external_id, work_orders.c.seq < seq)
                .values(
                    status=status,
                    seq=seq,
                    result=self.vault.encrypt(result) if result else "",
                    updated_at=datetime.now(UTC),
                )
            )
            if moved.rowcount != 1:
                return None
            return (await conn.execute(select(work_orders).where(work_orders.c.id == external_id))).one()

    async def exists(self, order_id: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.execute(select(work_orders.c.id).where(work_orders.c.id == order_id))
            return found.first() is not None

    async def tell(self, notices: Any, order: Any, number: str, status: str, result: str) -> None:
        """Relay a work order's progress to the person who raised it."""
        user = self.vault.decrypt(order.user_ref)
        phone = json.loads(self.vault.decrypt(order.request)).get("phone")
        notice = {"kind": "work_order", "number": number, "status": status, "result": result}
        async with self.engine.begin() as conn:
            await notices.queue_to(conn, user, order.channel, phone, notice, ref=order.id)
