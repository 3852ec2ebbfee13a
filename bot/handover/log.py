"""Each person's conversation as it happens, in a Redis stream: what they
said, what the bot and agents answered, and what was pushed to them outside a
turn. Agents read it when they take a conversation and follow it live
(``XREAD BLOCK``); the mini-program's page follows the pushed entries. Texts
are encrypted; the stream is capped and expires with the session."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from redis.asyncio import Redis

from bot.crypto import Vault
from bot.people.keys import user_key

Role = Literal["citizen", "bot", "agent", "system"]
CURSOR = re.compile(r"^\d{1,15}-\d{1,10}$|^0$")  # a stream id a client may hand back, or 0: the start
MAX_ENTRIES = 500


@dataclass(frozen=True)
class Entry:
    id: str  # the stream's id: milliseconds-sequence, ordered
    role: Role
    text: str
    pushed: bool  # sent to the person outside a turn (an agent's words, a resumed form, a system notice)
    agent: str = ""

    @property
    def at_ms(self) -> int:
        return int(self.id.split("-", 1)[0])


class ConversationLog:
    def __init__(self, redis: Redis, vault: Vault, ttl_seconds: float, waiting: Redis | None = None) -> None:
        self.redis = redis
        self.waiting = waiting or redis  # blocking reads: a client (a pool) of their own
        self.vault = vault
        self.ttl = int(ttl_seconds)

    @staticmethod
    def key(user: str) -> str:
        return f"live:{user_key(user)}"

    def _fields(self, role: Role, text: str, pushed: bool, agent: str) -> dict[str, str]:
        return {"r": role, "t": self.vault.encrypt(text), "p": "1" if pushed else "", "a": agent}

    def stage(self, pipe: Any, user: str, role: Role, text: str, pushed: bool = False, agent: str = "") -> None:
        """Queue an entry on a pipeline the caller executes (a turn writes its lines in one round trip)."""
        key = self.key(user)
        pipe.xadd(key, self._fields(role, text, pushed, agent), maxlen=MAX_ENTRIES, approximate=True)
        pipe.expire(key, self.ttl)

    async def append(self, user: str, role: Role, text: str, pushed: bool = False, agent: str = "") -> str:
        async with self.redis.pipeline(transaction=False) as pipe:
            self.stage(pipe, user, role, text, pushed, agent)
            entry_id, _ = await pipe.execute()
        return _str(entry_id)

    async def record_turn(self, user: str, said: str, answer: str, pushed: bool = False) -> None:
        """What the person said and what the bot answered, in one round trip (either may be empty)."""
        if not said and not answer:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            self.stage_turn(pipe, user, said, answer, pushed)
            await pipe.execute()

    def stage_turn(self, pipe: Any, user: str, said: str, answer: str, pushed: bool = False) -> None:
        if said:
            self.stage(pipe, user, "citizen", said)
        if answer:
            self.stage(pipe, user, "bot", answer, pushed=pushed)

    async def history(self, user: str, count: int = 200) -> list[Entry]:
        rows = await self.redis.xrevrange(self.key(user), count=count)
        return [self._entry(i, f) for i, f in reversed(rows)]

    async def after(self, user: str, after: str = "0", block_ms: int = 0, count: int = 100) -> list[Entry]:
        """Entries newer than ``after``; waits up to ``block_ms`` for the first when there is none."""
        streams = {self.key(user): after or "0"}
        found = await (self.waiting if block_ms else self.redis).xread(streams, count=count, block=block_ms or None)
        return [self._entry(i, f) for _, rows in found or [] for i, f in rows]

    async def last_id(self, user: str) -> str:
        rows = await self.redis.xrevrange(self.key(user), count=1)
        return _str(rows[0][0]) if rows else "0"

    async def forget(self, user: str) -> None:
        await self.redis.delete(self.key(user))

    def _entry(self, entry_id: Any, fields: dict[Any, Any]) -> Entry:
        f = {_str(k): _str(v) for k, v in fields.items()}
        return Entry(
            id=_str(entry_id),
            role=f.get("r", "system"),  # type: ignore[arg-type]
            text=self.vault.decrypt(f["t"]) if f.get("t") else "",
            pushed=bool(f.get("p")),
            agent=f.get("a", ""),
        )


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
