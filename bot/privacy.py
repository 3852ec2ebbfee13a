"""Personal data kept no longer than needed (个人信息保护法 第六、十九、四十七条).

``forget``: on a person's request, what this service holds of them goes: the
conversation (session and drafts, inbox, the conversation's log), how to reach
them (follow state, subscribe grants), phone drafts, ratings' comments, agents'
summaries, and the local copies of their applications and 12345 orders once the
platform or 12345 has them (those still being sent are kept until they are,
and said so). The application records themselves (ids, one-thing, statuses)
stay: they are the government's record of what was done, not ours to erase.

``Retention`` (the worker, hourly): drafts expire with their session in Redis
(``SESSION_TTL_DAYS``); phone drafts a day after they expire or were used;
delivered notices' contents after ``RETAIN_NOTICE_DAYS``; the copies of decided
applications and closed agents' summaries after ``RETAIN_DAYS``. The audit log
is never deleted (at least six months: 网络安全法 第二十一条)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.audit import audit
from bot.crypto import Vault
from bot.db.schema import (
    application_items,
    applications,
    contact_prefs,
    handovers,
    outbox,
    phone_drafts,
    ratings,
    subscribe_grants,
    work_orders,
)
from bot.people.keys import user_key

log = logging.getLogger(__name__)
FINAL = ("已办结", "不予受理")
ORDER_DONE = ("已办结", "已回访")


@dataclass
class Forgotten:
    erased: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)  # what stays for now, and why (said to the person)


class Privacy:
    def __init__(self, engine: AsyncEngine, redis: Redis, vault: Vault) -> None:
        self.engine = engine
        self.redis = redis
        self.vault = vault

    async def forget(self, user: str, actor: str) -> Forgotten:
        who = user_key(user)
        out = Forgotten()
        out.erased["redis_keys"] = int(
            await self.redis.delete(f"sess:{who}", f"inbox:{who}", f"live:{who}", f"wx:seen:{who}")
        )
        gone = self.vault.encrypt("")  # a sealed empty value where a column may not be empty
        nobody = "forgotten:" + uuid.uuid4().hex[:16]  # records stay, no longer linked to the person
        async with self.engine.begin() as conn:
            for table in (contact_prefs, subscribe_grants):
                out.erased[table.name] = (await conn.execute(delete(table).where(table.c.user_key == who))).rowcount
            out.erased["phone_drafts"] = (
                await conn.execute(delete(phone_drafts).where(phone_drafts.c.redeemed_by == who))
            ).rowcount
            out.erased["ratings"] = (
                await conn.execute(update(ratings).where(ratings.c.user_key == who).values(comment="", user_key=nobody))
            ).rowcount
            out.erased["handovers"] = (
                await conn.execute(
                    update(handovers)
                    .where(handovers.c.user_key == who, handovers.c.status == "closed")
                    .values(user_ref=gone, summary="", user_key=nobody)
                )
            ).rowcount
            sent = applications.c.status != "pending"  # the platform has it: our copy is not needed
            out.erased["applications"] = (
                await conn.execute(
                    update(applications)
                    .where(applications.c.user_key == who, sent)
                    .values(form=self.vault.encrypt("{}"), user_ref=gone, user_key=nobody, erased_at=datetime.now(UTC))
                )
            ).rowcount
            pending = (
                await conn.execute(
                    select(func.count()).where(applications.c.user_key == who, applications.c.status == "pending")
                )
            ).scalar_one()
            if pending:
                out.kept.append(f"{pending} application(s) still being sent to the platform")
            out.erased["work_orders"] = (
                await conn.execute(
                    update(work_orders)
                    .where(work_orders.c.user_key == who, work_orders.c.status.in_(ORDER_DONE))
                    .values(request=self.vault.encrypt("{}"), result="", user_ref=gone, user_key=nobody)
                )
            ).rowcount
            open_orders = (
                await conn.execute(
                    select(func.count()).where(work_orders.c.user_key == who, work_orders.c.status.not_in(ORDER_DONE))
                )
            ).scalar_one()
            if open_orders:
                out.kept.append(f"{open_orders} 12345 order(s) not yet closed")
            await audit(conn, actor, "privacy.forget", who, erased=out.erased, kept=out.kept)
        return out


class Retention:
    """The worker's hourly round of deleting what is no longer needed."""

    def __init__(
        self, engine: AsyncEngine, vault: Vault, retain_days: int, notice_days: int, every: float = 3600
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.retain = timedelta(days=retain_days)
        self.notices = timedelta(days=notice_days)
        self.every = every

    async def sweep(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(UTC)
        done: dict[str, int] = {}
        async with self.engine.begin() as conn:
            done["phone_drafts"] = (
                await conn.execute(
                    delete(phone_drafts).where(
                        or_(
                            phone_drafts.c.expires_at < now - timedelta(days=1),
                            phone_drafts.c.redeemed_at < now - timedelta(days=1),
                        )
                    )
                )
            ).rowcount
            done["notices"] = (
                await conn.execute(
                    update(outbox)
                    .where(
                        outbox.c.kind.in_(("notify", "wechat_cs")),
                        outbox.c.payload != "",
                        or_(outbox.c.delivered_at < now - self.notices, outbox.c.dead_at < now - self.notices),
                    )
                    .values(payload="")
                )
            ).rowcount
            done["handover_summaries"] = (
                await conn.execute(
                    update(handovers)
                    .where(handovers.c.closed_at < now - self.retain, handovers.c.summary != "")
                    .values(summary="")
                )
            ).rowcount
            # the copy of an application whose every item was decided long ago
            undecided = select(application_items.c.application_id).where(application_items.c.status.not_in(FINAL))
            latest = (
                select(application_items.c.application_id)
                .group_by(application_items.c.application_id)
                .having(func.max(application_items.c.updated_at) < now - self.retain)
            )
            emptied = self.vault.encrypt("{}")
            done["applications"] = (
                await conn.execute(
                    update(applications)
                    .where(
                        applications.c.status != "pending",
                        applications.c.id.in_(latest),
                        applications.c.id.not_in(undecided),
                        applications.c.erased_at.is_(None),
                    )
                    .values(form=emptied, erased_at=now)
                )
            ).rowcount
            if any(done.values()):
                await audit(conn, "system", "retention.sweep", "", **done)
        return done

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                swept = await self.sweep()
                if any(swept.values()):
                    log.info("retention: %s", json.dumps(swept))
            except Exception:  # the database away for a moment: next round
                log.exception("retention sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)


def summary(forgotten: Forgotten) -> dict[str, Any]:
    return {"erased": forgotten.erased, "kept": forgotten.kept}
