"""Per-day counters of conversation events, in Redis: one hash per day
(``stats:<YYYY-MM-DD>``, field → count) and a HyperLogLog of the people seen
that day (``stats:<day>:people``). A turn's events are staged with its other
writes (one script call, ``UserQueue.commit``), so counting costs a turn no
round trip of its own.

Event names (``:`` separates their parts):
``turn``, ``channel:<channel>``, ``fallback``, ``handoff:<reason>``,
``identified:<thing>``, ``guide:<thing>``, ``started:<thing>``,
``reached:<thing>:<field>`` (a form question asked the first time in a draft).
Submissions and 办结 are counted from the database, where they are recorded anyway."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot.people.keys import user_key

BEIJING = ZoneInfo("Asia/Shanghai")
KEEP_DAYS = 400  # a year and a bit: this year against last


def today() -> date:
    return datetime.now(BEIJING).date()


def _key(day: date) -> str:
    return f"stats:{day.isoformat()}"


class Counters:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def stage(self, pipe: Any, events: Iterable[str], user: str | None = None, day: date | None = None) -> None:
        """Queue the events (and the person, for the day's head count) on a pipeline the caller runs."""
        day = day or today()
        key = _key(day)
        for name in events:
            pipe.hincrby(key, name, 1)
        pipe.expire(key, KEEP_DAYS * 86400)
        if user is not None:
            pipe.pfadd(f"{key}:people", user_key(user))
            pipe.expire(f"{key}:people", KEEP_DAYS * 86400)

    async def record(self, events: Iterable[str], user: str | None = None, day: date | None = None) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            self.stage(pipe, events, user, day)
            await pipe.execute()

    async def days(self, first: date, last: date) -> dict[date, dict[str, int]]:
        """Each day's counters, ``first`` to ``last`` inclusive (a day with nothing: empty)."""
        span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for day in span:
                pipe.hgetall(_key(day))
            rows = await pipe.execute()
        return {day: {str(k): int(v) for k, v in row.items()} for day, row in zip(span, rows, strict=True)}

    async def people(self, first: date, last: date) -> dict[date, int]:
        span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for day in span:
                pipe.pfcount(f"{_key(day)}:people")
            counts = await pipe.execute()
        return {day: int(c) for day, c in zip(span, counts, strict=True)}
