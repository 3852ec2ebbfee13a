"""Notices waiting for a person inside the conversation: shown at the start
of their next message on any channel. Channel pushes (WeChat, SMS) come on
top of this; the inbox is what is never lost. Idempotent by notice id, so a
worker that dies after writing and before marking the outbox delivers once."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from bot.crypto import Vault
from bot.people.keys import user_key


class Inbox:
    def __init__(self, redis: Redis, vault: Vault, ttl_seconds: float = 30 * 86400) -> None:
        self.redis = redis
        self.vault = vault
        self.ttl = int(ttl_seconds)

    def _key(self, user: str) -> str:
        return f"inbox:{user_key(user)}"

    async def put(self, user: str, notice_id: int, notice: dict[str, Any]) -> None:
        key = self._key(user)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, str(notice_id), self.vault.encrypt(json.dumps(notice, ensure_ascii=False)))
            pipe.expire(key, self.ttl)
            await pipe.execute()

    def stage(self, pipe: Any, user: str, notice_id: int, notice: dict[str, Any]) -> None:
        """The same as ``put``, queued on a pipeline the caller executes (many notices, one round trip)."""
        key = self._key(user)
        pipe.hset(key, str(notice_id), self.vault.encrypt(json.dumps(notice, ensure_ascii=False)))
        pipe.expire(key, self.ttl)

    async def take(self, user: str) -> list[dict[str, Any]]:
        """Every waiting notice, oldest first, removed from the inbox."""
        return await self.take_peeked(user, await self.redis.hgetall(self._key(user)))

    def peek(self, pipe: Any, user: str) -> None:
        """Read the inbox on a pipeline the caller runs; hand its result to ``take_peeked``."""
        pipe.hgetall(self._key(user))

    async def take_peeked(self, user: str, stored: dict[Any, Any]) -> list[dict[str, Any]]:
        """The notices read by ``peek``, removed from the inbox (only those: one that came since stays)."""
        if not stored:
            return []
        await self.redis.hdel(self._key(user), *stored.keys())
        return self.opened(stored)

    def opened(self, stored: dict[Any, Any]) -> list[dict[str, Any]]:
        """The notices read by ``peek``, oldest first (still in the inbox: see ``stage_remove``)."""
        ordered = sorted(stored.items(), key=lambda kv: int(kv[0]))
        return [json.loads(self.vault.decrypt(v if isinstance(v, str) else v.decode())) for _, v in ordered]

    def stage_remove(self, pipe: Any, user: str, stored: dict[Any, Any]) -> None:
        """Remove the notices read by ``peek`` on a pipeline the caller runs: with the turn that showed
        them, so that a turn that fails leaves them for the next."""
        if stored:
            pipe.hdel(self._key(user), *stored.keys())
