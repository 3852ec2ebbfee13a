"""Claiming outbox rows a batch at a time, on SQLite and PostgreSQL: never more rows than asked,
never one row to two workers, and a batch that a slow partner held up hands back what it had not
started before the lease could run out under it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot.db.schema import outbox
from bot.outbox import OutboxConsumer
from bot.settings import Settings
from handlers.services import Services, build_services

KIND = "probe"


class Probe(OutboxConsumer):
    kinds = (KIND,)

    def __init__(self, services: Services, pause: float = 0.0, **timing: Any) -> None:
        super().__init__(services.db, **timing)
        self.pause = pause
        self.handled: list[int] = []

    async def handle(self, row: Any) -> None:
        await asyncio.sleep(self.pause)
        self.handled.append(row.id)
        await self.finish(row.id)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    yield built
    await built.close()


async def queued(services: Services, count: int) -> list[int]:
    async with services.db.begin() as conn:
        for n in range(count):
            await conn.execute(insert(outbox).values(kind=KIND, ref=f"r{n}", payload="", next_at=datetime.now(UTC)))
        return [r.id for r in await conn.execute(select(outbox.c.id).where(outbox.c.kind == KIND))]


async def test_two_workers_claim_every_row_once_and_never_more_than_asked(services: Services) -> None:
    ids = await queued(services, 10)
    a, b = Probe(services), Probe(services)
    batches = await asyncio.gather(*(w.claim_due(3) for w in (a, b, a, b, a, b)))
    assert all(len(batch) <= 3 for batch in batches), [len(b) for b in batches]
    claimed = [row.id for batch in batches for row in batch]
    assert sorted(claimed) == sorted(ids)  # every row, each once
    assert {row.attempts for batch in batches for row in batch} == {1}


async def test_a_batch_held_up_past_half_the_lease_hands_back_what_it_had_not_started(services: Services) -> None:
    ids = await queued(services, 3)
    slow = Probe(services, pause=0.3, lease_seconds=0.4)  # the first row alone outlasts half the lease
    assert await slow.deliver_due() == 1
    assert slow.handled == ids[:1]
    async with services.db.connect() as conn:
        rows = {r.id: r for r in await conn.execute(select(outbox).where(outbox.c.kind == KIND))}
    back = [rows[i] for i in ids[1:]]
    assert all(r.delivered_at is None and r.attempts == 0 for r in back)  # the attempt not counted
    fresh = Probe(services, lease_seconds=0.4)
    assert await fresh.deliver_due() == 2  # due again at once, not after the lease
    assert fresh.handled == ids[1:]
