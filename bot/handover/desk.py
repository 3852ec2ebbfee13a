"""The queue of conversations waiting for a hotline agent, in SQL (shared by
every process). A person has at most one open handover; a claim is a
conditional UPDATE, so two agents can never hold one conversation; an agent's
console keeps ``agent_seen_at`` fresh, and a claim gone quiet goes back into
line (``abandoned`` + ``requeue``, run by the worker). Every agent action is
audited in the transaction that does it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.audit import audit
from bot.crypto import Vault
from bot.db.schema import handovers
from bot.people.keys import user_key

WAITING, CLAIMED, CLOSED = "waiting", "claimed", "closed"
OPEN = (WAITING, CLAIMED)


@dataclass(frozen=True)
class Handover:
    id: str
    user: str
    channel: str
    thing_id: str
    reason: str
    status: str
    agent: str | None
    created_at: datetime
    queued_at: datetime
    claimed_at: datetime | None
    agent_seen_at: datetime | None
    told_at: datetime | None
    closed_at: datetime | None
    outcome: str
    summary: str

    def waited_seconds(self, now: datetime | None = None) -> int:
        return max(0, int(((now or datetime.now(UTC)) - self.queued_at).total_seconds()))


def _utc(at: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes: they were stored as UTC
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


class HandoverDesk:
    def __init__(self, engine: AsyncEngine, vault: Vault) -> None:
        self.engine = engine
        self.vault = vault

    def _of(self, row: Any) -> Handover:
        return Handover(
            id=row.id,
            user=self.vault.decrypt(row.user_ref),
            channel=row.channel,
            thing_id=row.thing_id,
            reason=row.reason,
            status=row.status,
            agent=row.agent,
            created_at=_utc(row.created_at),  # type: ignore[arg-type]
            queued_at=_utc(row.queued_at),  # type: ignore[arg-type]
            claimed_at=_utc(row.claimed_at),
            agent_seen_at=_utc(row.agent_seen_at),
            told_at=_utc(row.told_at),
            closed_at=_utc(row.closed_at),
            outcome=row.outcome,
            summary=self.vault.decrypt(row.summary) if row.summary else "",
        )

    async def open(self, user: str, channel: str, thing_id: str | None, reason: str) -> tuple[Handover, bool]:
        """The person's open handover, or a new one in line; → (it, whether it is new).
        Called inside the person's turn, so two of their messages never race here."""
        existing = await self.open_for(user)
        if existing is not None:
            return existing, False
        now = datetime.now(UTC)
        new_id = "H" + uuid.uuid4().hex[:15]
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(handovers).values(
                    id=new_id, user_key=user_key(user), user_ref=self.vault.encrypt(user), channel=channel,
                    thing_id=thing_id or "", reason=reason, status=WAITING, created_at=now, queued_at=now,
                )
            )  # fmt: skip
            await audit(conn, "system", "handover.open", new_id, reason=reason, channel=channel, thing=thing_id or "")
        found = await self.get(new_id)
        assert found is not None
        return found, True

    async def get(self, handover_id: str) -> Handover | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(handovers).where(handovers.c.id == handover_id))).first()
        return self._of(row) if row is not None else None

    async def open_for(self, user: str) -> Handover | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(handovers)
                    .where(handovers.c.user_key == user_key(user), handovers.c.status.in_(OPEN))
                    .order_by(handovers.c.created_at.desc())
                )
            ).first()
        return self._of(row) if row is not None else None

    async def waiting(self) -> list[Handover]:
        """The line, longest waiting first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(handovers).where(handovers.c.status == WAITING).order_by(handovers.c.queued_at, handovers.c.id)
            )
            return [self._of(r) for r in rows]

    async def claimed_by(self, agent: str) -> list[Handover]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(handovers)
                .where(handovers.c.status == CLAIMED, handovers.c.agent == agent)
                .order_by(handovers.c.claimed_at)
            )
            return [self._of(r) for r in rows]

    async def position(self, handover: Handover) -> int:
        """1 for the first in line."""
        async with self.engine.connect() as conn:
            ahead = (
                await conn.execute(
                    select(func.count()).where(
                        handovers.c.status == WAITING, handovers.c.queued_at < handover.queued_at
                    )
                )
            ).scalar_one()
        return int(ahead) + 1

    async def claim(self, handover_id: str, agent: str) -> Handover | None:
        """The handover, now this agent's; None when someone else has it or it is closed."""
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            taken = await conn.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.status == WAITING)
                .values(status=CLAIMED, agent=agent, claimed_at=now, agent_seen_at=now)
            )
            if taken.rowcount != 1:
                return None
            await audit(conn, agent, "handover.claim", handover_id)
        return await self.get(handover_id)

    async def seen(self, handover_id: str, agent: str) -> bool:
        """The agent's console is still there; False when the handover is no longer theirs."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.status == CLAIMED, handovers.c.agent == agent)
                .values(agent_seen_at=datetime.now(UTC))
            )
            return bool(done.rowcount == 1)

    async def close(self, handover_id: str, agent: str, outcome: str, summary: str = "") -> Handover | None:
        """Handed back to the bot or closed; None when it was not this agent's to close."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.status == CLAIMED, handovers.c.agent == agent)
                .values(
                    status=CLOSED,
                    closed_at=datetime.now(UTC),
                    outcome=outcome,
                    summary=self.vault.encrypt(summary) if summary else "",
                )
            )
            if done.rowcount != 1:
                return None
            await audit(conn, agent, f"handover.{outcome}", handover_id, summary_chars=len(summary))
        return await self.get(handover_id)

    async def withdraw(self, handover_id: str) -> bool:
        """The person no longer waits (they said so, or an agent was not needed after all)."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.status == WAITING)
                .values(status=CLOSED, closed_at=datetime.now(UTC), outcome="withdrawn")
            )
            if done.rowcount == 1:
                await audit(conn, "system", "handover.withdrawn", handover_id)
            return bool(done.rowcount == 1)

    async def release(self, handover_id: str, agent: str, actor: str | None = None) -> bool:
        """Back into line (at its old place): the agent let go, or their console went quiet."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.status == CLAIMED, handovers.c.agent == agent)
                .values(status=WAITING, agent=None, claimed_at=None, agent_seen_at=None)
            )
            if done.rowcount == 1:
                await audit(conn, actor or agent, "handover.requeue", handover_id, agent=agent)
            return bool(done.rowcount == 1)

    async def abandoned(self, before: datetime) -> list[Handover]:
        """Claims whose console has not been seen since ``before``."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(handovers).where(handovers.c.status == CLAIMED, handovers.c.agent_seen_at < before)
            )
            return [self._of(r) for r in rows]

    async def overdue(self, before: datetime) -> list[Handover]:
        """Waiting since before ``before`` and not yet told when to expect an answer."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(handovers).where(
                    handovers.c.status == WAITING, handovers.c.queued_at < before, handovers.c.told_at.is_(None)
                )
            )
            return [self._of(r) for r in rows]

    async def mark_told(self, handover_id: str) -> bool:
        """True for the one process that marks it (the person is told once)."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.told_at.is_(None))
                .values(told_at=datetime.now(UTC))
            )
            return bool(done.rowcount == 1)
