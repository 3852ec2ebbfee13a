"""Drafts started on the phone. A hotline agent, talking to a caller, fills in
what the caller said and the caller gets a six-digit code by SMS; sending the
code in WeChat or the mini-program, with the phone number the SMS went to,
continues the conversation from that draft.

Codes are kept as keyed digests, live a day, work once, and only with the
phone number the draft was made for (a guessed code alone gets nothing, and
the answer never tells which of the two was wrong). Every try counts before it
is checked, so a burst of parallel guesses cannot slip past the limits: five
wrong tries in an hour lock a person out for that hour; three wrong phone
numbers with a live code burn that code; and more than ``MAX_WRONG_ALL`` wrong
tries in an hour across everyone (many identities guessing together) close
redemption for the rest of that hour."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
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
from bot.people.keys import user_key

log = logging.getLogger(__name__)

CODE_HOURS = 24
MAX_WRONG = 5  # per person, in LOCK_SECONDS
LOCK_SECONDS = 3600
MAX_WRONG_PER_CODE = 3  # wrong phone numbers given with one live code: then it is burnt
MAX_WRONG_ALL = 200  # wrong tries in one clock hour, everyone together


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

    async def redeem(self, code: str, user: str, phone: str) -> tuple[str, dict[str, Any]] | None:
        """(thing id, answers) when ``code`` is live and was sent to ``phone``; None otherwise, alike
        for a wrong code and a wrong phone. Raises ``CodeLocked`` past a limit."""
        mine, everyone = f"phone-code:tries:{user_key(user)}", f"phone-code:tries:all:{int(time.time()) // 3600}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(mine).expire(mine, LOCK_SECONDS).incr(everyone).expire(everyone, 3600)
            tries, _, all_tries, _ = await pipe.execute()
        if tries > MAX_WRONG or all_tries > MAX_WRONG_ALL:
            if all_tries == MAX_WRONG_ALL + 1:
                log.warning("phone-draft codes: %d wrong tries this hour, redemption closed", MAX_WRONG_ALL)
            raise CodeLocked
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(phone_drafts).where(
                        phone_drafts.c.code_digest == self.vault.digest(code),
                        phone_drafts.c.redeemed_at.is_(None),
                        phone_drafts.c.expires_at > now,
                    )
                )
            ).first()
            if row is None:
                return None
            sent_to = self.vault.decrypt(row.phone).encode()
            if not hmac.compare_digest(sent_to, phone.encode("utf-8", "surrogatepass")):
                await self._wrong_phone(conn, row.id, now)
                return None
            taken = await conn.execute(
                update(phone_drafts)
                .where(phone_drafts.c.id == row.id, phone_drafts.c.redeemed_at.is_(None))
                .values(redeemed_at=now, redeemed_by=user_key(user), code_digest=f"used:{row.id}")
            )
            if taken.rowcount != 1:
                return None
            await audit(conn, "system", "phone_draft.redeem", row.id)
        async with self.redis.pipeline(transaction=True) as pipe:  # a right try is not a wrong one
            await pipe.decr(mine).decr(everyone).execute()
        return row.thing_id, json.loads(self.vault.decrypt(row.answers))

    async def _wrong_phone(self, conn: Any, draft_id: str, now: datetime) -> None:
        """A live code given with another phone number: after a few, the code is burnt (the caller
        asks 12345 for a new one), so that knowing a code is not enough to try phone numbers."""
        key = f"phone-code:tries:code:{draft_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            wrong, _ = await pipe.incr(key).expire(key, CODE_HOURS * 3600).execute()
        if wrong >= MAX_WRONG_PER_CODE:
            await conn.execute(
                update(phone_drafts)
                .where(phone_drafts.c.id == draft_id, phone_drafts.c.redeemed_at.is_(None))
                .values(redeemed_at=now, redeemed_by="burnt", code_digest=f"burnt:{draft_id}")
            )
            await audit(conn, "system", "phone_draft.burn", draft_id, wrong_phones=wrong)
