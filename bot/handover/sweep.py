"""The worker's round of the agent queue: a claim whose console went quiet
goes back into line (the person is told, the bot answers meanwhile), and a
person waiting longer than promised is told, once, when to expect an answer
(inside the agents' hours: within so many minutes; outside: after opening)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.handover.desk import HandoverDesk

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")


class Conversations(Protocol):
    async def agent_left(self, user: str, handover_id: str, point: str, requeued: bool = False) -> Any: ...

    async def tell(self, user: str, template: str, **values: object) -> None: ...


class AgentHours:
    """Monday to Friday, ``HH:MM-HH:MM`` Beijing time (public holidays are not known here)."""

    def __init__(self, spec: str) -> None:
        start, end = spec.split("-")
        self.start = time.fromisoformat(start.strip())
        self.end = time.fromisoformat(end.strip())
        self.spec = spec

    def open_at(self, at: datetime) -> bool:
        local = at.astimezone(BEIJING)
        return local.weekday() < 5 and self.start <= local.time() < self.end

    def next_open(self, at: datetime) -> datetime:
        local = at.astimezone(BEIJING)
        day = local.date()
        for _ in range(8):
            opening = datetime.combine(day, self.start, BEIJING)
            if opening.weekday() < 5 and opening > local:
                return opening
            day += timedelta(days=1)
        raise AssertionError("a working day within a week")


class HandoverSweeper:
    def __init__(
        self,
        desk: HandoverDesk,
        conversations: Conversations,
        hours: AgentHours,
        abandon_seconds: float,
        promise_minutes: float,
        expect_minutes: int,
        every_seconds: float = 10.0,
    ) -> None:
        self.desk = desk
        self.conversations = conversations
        self.hours = hours
        self.abandon = timedelta(seconds=abandon_seconds)
        self.promise = timedelta(minutes=promise_minutes)
        self.expect = expect_minutes
        self.every = every_seconds

    async def sweep(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(UTC)
        requeued = told = 0
        for h in await self.desk.abandoned(now - self.abandon):
            if h.agent and await self.desk.release(h.id, h.agent, actor="system"):
                await self.conversations.agent_left(h.user, h.id, "none", requeued=True)
                requeued += 1
        for h in await self.desk.overdue(now - self.promise):
            if not await self.desk.mark_told(h.id):
                continue  # another worker told them
            if self.hours.open_at(now):
                await self.conversations.tell(h.user, "HANDOFF_PROMISE_OPEN", minutes=self.expect)
            else:
                when = self.hours.next_open(now).strftime("%m月%d日 %H:%M")
                await self.conversations.tell(h.user, "HANDOFF_PROMISE_CLOSED", hours=self.hours.spec, when=when)
            told += 1
        return {"requeued": requeued, "told": told}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:  # the database or Redis away for a moment: try again next round
                log.exception("handover sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)
