"""An ``Engine`` with nothing outside this process: memory sessions and isolation (no Redis), the
embedded NLU trained once per test session on ``nlu_data/``, and applications kept in a list (no
SQL). The flows' unit tests use it; the Redis- and SQL-backed tests stay for the real thing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from bot.catalog import Catalog, OneThing, load_catalog
from bot.dialogue.engine import Engine
from bot.dialogue.session import Draft, Session
from bot.dialogue.storage import MemoryQueue, MemorySessions
from bot.nlu.engine import EmbeddedNLU
from bot.nlu.service import NluService
from bot.settings import ROOT


@cache
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog")


@cache
def embedded_nlu() -> EmbeddedNLU:
    return EmbeddedNLU.from_dir(ROOT / "nlu_data")


@dataclass
class MemoryApplications:
    """Applications as the engine hands them over: kept, numbered, with items 已受理 (or as a test sets)."""

    submitted: list[dict[str, Any]] = field(default_factory=list)
    supplements: list[tuple[str, str, str, str, list[str]]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def submit(self, session: Session, thing: OneThing, draft: Draft) -> str:
        from bot.dialogue import form

        wrong = form.problems(thing, draft)
        if wrong:  # as the real repository refuses it
            raise ValueError(wrong)
        n = next(self._ids)
        self.submitted.append({
            "id": f"A{n}", "user": session.user, "thing": thing.id, "number": f"SB2026120500{n:04d}",
            "answers": dict(draft.answers), "at": "2026-12-05 10:00",
            "items": [{"key": i.key, "name": i.name, "status": "已受理", "detail": {}} for i in thing.items],
        })  # fmt: skip
        return f"A{n}"

    async def progress(self, user: str, number: str | None = None) -> list[dict[str, Any]]:
        mine = [a for a in self.submitted if a["user"] == user and (number is None or a["number"] == number)]
        return list(reversed(mine))

    async def supplement(self, user: str, number: str, item: str, text: str, attachments: list[str]) -> None:
        self.supplements.append((user, number, item, text, attachments))


def memory_engine(**ports: Any) -> Engine:
    return Engine(
        catalog=catalog(),
        nlu=NluService(embedded_nlu()),
        sessions=MemorySessions(),
        queue=MemoryQueue(),
        applications=ports.pop("applications", MemoryApplications()),
        **ports,
    )
