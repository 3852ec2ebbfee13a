"""Rate limits, counted in Redis so that every process shares them: how many
messages one person may send in a window (a flood is answered politely and
not run), and how many requests one address may make (the HTTP layer's 429).
Fixed windows: a key per window, INCR and EXPIRE in the caller's pipeline."""

from __future__ import annotations

import time
from typing import Any

from bot.people.keys import user_key


class PersonPace:
    """At most ``limit`` messages of one person per ``window`` seconds."""

    def __init__(self, limit: int, window: int = 10) -> None:
        self.limit = limit
        self.window = window

    def stage(self, pipe: Any, user: str) -> None:
        """Count this message on the caller's pipeline: two results, the count first."""
        key = f"rl:p:{user_key(user)}:{int(time.time()) // self.window}"
        pipe.incr(key)
        pipe.expire(key, self.window * 2)

    def allows(self, count: Any) -> bool:
        return int(count) <= self.limit


class AddressPace:
    """At most ``limit`` requests from one address per second."""

    def __init__(self, redis: Any, limit: int) -> None:
        self.redis = redis
        self.limit = limit

    async def allows(self, address: str) -> bool:
        key = f"rl:a:{address}:{int(time.time())}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2)
            count, _ = await pipe.execute()
        return int(count) <= self.limit
