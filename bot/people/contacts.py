"""How a person may be reached outside the conversation: whether they still
follow the official account, and their subscribe-message grants (订阅消息).

WeChat allows a subscribe message only after the person accepted that
template in the mini-program (each accept: one message), and a template or
customer-service message to the official account only while they follow it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.schema import contact_prefs, subscribe_grants
from bot.people.keys import user_key

ACCEPT = "accept"  # wx.requestSubscribeMessage's answer per template id
MAX_GRANTS = 100  # a person cannot bank more accepts than this of one template


def _upsert(engine: AsyncEngine, table: object) -> object:
    # ON CONFLICT is spelled alike in both back ends, but each needs its own insert()
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)  # type: ignore[arg-type]


class ContactBook:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def set_following(self, user: str, following: bool) -> None:
        now = datetime.now(UTC)
        stmt = _upsert(self.engine, contact_prefs).values(  # type: ignore[attr-defined]
            user_key=user_key(user), wechat_following=following, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_key"], set_={"wechat_following": following, "updated_at": now}
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def set_wants_calls(self, user: str, wanted: bool) -> None:
        now = datetime.now(UTC)
        stmt = _upsert(self.engine, contact_prefs).values(  # type: ignore[attr-defined]
            user_key=user_key(user), voice_calls=wanted, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(index_elements=["user_key"], set_={"voice_calls": wanted, "updated_at": now})
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def wants_calls(self, user: str) -> bool:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(contact_prefs.c.voice_calls).where(contact_prefs.c.user_key == user_key(user))
                )
            ).first()
        return bool(row and row[0])

    async def follows(self, user: str) -> bool:
        """False only after an unfollow we were told of (people we never heard of are assumed reachable)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(contact_prefs.c.wechat_following).where(contact_prefs.c.user_key == user_key(user))
                )
            ).first()
        return True if row is None else bool(row[0])

    async def record_grants(self, user: str, results: dict[str, str]) -> dict[str, int]:
        """Record the accepts of one wx.requestSubscribeMessage; → remaining per accepted template."""
        now = datetime.now(UTC)
        out: dict[str, int] = {}
        async with self.engine.begin() as conn:
            for template_id, answer in results.items():
                if answer != ACCEPT:
                    continue  # reject / ban / filter: nothing granted
                stmt = _upsert(self.engine, subscribe_grants).values(  # type: ignore[attr-defined]
                    user_key=user_key(user), template_id=template_id, remaining=1, updated_at=now
                )
                grown = subscribe_grants.c.remaining + 1
                stmt = stmt.on_conflict_do_update(
                    index_elements=["user_key", "template_id"],
                    set_={"remaining": _least(self.engine, grown), "updated_at": now},
                ).returning(subscribe_grants.c.remaining)
                out[template_id] = int((await conn.execute(stmt)).scalar_one())
        return out

    async def prefs_of(self, users: list[str]) -> dict[str, tuple[bool, bool]]:
        """user → (follows the official account, wants calls), for those we have heard of."""
        keys = {user_key(u): u for u in users}
        if not keys:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(contact_prefs).where(contact_prefs.c.user_key.in_(list(keys))))
            return {keys[r.user_key]: (bool(r.wechat_following), bool(r.voice_calls)) for r in rows}

    async def granted_of(self, users: list[str], template_id: str) -> set[str]:
        """Those of ``users`` with a grant of this template left."""
        keys = {user_key(u): u for u in users}
        if not keys or not template_id:
            return set()
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(subscribe_grants.c.user_key).where(
                    subscribe_grants.c.user_key.in_(list(keys)),
                    subscribe_grants.c.template_id == template_id,
                    subscribe_grants.c.remaining > 0,
                )
            )
            return {keys[r.user_key] for r in rows}

    async def use_grant(self, user: str, template_id: str, conn: Any = None) -> bool:
        """Take one grant for this template; False when there is none (send nothing then)."""
        if conn is None:
            async with self.engine.begin() as own:
                return await self.use_grant(user, template_id, conn=own)
        taken = await conn.execute(
            update(subscribe_grants)
            .where(
                subscribe_grants.c.user_key == user_key(user),
                subscribe_grants.c.template_id == template_id,
                subscribe_grants.c.remaining > 0,
            )
            .values(remaining=subscribe_grants.c.remaining - 1, updated_at=datetime.now(UTC))
        )
        return bool(taken.rowcount == 1)

    async def use_grants(self, users: list[str], template_id: str, conn: Any) -> set[str]:
        """Take one grant each for many people in one statement; → those who had one."""
        keys = {user_key(u): u for u in users}
        if not keys:
            return set()
        taken = await conn.execute(
            update(subscribe_grants)
            .where(
                subscribe_grants.c.user_key.in_(list(keys)),
                subscribe_grants.c.template_id == template_id,
                subscribe_grants.c.remaining > 0,
            )
            .values(remaining=subscribe_grants.c.remaining - 1, updated_at=datetime.now(UTC))
            .returning(subscribe_grants.c.user_key)
        )
        return {keys[r.user_key] for r in taken}

    async def give_back(self, user: str, template_id: str) -> None:
        """WeChat refused the message: the grant was not used up."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(subscribe_grants)
                .where(subscribe_grants.c.user_key == user_key(user), subscribe_grants.c.template_id == template_id)
                .values(remaining=subscribe_grants.c.remaining + 1, updated_at=datetime.now(UTC))
            )


def _least(engine: AsyncEngine, grown: object) -> object:
    # SQLite's two-argument min() is its LEAST
    return (func.least if engine.dialect.name == "postgresql" else func.min)(grown, MAX_GRANTS)
