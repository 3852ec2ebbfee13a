"""Moving what is stored about people to the keys of today's ``LOOKUP_KEY`` (``bot/people/keys.py``):
after the digests became keyed, or after the key was changed. Run by ``python -m bot db upgrade``;
idempotent, and cheap once everything is where it belongs.

Rows that hold the person's id (sealed) get their digest recomputed from it; so do sessions in
Redis. What holds the digest alone (ratings, contact preferences, grants, a phone draft's redeemer,
the conversation's log, inbox and 48-hour window) follows the old → new pairs those yielded."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.crypto import InvalidToken, Vault
from bot.db.schema import applications, contact_prefs, handovers, phone_drafts, ratings, subscribe_grants, work_orders
from bot.people.keys import user_key

SEALED_ID: tuple[Table, ...] = (applications, work_orders, handovers)  # user_key beside user_ref
FOLLOWING: tuple[tuple[Table, str], ...] = (
    (ratings, "user_key"),
    (contact_prefs, "user_key"),
    (subscribe_grants, "user_key"),
    (phone_drafts, "redeemed_by"),
)
REDIS_FOLLOWING = ("live:", "inbox:", "wx:seen:")  # keyed by the digest alone
SESSIONS = "sess:"


async def rekey_people(engine: AsyncEngine, redis: Redis, vault: Vault, batch: int = 500) -> Counter[str]:
    tally: Counter[str] = Counter()
    moved: dict[str, str] = {}
    for table in SEALED_ID:
        last: Any = None
        while True:
            query = select(table.c.id, table.c.user_key, table.c.user_ref).order_by(table.c.id).limit(batch)
            async with engine.connect() as conn:
                rows = list(await conn.execute(query if last is None else query.where(table.c.id > last)))
            if not rows:
                break
            last = rows[-1].id
            async with engine.begin() as conn:
                for row in rows:
                    new = _key_of(vault, row.user_ref, tally, table.name)
                    if new is None or new == row.user_key:
                        continue
                    moved[row.user_key] = new
                    done = await conn.execute(
                        update(table).where(table.c.id == row.id, table.c.user_key == row.user_key).values(user_key=new)
                    )
                    tally[f"{table.name}.user_key"] += done.rowcount
    async for key in redis.scan_iter(SESSIONS + "*", count=500):
        old = key.removeprefix(SESSIONS)
        raw = await redis.get(key)
        try:
            user = json.loads(vault.decrypt(raw))["user"] if raw else None
        except (InvalidToken, ValueError, KeyError, TypeError):
            tally["sessions: unreadable"] += 1
            continue
        new = user_key(str(user)) if user else None
        if new and new != old:
            moved[old] = new
            tally["redis sess:"] += await _rename(redis, key, SESSIONS + new)
    for old, new in moved.items():
        for prefix in REDIS_FOLLOWING:
            tally[f"redis {prefix}"] += await _rename(redis, prefix + old, prefix + new)
    for table, column in FOLLOWING:
        for old, new in moved.items():
            try:
                async with engine.begin() as conn:
                    done = await conn.execute(update(table).where(table.c[column] == old).values({column: new}))
                tally[f"{table.name}.{column}"] += done.rowcount
            except IntegrityError:  # the person has a row under the new key already: that one is newer
                tally[f"{table.name}.{column}: kept the newer"] += 1
    return tally


def _key_of(vault: Vault, sealed: str, tally: Counter[str], where: str) -> str | None:
    try:
        return user_key(vault.decrypt(sealed))
    except InvalidToken:
        tally[f"{where}: no key for user_ref"] += 1
        return None


async def _rename(redis: Redis, old: str, new: str) -> int:
    """Move a key unless one is there already (a turn since the new key took over: it is newer)."""
    try:
        return 1 if await redis.renamenx(old, new) else 0
    except ResponseError as exc:  # "ERR no such key": nothing to move
        if "no such key" in str(exc).lower():
            return 0
        raise
