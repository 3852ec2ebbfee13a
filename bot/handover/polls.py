"""At most one long poll per person. A page (or a script) that opens a new poll
for the conversation ends the one before: in this process at once, in another
within one blocking read. Without this, one token could hold as many Redis
connections as it opened requests, and the people behind it would wait."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.people.keys import user_key


@dataclass
class Poll:
    key: str
    number: int  # polls of one person are numbered in Redis: the highest is the newest
    ended: asyncio.Event  # set when a newer poll of the same person started in this process

    async def superseded(self, redis: Redis) -> bool:
        """Whether a newer poll of the same person started anywhere (this process or another)."""
        return self.ended.is_set() or int(await redis.get(self.key) or 0) > self.number


class OnePollEach:
    def __init__(self, redis: Redis, ttl_seconds: int = 120) -> None:
        self.redis = redis
        self.ttl = ttl_seconds
        self._current: dict[str, Poll] = {}

    @asynccontextmanager
    async def hold(self, user: str) -> AsyncIterator[Poll]:
        key = f"poll:{user_key(user)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            number, _ = await pipe.incr(key).expire(key, self.ttl).execute()
        poll = Poll(key=key, number=int(number), ended=asyncio.Event())
        before = self._current.get(user)
        if before is not None and before.number > poll.number:
            poll.ended.set()  # a newer one got here first
        else:
            if before is not None:
                before.ended.set()
            self._current[user] = poll
        try:
            yield poll
        finally:
            if self._current.get(user) is poll:
                del self._current[user]


async def unless_ended(poll: Poll, read: asyncio.Future[object]) -> bool:
    """Wait for ``read`` unless the poll is ended first (the read is then cancelled, its connection
    closed); True when the read finished."""
    ended = asyncio.ensure_future(poll.ended.wait())
    try:
        done, _ = await asyncio.wait({read, ended}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the request itself went away
        read.cancel()
        raise
    finally:
        ended.cancel()
    if read in done:
        return True
    read.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await read
    return False
