"""Drafts started on the phone. A hotline agent, talking to a caller, fills in
what the caller said and the caller gets a six-digit code by SMS; sending the
code in WeChat or the mini-program continues the conversation from that draft.

Codes are kept as keyed digests, live a day, work once; five wrong codes in
an hour lock a person out for the rest of that hour (a million codes must not
be guessable by trying)."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.audit import audit
from bot.crypto import Vault
from bot.db.schema import phone_drafts
from bot.dialogue.storage import user_key

CODE_HOURS = 24
MAX_WRONG = 5
LOCK_SECONDS = 3600


class CodeLocked(Exception):
    """Too many wrong codes from this person lately."""


class PhoneDraftBook:
    def __init__(self, engine: AsyncEngine, redis: Redis, vault: Vault) -> None:
        self.engine = engine
        self.redis = redis
        self.vault = vault

    async def create(self, agent: str, thing_id: str, answers: dict[str, str], phone: str) -> tuple[str, str]:
        """→ (draft id, code). The code is shown to the agent once (to read out if the SMS fails)."""
        draft_id = "P" + uuid.uuid4().hex[:15]
        now = datetime.now(UTC)
        for _ in range(20):
            code = f"{secrets.randbelow(10**6):06d}"
            digest = self.vault.digest(code)
            try:
                async with self.engine.begin() as conn:
                    # an expired code frees its digest for reuse
                    await conn.execute(
                        delete(phone_drafts).where(
                            phone_drafts.c.code_digest == digest, phone_drafts.c.expires_at < now
                        )
                    )
                    await conn.execute(
                        insert(phone_drafts).values(
                            id=draft_id, code_digest=digest, thing_id=thing_id, agent=agent,
                            answers=self.vault.encrypt(json.dumps(answers, ensure_ascii=False)),
                            phone=self.vault.encrypt(phone), created_at=now,
                            expires_at=now + timedelta(hours=CODE_HOURS),
                        )
                    )  # fmt: skip
                    await audit(conn, agent, "phone_draft.create", draft_id, thing=thing_id, fields=sorted(answers))
                return draft_id, code
            except IntegrityError:
                continue  # that code is live for someone else: draw another
        raise RuntimeError("no free phone-draft code after 20 draws")

    async def redeem(self, code: str, user: str) -> tuple[str, dict[str, Any]] | None:
        who = user_key(user)
        wrong_key = f"phone-code:wrong:{who}"
        wrong = int(await self.redis.get(wrong_key) or 0)
        if wrong >= MAX_WRONG:
            raise CodeLocked
        now = datetime.now(UTC)
        digest = self.vault.digest(code)
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(phone_drafts).where(
                        phone_drafts.c.code_digest == digest,
                        phone_drafts.c.redeemed_at.is_(None),
                        phone_drafts.c.expires_at > now,
                    )
                )
            ).first()
            taken = None
            if row is not None:
                taken = await conn.execute(
                    update(phone_drafts)
                    .where(phone_drafts.c.id == row.id, phone_drafts.c.redeemed_at.is_(None))
                    .values(redeemed_at=now, redeemed_by=who, code_digest=f"used:{row.id}")
                )
            if row is None or taken is None or taken.rowcount != 1:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.incr(wrong_key)
                    pipe.expire(wrong_key, LOCK_SECONDS)
                    await pipe.execute()
                return None
            await audit(conn, "system", "phone_draft.redeem", row.id)
        return row.thing_id, json.loads(self.vault.decrypt(row.answers))
