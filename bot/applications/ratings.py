"""好差评 (国办发〔2019〕51号, GB/T 39734/39735-2020): after 办结 (一事一评) a
person may rate the application on the five national levels, optionally per
criterion; a later rating is a 追评. 不满意 and 非常不满意 are 差评: a 12345
work order (投诉) asks the department to call back within one working day and
put it right. Nobody is pressed; a comment is encrypted (people write names
and numbers into free text)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.appeals.orders import DEFAULT_DEPARTMENT, Appeal, WorkOrders
from bot.appeals.region import region_of
from bot.catalog import Catalog
from bot.catalog.models import FieldType
from bot.crypto import Vault
from bot.db.schema import application_items, applications, handovers, ratings, work_orders
from bot.masking import mask_text
from bot.people.keys import user_key

FINISHED = {"已办结", "不予受理"}
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
CRITERIA = {
    "overall": "整体满意度",
    "efficiency": "办事效率",
    "guide_accuracy": "办事指南精确度",
    "convenience": "办事便捷度",
    "usability": "平台操作性",
}
BAD = 2  # this score and below is 差评
CALL_BACK_DAYS = 1  # Liaoning: a 差评 is called back within one working day (整改 within 15)


class Rated(enum.Enum):
    ok = "ok"
    not_found = "not_found"  # no such application of this person
    not_finished = "not_finished"


@dataclass(frozen=True)
class Rating:
    outcome: Rated
    follow_up: bool = False  # 追评
    work_order: str | None = None  # 差评: our id of the 12345 order


class Ratings:
    def __init__(self, engine: AsyncEngine, vault: Vault, catalog: Catalog, orders: WorkOrders) -> None:
        self.engine = engine
        self.vault = vault
        self.catalog = catalog
        self.orders = orders

    async def rate(
        self,
        user: str,
        application_id: str,
        score: int,
        comment: str = "",
        criteria: dict[str, int] | None = None,
    ) -> Rating:
        who = user_key(user)
        async with self.engine.begin() as conn:
            app = (await conn.execute(select(applications).where(applications.c.id == application_id))).first()
            if app is None or app.user_key != who:
                return Rating(Rated.not_found)  # someone else's is as good as none
            statuses = set(
                (
                    await conn.execute(
                        select(application_items.c.status).where(application_items.c.application_id == application_id)
                    )
                ).scalars()
            )
            if not statuses or not statuses <= FINISHED:
                return Rating(Rated.not_finished)
            earlier = (
                await conn.execute(
                    select(ratings.c.id).where(ratings.c.subject == "application", ratings.c.subject_id == app.id)
                )
            ).first()
            order_id, appeal = None, None
            if score <= BAD:
                # one 12345 order per application's 差评: later ones are added to the order still open
                appeal = self._appeal(user, app, score, comment)
                order_id = await self.orders.open_about(conn, app.id, appeal.kind)
                if order_id is None:
                    order_id, appeal = await self.orders.open(appeal, conn=conn), None
            rating_id = (
                await conn.execute(
                    insert(ratings)
                    .values(
                        subject="application",
                        subject_id=app.id,
                        user_key=who,
                        channel=app.channel,
                        thing_id=app.thing_id,
                        score=score,
                        criteria=criteria or {},
                        comment=self.vault.encrypt(comment) if comment else "",
                        follow_up=earlier is not None,
                        work_order_id=order_id,
                    )
                    .returning(ratings.c.id)
                )
            ).scalar_one()
            if appeal is not None and order_id is not None:
                await self.orders.supplement(conn, order_id, appeal, rating=int(rating_id))
        return Rating(Rated.ok, follow_up=earlier is not None, work_order=order_id)

    def _appeal(self, user: str, app: Any, score: int, comment: str) -> Appeal:
        thing = self.catalog.get(app.thing_id)
        answers = json.loads(self.vault.decrypt(app.form)).get("answers", {})
        fields = thing.form.fields if thing else []

        def first(kind: FieldType) -> str:
            return next((str(answers[f.id]) for f in fields if f.type is kind and answers.get(f.id)), "")

        name = thing.name if thing else app.thing_id
        content = f"差评（{LEVELS[score]}）：“{name}”申请（申办编号 {app.number or '报送中'}）。" + (
            f"办事人说：{comment}" if comment else "办事人未留言。"
        )
        return Appeal(
            user=user,
            channel=app.channel,
            kind="投诉",
            content=content,
            name=first(FieldType.name) or "办事人",
            phone=first(FieldType.phone),
            region=region_of(first(FieldType.id_card)),
            department=thing.lead[0] if thing else DEFAULT_DEPARTMENT,
            thing_id=app.thing_id,
            application_id=app.id,
            application_number=app.number,
            deadline_days=CALL_BACK_DAYS,
        )

    async def rate_conversation(
        self,
        user: str,
        channel: str,
        handover_id: str,
        score: int,
        comment: str = "",
        context: str = "",
        name: str = "",
        phone: str = "",
        region: str = "",
    ) -> Rating:
        """The person's rating of a conversation with a hotline agent (a 差评 goes to 12345 too)."""
        who = user_key(user)
        async with self.engine.begin() as conn:
            mine = (
                await conn.execute(
                    select(handovers.c.thing_id).where(handovers.c.id == handover_id, handovers.c.user_key == who)
                )
            ).first()
            if mine is None:
                return Rating(Rated.not_found)
            earlier = (
                await conn.execute(
                    select(ratings.c.id).where(ratings.c.subject == "conversation", ratings.c.subject_id == handover_id)
                )
            ).first()
            order_id = None
            if score <= BAD:
                thing = self.catalog.get(mine.thing_id) if mine.thing_id else None
                content = f"对 12345 人工客服服务的差评（{LEVELS[score]}）。" + (
                    f"办事人说：{comment}" if comment else "办事人未留言。"
                )
                appeal = Appeal(
                    user=user, channel=channel, kind="投诉", content=content, name=name or "办事人", phone=phone,
                    region=region or region_of(None), department=thing.lead[0] if thing else DEFAULT_DEPARTMENT,
                    context=context, thing_id=thing.id if thing else None, deadline_days=CALL_BACK_DAYS,
                )  # fmt: skip
                order_id = await self.orders.open(appeal, conn=conn)
            await conn.execute(
                insert(ratings).values(
                    subject="conversation", subject_id=handover_id, user_key=who, channel=channel,
                    thing_id=mine.thing_id, score=score, criteria={},
                    comment=self.vault.encrypt(comment) if comment else "",
                    follow_up=earlier is not None, work_order_id=order_id,
                )
            )  # fmt: skip
        return Rating(Rated.ok, follow_up=earlier is not None, work_order=order_id)

    async def of(self, user: str) -> dict[str, int]:
        """Application id → its latest score, for this person's rated applications."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ratings.c.subject_id, ratings.c.score)
                .where(ratings.c.user_key == user_key(user), ratings.c.subject == "application")
                .order_by(ratings.c.id)
            )
            return {r.subject_id: int(r.score) for r in rows}

    async def recent(self, limit: int = 200) -> list[dict[str, Any]]:
        """The latest ratings with their 差评 work orders, for admins (comments masked)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ratings, work_orders.c.number, work_orders.c.status, work_orders.c.result)
                .outerjoin(work_orders, work_orders.c.id == ratings.c.work_order_id)
                .order_by(ratings.c.id.desc())
                .limit(limit)
            )
            out = []
            for r in rows:
                thing = self.catalog.get(r.thing_id) if r.thing_id else None
                out.append(
                    {
                        "id": r.id, "subject": r.subject, "subject_id": r.subject_id, "channel": r.channel,
                        "thing": r.thing_id, "thing_name": thing.name if thing else "", "score": r.score,
                        "level": LEVELS[r.score], "bad": r.score <= BAD, "criteria": r.criteria,
                        "comment": mask_text(self.vault.decrypt(r.comment)) if r.comment else "",
                        "follow_up": r.follow_up, "at": r.created_at.isoformat(),
                        "work_order": None if r.work_order_id is None else {
                            "id": r.work_order_id, "number": r.number, "status": r.status,
                            "result": mask_text(self.vault.decrypt(r.result)) if r.result else "",
                        },
                    }
                )  # fmt: skip
            return out
