"""A request answered once across every process: the first copy claims its key and runs; a copy
that comes while it runs (a partner's retry, a replay) waits a moment for that answer and gets it
too. Answers are kept sealed (they carry personal data) for ``ttl_seconds``. Used by the WeChat
callback (a message, by sender and MsgId) and the IVR (a step of a call)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.asyncio import Redis

from bot.crypto import Vault

PENDING = "…pending"


class AnsweredOnce:
    def __init__(self, redis: Redis, vault: Vault, ttl_seconds: int) -> None:
        self.redis = redis
        self.vault = vault
        self.ttl = ttl_seconds

    def stage_claim(self, pipe: Any, key: str) -> None:
        """Claim ``key`` on the caller's pipeline (its answer: true when this copy is the first)."""
        pipe.set(key, PENDING, nx=True, ex=self.ttl)

    async def claim(self, key: str) -> bool:
        return bool(await self.redis.set(key, PENDING, nx=True, ex=self.ttl))

    async def first(self, key: str, wait_seconds: float) -> Any | None:
        """The first copy's answer, waiting up to ``wait_seconds`` while it is being made; None if not."""
        loop = asyncio.get_running_loop()
        until = loop.time() + wait_seconds
        while loop.time() < until:
            stored = await self.redis.get(key)
            if stored is not None and stored != PENDING:
                return json.loads(self.vault.decrypt(str(stored)))
            await asyncio.sleep(0.05)
        return None

    async def keep(self, key: str, answer: Any) -> None:
        await self.redis.set(key, self.vault.encrypt(json.dumps(answer, ensure_ascii=False)), ex=self.ttl)

    async def release(self, key: str) -> None:
        """Not answered after all: the next copy runs afresh rather than waiting for nothing."""
        await self.redis.delete(key)
