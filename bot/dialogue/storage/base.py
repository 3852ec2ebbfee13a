"""What the engine needs of storage, whichever keeps it (aiogram's ``BaseStorage`` and
``BaseEventIsolation`` in one): the person's session, and their messages run one at a time.

A turn reads and writes through *stages*: functions given a batch ("pipe") that the storage runs
in one go (Redis: one script call; memory: a list of calls). The engine never looks inside a
batch; each store stages its own reads and writes on it, so a storage family's stores go together
(``RedisSessions`` with ``UserQueue``, ``MemorySessions`` with ``MemoryQueue``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.dialogue.session import Session

Stage = Callable[[Any], None]  # queues commands on a storage's batch


@dataclass
class Held:
    """A turn of one person's queue, held."""

    user: str
    ticket: int
    peeked: list[Any]  # what ``along`` read, once the turn was ours
    released: bool = False


class Sessions(Protocol):
    async def load(self, user: str, channel: str) -> Session: ...

    async def save(self, session: Session) -> None: ...

    def stage_load(self, pipe: Any, user: str) -> None: ...

    def stage_save(self, pipe: Any, session: Session) -> None: ...

    def parse(self, raw: Any, user: str, channel: str) -> Session: ...

    async def forget(self, user: str) -> None: ...


class Isolation(Protocol):
    """One person's messages one after another; different people never wait for each other."""

    def turn(self, user: str, along: Sequence[Stage] = ()) -> AbstractAsyncContextManager[Held]: ...

    async def commit(self, held: Held, stages: Sequence[Stage]) -> list[Any]: ...
