"""Each item's status as the platform reports it (signed callbacks, or seen
when a person asks), through a monotonic state machine: an event is taken
once (by ``event_id``), a lower ``seq`` never overwrites a higher one, and a
decided item (已办结, 不予受理) never moves again. Every change that is taken
becomes a notice to the person, written in the same transaction."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.applications.notices import NoticeQueue
from bot.db.schema import application_items, applications, status_events

log = logging.getLogger(__name__)

STATUSES = ("待报送", "已受理", "审批中", "需补正", "已办结", "不予受理")
FINAL = ("已办结", "不予受理")
URGENT = ("需补正",)  # a deadline runs: told even in quiet hours


class Taken(enum.Enum):
    applied = "applied"
    duplicate = "duplicate"  # this event_id was seen before
    stale = "stale"  # older than what the item already shows, or the item is decided
    unknown_application = "unknown_application"
    unknown_item = "unknown_item"


@dataclass(frozen=True)
class StatusEvent:
    event_id: str
    number: str  # 申办编号
    item: str
    status: str
    seq: int
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class ProgressTracker:
    def __init__(self, engine: AsyncEngine, notices: NoticeQueue) -> None:
        self.engine = engine
        self.notices = notices

    async def apply(self, event: StatusEvent) -> Taken:
        async with self.engine.begin() as conn:
            app = (await conn.execute(select(applications).where(applications.c.number == event.number))).first()
            if app is None:
                return Taken.unknown_application
            known = (
                await conn.execute(
                    select(application_items.c.item_key).where(
                        application_items.c.application_id == app.id, application_items.c.item_key == event.item
                    )
                )
            ).first()
            if known is None:
                return Taken.unknown_item
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        insert(status_events).values(
                            event_id=event.event_id[:64],
                            application_id=app.id,
                            item_key=event.item,
                            seq=event.seq,
                            status=event.status,
                            applied=False,
                        )
                    )
            except IntegrityError:
                return Taken.duplicate
            now = datetime.now(UTC)
            # one conditional UPDATE: two events racing for one item cannot both win, nor the older one last
            moved = await conn.execute(
                update(application_items)
                .where(
                    application_items.c.application_id == app.id,
                    application_items.c.item_key == event.item,
                    application_items.c.seq < event.seq,
                    application_items.c.status.not_in(FINAL),
                )
                .values(
                    status=event.status, note=event.note, seq=event.seq, detail=event.detail or None, updated_at=now
                )
            )
            if moved.rowcount != 1:
                return Taken.stale
            await conn.execute(
                update(status_events).where(status_events.c.event_id == event.event_id[:64]).values(applied=True)
            )
            await conn.execute(update(applications).where(applications.c.id == app.id).values(updated_at=now))
            notice = {
                "kind": "status",
                "thing": app.thing_id,
                "number": event.number,
                "application": app.id,
                "item": event.item,
                "status": event.status,
                "note": event.note,
                "detail": event.detail,
            }
            await self.notices.queue(conn, app, notice, urgent=event.status in URGENT)
            if event.status in FINAL:
                statuses = set(
                    (
                        await conn.execute(
                            select(application_items.c.status).where(application_items.c.application_id == app.id)
                        )
                    ).scalars()
                )
                if statuses <= set(FINAL):  # 一事一评: the whole one-thing is decided
                    invite = {
                        "kind": "rate_invite",
                        "thing": app.thing_id,
                        "number": event.number,
                        "application": app.id,
                    }
                    await self.notices.queue(conn, app, invite)
        return Taken.applied
