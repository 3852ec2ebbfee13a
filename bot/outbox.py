"""The transactional outbox, consumed: each consumer owns some kinds of rows,
claims due rows with a lease (an UPDATE only one worker can win, the attempt
count as its version), handles them, and retries failures with backoff.
A worker that dies holding a row leaves it to be claimed again after the lease."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.schema import outbox

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """A partner is down or busy: the row is tried again after a backoff."""


class Deferred(Exception):
    """Not now (quiet hours): the row is taken up again at ``until``, the attempt not counted."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"deferred until {until.isoformat()}")
        self.until = until


def backoff(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential with full jitter: retries of many rows do not stampede a recovering partner."""
    return rng.uniform(0, min(cap, base * 2 ** max(attempts - 1, 0)))


class OutboxConsumer:
    kinds: tuple[str, ...] = ()

    def __init__(
        self,
        db: AsyncEngine,
        lease_seconds: float = 60.0,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        poll_seconds: float = 0.5,
        max_attempts: int | None = None,
        concurrency: int = 1,
        batch: int = 20,
    ) -> None:
        self.db = db
        self.concurrency = concurrency  # rows handled at once (each waits on a partner most of the time)
        self.batch = batch
        self.max_attempts = max_attempts  # then the row goes to the dead-letter list (dead_at), for admins
        self.lease = lease_seconds
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.poll = poll_seconds
        self.rng = random.Random()

    async def handle(self, row: Any) -> None:
        """Deliver one row and mark it done (``finish``); raise ``RetryLater`` to try again."""
        raise NotImplementedError

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                done = await self.deliver_due()
            except Exception:  # database blip: keep the worker alive, try again
                log.exception("outbox pass failed")
                done = 0
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll)

    async def deliver_due(self, limit: int | None = None) -> int:
        # One UPDATE claims the batch (was: a SELECT, then a transaction per row): under load the
        # worker's cost per row was mostly these round trips and commits.
        rows = sorted(await self.claim_due(limit or self.batch), key=lambda r: r.id)  # in order of queueing
        loop = asyncio.get_running_loop()
        claimed_at = loop.time()
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: Any) -> int:
            async with gate:
                if loop.time() - claimed_at > self.lease / 2:
                    # a slow partner held up the batch: the lease could run out under this row, and
                    # another worker deliver it too; handed back, it is due again at once
                    await self.defer(row.id, row.attempts, datetime.now(UTC))
                    return 0
                try:
                    await self.handle(row)
                except Deferred as exc:
                    await self.defer(row.id, row.attempts, exc.until)
                except RetryLater as exc:
                    await self.retry(row.id, row.attempts, str(exc))
                except Exception as exc:  # a bug or a database error: retried, visible in last_error
                    log.exception("outbox row %s failed", row.id)
                    await self.retry(row.id, row.attempts, f"{type(exc).__name__}: {exc}")
                return 1

        if self.concurrency == 1:  # in order, one after another (submissions keep their order)
            return sum([await one(row) for row in rows])
        return sum(await asyncio.gather(*(one(row) for row in rows)))

    async def claim_due(self, limit: int) -> list[Any]:
        """Lease up to ``limit`` due rows of this consumer's kinds in one UPDATE, bumping each
        attempt count; → the rows as claimed (``attempts`` counts this attempt)."""
        now = datetime.now(UTC)
        due = (
            select(outbox.c.id)
            .where(
                outbox.c.kind.in_(self.kinds),
                outbox.c.delivered_at.is_(None),
                outbox.c.dead_at.is_(None),
                outbox.c.next_at <= now,
            )
            .order_by(outbox.c.next_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: two workers never wait on or share a row
            # computed once: PostgreSQL may run a LIMIT … SKIP LOCKED subquery again for each row it
            # updates, and each run skips the rows the last one locked: more rows than asked for
            .cte("due")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        async with self.db.begin() as conn:
            claimed = await conn.execute(
                update(outbox)
                # the due conditions again: a row another worker claimed meanwhile is no longer due
                .where(outbox.c.id.in_(select(due.c.id)), outbox.c.next_at <= now, outbox.c.delivered_at.is_(None))
                .values(next_at=now + timedelta(seconds=self.lease), attempts=outbox.c.attempts + 1)
                .returning(outbox.c.id, outbox.c.kind, outbox.c.ref, outbox.c.payload, outbox.c.attempts)
            )
            return list(claimed)

    async def claim(self, row_id: int, seen_attempts: int) -> int | None:
        """Take one due row for ``lease`` seconds; the attempt count is the version only one claim can bump."""
        now = datetime.now(UTC)
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(outbox)
                .where(
                    outbox.c.id == row_id,
                    outbox.c.attempts == seen_attempts,
                    outbox.c.delivered_at.is_(None),
                    outbox.c.next_at <= now,
                )
                .values(next_at=now + timedelta(seconds=self.lease), attempts=seen_attempts + 1)
            )
            return seen_attempts + 1 if result.rowcount == 1 else None

    async def retry(self, row_id: int, attempts: int, error: str) -> None:
        if self.max_attempts is not None and attempts >= self.max_attempts:
            log.error("outbox row %s gave up after %s attempts: %s", row_id, attempts, error)
            async with self.db.begin() as conn:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row_id)
                    .values(dead_at=datetime.now(UTC), last_error=error[:500])
                )
            return
        delay = backoff(attempts, self.base_delay, self.max_delay, self.rng)
        async with self.db.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(next_at=datetime.now(UTC) + timedelta(seconds=delay), last_error=error[:500])
            )

    async def defer(self, row_id: int, attempts: int, until: datetime) -> None:
        async with self.db.begin() as conn:
            await conn.execute(update(outbox).where(outbox.c.id == row_id).values(next_at=until, attempts=attempts - 1))

    async def finish(self, row_id: int, error: str = "", conn: Any = None) -> None:
        values = {"delivered_at": datetime.now(UTC), "last_error": error[:500]}
        if conn is not None:
            await conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))
            return
        async with self.db.begin() as c:
            await c.execute(update(outbox).where(outbox.c.id == row_id).values(**values))
