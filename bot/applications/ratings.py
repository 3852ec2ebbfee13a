"""好差评: a person rates an application of theirs once it is finished (every
item 已办结 or 不予受理), once. The comment is encrypted at rest: people
write names and phone numbers into free text."""

from __future__ import annotations

import enum

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.crypto import Vault
from bot.db.schema import application_items, applications, ratings
from bot.dialogue.storage import user_key

FINISHED = {"已办结", "不予受理"}


class Rated(enum.Enum):
    ok = "ok"
    not_found = "not_found"  # no such application of this person
    not_finished = "not_finished"
    already = "already"


class Ratings:
    def __init__(self, engine: AsyncEngine, vault: Vault) -> None:
        self.engine = engine
        self.vault = vault

    async def rate(self, user: str, application_id: str, score: int, comment: str = "") -> Rated:
        who = user_key(user)
        async with self.engine.begin() as conn:
            owner = (
                await conn.execute(select(applications.c.user_key).where(applications.c.id == application_id))
            ).scalar_one_or_none()
            if owner != who:
                return Rated.not_found  # someone else's is as good as none
            statuses = set(
                (
                    await conn.execute(
                        select(application_items.c.status).where(application_items.c.application_id == application_id)
                    )
                ).scalars()
            )
            if not statuses or not statuses <= FINISHED:
                return Rated.not_finished
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        insert(ratings).values(
                            application_id=application_id,
                            user_key=who,
                            score=score,
                            comment=self.vault.encrypt(comment) if comment else "",
                        )
                    )
            except IntegrityError:
                return Rated.already
        return Rated.ok

    async def of(self, user: str) -> dict[str, int]:
        """Application id → score, for this person's rated applications."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ratings.c.application_id, ratings.c.score).where(ratings.c.user_key == user_key(user))
            )
            return {r.application_id: int(r.score) for r in rows}
