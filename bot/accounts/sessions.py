"""Console logins in Redis: an opaque token (the cookie) → who, their role and
the CSRF token of that login. Only a digest of the token is stored, so a copy
of Redis cannot be replayed as a login. A login ends at logout or after a
fixed time (a shift), whichever is first; failed logins are counted per
username and per address to slow down guessing."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.accounts.users import Account

MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class StaffSession:
    account: Account
    csrf: str


class ConsoleSessions:
    def __init__(self, redis: Redis, minutes: int) -> None:
        self.redis = redis
        self.ttl = minutes * 60

    @staticmethod
    def _key(token: str) -> str:
        return "console:s:" + hashlib.sha256(token.encode()).hexdigest()

    async def start(self, account: Account) -> tuple[str, StaffSession]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        value = {"id": account.id, "u": account.username, "n": account.display_name, "r": account.role, "c": csrf}
        await self.redis.set(self._key(token), json.dumps(value, ensure_ascii=False), ex=self.ttl)
        return token, StaffSession(account, csrf)

    async def get(self, token: str) -> StaffSession | None:
        if not token or len(token) > 128:
            return None
        raw = await self.redis.get(self._key(token))
        if raw is None:
            return None
        v = json.loads(raw)
        return StaffSession(Account(int(v["id"]), v["u"], v["n"], v["r"]), v["c"])

    async def end(self, token: str) -> None:
        await self.redis.delete(self._key(token))

    # ---- guessing -----------------------------------------------------------

    async def throttled(self, username: str, address: str) -> bool:
        keys = [f"console:fail:u:{username[:64]}", f"console:fail:a:{address}"]
        counts = await self.redis.mget(keys)
        return any(int(c or 0) >= MAX_FAILURES for c in counts)

    async def failed(self, username: str, address: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in (f"console:fail:u:{username[:64]}", f"console:fail:a:{address}"):
                pipe.incr(key)
                pipe.expire(key, FAILURE_WINDOW_SECONDS, nx=True)
            await pipe.execute()

    async def succeeded(self, username: str) -> None:
        await self.redis.delete(f"console:fail:u:{username[:64]}")
