"""Console logins in Redis: an opaque token (the cookie) → who, their role and
the CSRF token of that login. Only a digest of the token is stored, so a copy
of Redis cannot be replayed as a login. A login ends at logout, after a fixed
time (a shift), or when the account's password is reset or the account is
deactivated (each account keeps the set of its live logins).

Guessing is slowed per account *and* address, so that a stranger failing on
purpose cannot lock a named colleague out: five failures lock that pair for a
minute, then two, four… up to an hour; an address spraying many usernames is
stopped too. Each try is counted before its password is checked, so a burst
of parallel guesses gets no more checks than the limit."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.accounts.users import Account

MAX_FAILURES = 5  # per account and address, then a lock
MAX_ADDRESS_FAILURES = 20  # per address, whichever accounts it tries
FAILURE_WINDOW_SECONDS = 15 * 60
FIRST_LOCK_SECONDS = 60  # doubled for each further lock of the pair within a day
LONGEST_LOCK_SECONDS = 3600


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

    @staticmethod
    def _mine(account_id: int) -> str:
        return f"console:by-account:{account_id}"

    async def start(self, account: Account) -> tuple[str, StaffSession]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        value = {"id": account.id, "u": account.username, "n": account.display_name, "r": account.role, "c": csrf}
        key = self._key(token)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, json.dumps(value, ensure_ascii=False), ex=self.ttl)
            pipe.sadd(self._mine(account.id), key).expire(self._mine(account.id), self.ttl)
            await pipe.execute()
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

    async def end_all(self, account_id: int) -> int:
        """Every live login of the account (its password was reset, it was deactivated); → how many."""
        keys = await self.redis.smembers(self._mine(account_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.delete(key)
            pipe.delete(self._mine(account_id))
            ended = await pipe.execute()
        return sum(int(n) for n in ended[:-1])

    # ---- guessing -----------------------------------------------------------

    @staticmethod
    def _pair(username: str, address: str) -> str:
        return hashlib.sha256(f"{username[:64]}\n{address}".encode("utf-8", "surrogatepass")).hexdigest()[:32]

    async def attempt(self, username: str, address: str) -> int:
        """Count a login try before its password is checked: 0 when it may be checked, else the seconds
        to wait. A lock or a limit concerns this account from this address (and an address spraying
        many accounts), never the account from everywhere."""
        pair, addr = self._pair(username, address), f"console:tries:a:{address}"
        locked = int(await self.redis.ttl(f"console:lock:{pair}"))
        if locked > 0:
            return locked  # not counted: the lock, not the tries, decides how long
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(f"console:tries:p:{pair}").expire(f"console:tries:p:{pair}", FAILURE_WINDOW_SECONDS)
            pipe.incr(addr).expire(addr, FAILURE_WINDOW_SECONDS)
            tries, _, address_tries, _ = await pipe.execute()
        if tries > MAX_FAILURES or address_tries > MAX_ADDRESS_FAILURES:
            return FAILURE_WINDOW_SECONDS
        return 0

    async def failed(self, username: str, address: str) -> None:
        """A wrong password (already counted): at the limit the pair is locked, longer each time."""
        pair = self._pair(username, address)
        if int(await self.redis.get(f"console:tries:p:{pair}") or 0) < MAX_FAILURES:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            locks, _ = await pipe.incr(f"console:locks:{pair}").expire(f"console:locks:{pair}", 86400).execute()
        seconds = min(LONGEST_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** (int(locks) - 1))
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.set(f"console:lock:{pair}", "1", ex=seconds).delete(f"console:tries:p:{pair}").execute()

    async def succeeded(self, username: str, address: str) -> None:
        pair = self._pair(username, address)
        async with self.redis.pipeline(transaction=True) as pipe:
            await (
                pipe.delete(f"console:tries:p:{pair}", f"console:locks:{pair}")
                .decr(f"console:tries:a:{address}")
                .execute()
            )
