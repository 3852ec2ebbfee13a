"""Key rotation: every stored value sealed with an older key (or an older
cipher) is opened and sealed again with the newest key of ``DATA_KEYS``
(``python -m bot keys rotate``). Safe to run while the service runs and to run
again: a value already current is left alone, and each row is rewritten only
if it did not change meanwhile. Afterwards the old key can leave ``DATA_KEYS``
(after ``SESSION_TTL_DAYS``: conversation logs, append-only, age out instead)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.crypto import InvalidToken, Vault
from bot.db.schema import applications, handovers, outbox, phone_drafts, ratings, work_orders

# (table, its primary key, the sealed columns)
SEALED: list[tuple[Table, str, tuple[str, ...]]] = [
    (applications, "id", ("user_ref", "form")),
    (work_orders, "id", ("user_ref", "request", "result")),
    (handovers, "id", ("user_ref", "summary")),
    (phone_drafts, "id", ("answers", "phone")),
    (ratings, "id", ("comment",)),
    (outbox, "id", ("payload",)),
]
REDIS_VALUES = ("sess:*", "wx:msg:*")  # string values
REDIS_HASHES = ("inbox:*",)  # every field's value


def _reseal(vault: Vault, value: Any, tally: Counter[str], where: str) -> str | None:
    """The value sealed anew, or None when it needs nothing (empty, current, or not sealed at all)."""
    if not value or not isinstance(value, str) or vault.is_current(value):
        return None
    try:
        return vault.reseal(value)
    except InvalidToken:
        tally[f"{where}: not sealed or no key for it"] += 1  # a plain marker (e.g. "pending") or a lost key
        return None


async def rotate_sql(engine: AsyncEngine, vault: Vault, batch: int = 500) -> Counter[str]:
    tally: Counter[str] = Counter()
    for table, pk, columns in SEALED:
        key = table.c[pk]
        last: Any = None
        while True:
            query = select(key, *(table.c[c] for c in columns)).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            async with engine.connect() as conn:
                rows = list(await conn.execute(query))
            if not rows:
                break
            last = rows[-1][0]
            async with engine.begin() as conn:
                for row in rows:
                    for column in columns:
                        old = row._mapping[column]
                        new = _reseal(vault, old, tally, f"{table.name}.{column}")
                        if new is None:
                            continue
                        done = await conn.execute(
                            update(table).where(key == row[0], table.c[column] == old).values({column: new})
                        )
                        tally[f"{table.name}.{column}"] += done.rowcount
    return tally


async def rotate_redis(redis: Redis, vault: Vault) -> Counter[str]:
    tally: Counter[str] = Counter()
    for pattern in REDIS_VALUES:
        async for key in redis.scan_iter(pattern, count=500):
            old = await redis.get(key)
            new = _reseal(vault, old, tally, pattern)
            if new is None:
                continue
            ttl = await redis.pttl(key)
            # only if unchanged meanwhile (a turn may have saved a fresher session)
            async with redis.pipeline(transaction=True) as pipe:
                await pipe.watch(key)
                if await pipe.get(key) == old:
                    pipe.multi()
                    pipe.set(key, new, px=ttl if ttl > 0 else None)
                    await pipe.execute()
                    tally[pattern] += 1
    for pattern in REDIS_HASHES:
        async for key in redis.scan_iter(pattern, count=500):
            for field, old in (await redis.hgetall(key)).items():
                new = _reseal(vault, old, tally, pattern)
                if new is not None and await redis.hget(key, field) == old:
                    await redis.hset(key, field, new)
                    tally[pattern] += 1
    return tally
