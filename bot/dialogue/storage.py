"""Sessions in Redis (encrypted, with a TTL) and the per-person message queue.

``UserQueue`` makes the messages of one person run strictly one after another,
in order of arrival, across every process (like aiogram's event isolation),
while different people never wait for each other. It is a ticket lock: each
message draws a number; the holder of ``serving + 1`` runs. A number whose
process died (its ``alive`` key expired) is skipped, so a crash costs the
person a few seconds, never a stuck conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from bot.crypto import Vault
from bot.dialogue.session import Session

_DRAW = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SET', ARGV[2] .. ticket, 1, 'PX', ARGV[3])
return ticket
"""

# Advance past dead tickets; 1 when ARGV[1] may run now.
_TURN = """
local serving = tonumber(redis.call('GET', KEYS[1]) or '0')
local ticket = tonumber(ARGV[1])
while serving < ticket - 1 do
  if redis.call('EXISTS', ARGV[2] .. (serving + 1)) == 1 then break end
  serving = serving + 1
end
redis.call('SET', KEYS[1], serving, 'PX', ARGV[3])
if serving == ticket - 1 then return 1 end
return 0
"""

_DONE = """
local serving = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > serving then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end
redis.call('DEL', ARGV[2] .. ARGV[1])
return 1
"""


def user_key(user: str) -> str:
    """Redis keys carry a digest, not the channel's id of the person."""
    return hashlib.sha256(user.encode()).hexdigest()[:24]


class UserQueue:
    def __init__(self, redis: Redis, hold_seconds: float = 30.0, alive_seconds: float = 5.0) -> None:
        self.redis = redis
        self.hold_ms = int(hold_seconds * 1000)
        self.alive_ms = int(alive_seconds * 1000)
        self.keep_ms = 24 * 3600 * 1000  # counters outlive any plausible gap between messages
        self._draw = redis.register_script(_DRAW)
        self._turn = redis.register_script(_TURN)
        self._done = redis.register_script(_DONE)

    @contextlib.asynccontextmanager
    async def turn(self, user: str) -> AsyncIterator[int]:
        base = f"q:{user_key(user)}"
        alive = f"{base}:alive:"
        ticket = int(await self._draw(keys=[f"{base}:ticket"], args=[self.keep_ms, alive, self.alive_ms]))
        keeper = asyncio.create_task(self._keep_alive(f"{alive}{ticket}"))
        try:
            delay = 0.005
            while not await self._turn(keys=[f"{base}:serving"], args=[ticket, alive, self.keep_ms]):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            yield ticket
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._done(keys=[f"{base}:serving"], args=[ticket, alive, self.keep_ms])

    async def _keep_alive(self, key: str) -> None:
        # Stops refreshing after the longest allowed hold: a hung handler releases the queue.
        loop = asyncio.get_running_loop()
        until = loop.time() + self.hold_ms / 1000
        while loop.time() < until:
            await asyncio.sleep(self.alive_ms / 3000)
            await self.redis.set(key, 1, px=self.alive_ms)


class SessionStore:
    def __init__(self, redis: Redis, vault: Vault, ttl_seconds: float) -> None:
        self.redis = redis
        self.vault = vault
        self.ttl = int(ttl_seconds)

    def _key(self, user: str) -> str:
        return f"sess:{user_key(user)}"

    async def load(self, user: str, channel: str) -> Session:
        raw = await self.redis.get(self._key(user))
        if raw is None:
            return Session(user=user, channel=channel)
        return Session.model_validate_json(self.vault.decrypt(raw.decode() if isinstance(raw, bytes) else raw))

    async def save(self, session: Session) -> None:
        await self.redis.set(self._key(session.user), self.vault.encrypt(session.model_dump_json()), ex=self.ttl)

    async def forget(self, user: str) -> None:
        await self.redis.delete(self._key(user))
