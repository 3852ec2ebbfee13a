"""Sessions and per-person isolation in this process's memory (as aiogram's ``MemoryStorage`` and
``SimpleEventIsolation``): for tests of the dialogue without Redis, and a single process that may
forget everything at exit. A batch is a list of calls run in order; sessions are kept as JSON, so
that what a turn changes reaches the store only when the turn saves it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from bot.dialogue.session import Session
from bot.dialogue.storage.base import Held, Stage


class MemoryBatch:
    """The memory stores' "pipeline": the calls staged on it, run in order by ``run``."""

    def __init__(self) -> None:
        self._calls: list[Callable[[], Any]] = []

    def call(self, fn: Callable[[], Any]) -> None:
        self._calls.append(fn)

    def run(self) -> list[Any]:
        return [fn() for fn in self._calls]


def _run(stages: Sequence[Stage]) -> list[Any]:
    batch = MemoryBatch()
    for stage in stages:
        stage(batch)
    return batch.run()


class MemoryQueue:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        self._tickets = itertools.count(1)

    @contextlib.asynccontextmanager
    async def turn(self, user: str, along: Sequence[Stage] = ()) -> AsyncIterator[Held]:
        lock = self._locks.setdefault(user, asyncio.Lock())
        self._waiting[user] = self._waiting.get(user, 0) + 1
        try:
            async with lock:  # asyncio's lock wakes waiters in arrival order
                yield Held(user, next(self._tickets), _run(along))
        finally:
            self._waiting[user] -= 1
            if not self._waiting[user]:  # nobody else for this person: forget the lock
                del self._waiting[user], self._locks[user]

    async def commit(self, held: Held, stages: Sequence[Stage]) -> list[Any]:
        answered = _run(stages)
        held.released = True
        return answered


class MemorySessions:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    async def load(self, user: str, channel: str) -> Session:
        return self.parse(self._data.get(user), user, channel)

    async def save(self, session: Session) -> None:
        self._data[session.user] = session.model_dump_json()

    def stage_load(self, pipe: MemoryBatch, user: str) -> None:
        pipe.call(lambda: self._data.get(user))

    def stage_save(self, pipe: MemoryBatch, session: Session) -> None:
        snapshot = session.model_dump_json()  # as it is now, not as it may be when the batch runs
        pipe.call(lambda: self._data.__setitem__(session.user, snapshot))

    def parse(self, raw: Any, user: str, channel: str) -> Session:
        return Session(user=user, channel=channel) if raw is None else Session.model_validate_json(raw)

    async def forget(self, user: str) -> None:
        self._data.pop(user, None)
