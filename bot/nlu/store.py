"""SQL storage of the admins' NLU work: examples, fallbacks, model versions,
and the audit trail of every change (who, when, what)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.audit import audit
from bot.db.schema import nlu_examples, nlu_fallbacks, nlu_models
from bot.nlu.data import TrainingData, dump, parse_example


class DuplicateExample(Exception):
    """The same example text exists already (under some intent)."""


class NotFound(Exception):
    pass


class AlreadyHandled(Exception):
    """The inbox entry was labelled or dismissed already (by someone else, a moment ago)."""


def summary(evaluation: dict[str, Any]) -> dict[str, Any]:
    """A version's figures without its report (per-intent rows, confusions, errors): for lists and audit."""
    return {k: v for k, v in evaluation.items() if k != "report"}


@dataclass(frozen=True)
class ModelVersion:
    version: int
    status: str
    created_at: datetime
    created_by: str
    examples: int
    data_sha256: str
    evaluation: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "examples": self.examples,
            "data_sha256": self.data_sha256,
            "evaluation": summary(self.evaluation),
        }


def _now() -> datetime:
    return datetime.now(UTC)


async def _audit(conn: AsyncConnection, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
    await audit(conn, actor, action, target, **detail)


class NluStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # ---- examples ---------------------------------------------------------

    async def seed_if_empty(self, data: TrainingData, actor: str = "system") -> int:
        """Import nlu_data/ once, when nobody has trained anything yet."""
        try:
            async with self.engine.begin() as conn:
                if (await conn.execute(select(func.count()).select_from(nlu_examples))).scalar_one():
                    return 0
                rows = [{"intent": e.intent, "text": e.raw or e.text, "created_by": actor} for e in data.examples]
                await conn.execute(insert(nlu_examples), rows)
                await _audit(conn, actor, "nlu.seed", "nlu_examples", {"examples": len(rows)})
                return len(rows)
        except IntegrityError:
            return 0  # another process seeded at the same moment

    async def intents(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(nlu_examples.c.intent, func.count())
                .group_by(nlu_examples.c.intent)
                .order_by(nlu_examples.c.intent)
            )
            return [{"intent": i, "examples": n} for i, n in result]

    async def examples(self, intent: str | None = None) -> list[dict[str, Any]]:
        query = select(nlu_examples.c.id, nlu_examples.c.intent, nlu_examples.c.text).order_by(nlu_examples.c.id)
        if intent is not None:
            query = query.where(nlu_examples.c.intent == intent)
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def add_example(self, intent: str, text: str, actor: str) -> int:
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    insert(nlu_examples).values(intent=intent, text=text, created_by=actor).returning(nlu_examples.c.id)
                )
                example_id = int(result.scalar_one())
                await _audit(conn, actor, "nlu.example.add", f"example:{example_id}", {"intent": intent, "text": text})
                return example_id
        except IntegrityError as exc:
            raise DuplicateExample(text) from exc

    async def update_example(self, example_id: int, actor: str, intent: str | None, text: str | None) -> None:
        try:
            async with self.engine.begin() as conn:
                old = (await conn.execute(select(nlu_examples).where(nlu_examples.c.id == example_id))).first()
                if old is None:
                    raise NotFound(example_id)
                values = {"intent": intent or old.intent, "text": text or old.text, "updated_at": _now()}
                await conn.execute(update(nlu_examples).where(nlu_examples.c.id == example_id).values(**values))
                detail = {
                    "from": {"intent": old.intent, "text": old.text},
                    "to": {k: values[k] for k in ("intent", "text")},
                }
                await _audit(conn, actor, "nlu.example.edit", f"example:{example_id}", detail)
        except IntegrityError as exc:
            raise DuplicateExample(text or "") from exc

    async def delete_example(self, example_id: int, actor: str) -> None:
        async with self.engine.begin() as conn:
            old = (await conn.execute(select(nlu_examples).where(nlu_examples.c.id == example_id))).first()
            if old is None:
                raise NotFound(example_id)
            await conn.execute(delete(nlu_examples).where(nlu_examples.c.id == example_id))
            await _audit(
                conn, actor, "nlu.example.remove", f"example:{example_id}", {"intent": old.intent, "text": old.text}
            )

    async def training_data(self, entities: TrainingData) -> TrainingData:
        """The examples in the database, with the lookups, synonyms and regexes of nlu_data/."""
        data = TrainingData(
            synonyms=dict(entities.synonyms), lookups=dict(entities.lookups), regexes=dict(entities.regexes)
        )
        data.examples = [parse_example(r["text"], r["intent"]) for r in await self.examples()]
        for e in data.examples:
            for s in e.entities:
                if s.value != s.text:
                    data.synonyms.setdefault(s.text, s.value)
        return data

    # ---- fallbacks: the inbox of utterances to label ----------------------

    async def record_fallback(self, channel: str, masked_text: str) -> None:
        # what no database can store (a lone surrogate from a broken client) is replaced, not lost
        text = masked_text[:500].encode("utf-8", "replace").decode("utf-8")
        async with self.engine.begin() as conn:
            await conn.execute(insert(nlu_fallbacks).values(channel=channel[:32], text=text))

    async def record_correction(
        self, channel: str, masked_text: str, intent: str, actor: str, handover: str
    ) -> tuple[int, bool]:
        """An agent says what a (masked) utterance meant. The same text still open in the
        inbox (it fell back, or was corrected before) takes the suggestion instead of
        appearing twice. → (inbox id, merged)."""
        text = masked_text[:500]
        async with self.engine.begin() as conn:
            same = (
                await conn.execute(
                    select(nlu_fallbacks.c.id)
                    .where(_open(), nlu_fallbacks.c.text == text)
                    .order_by(nlu_fallbacks.c.id.desc())
                    .limit(1)
                )
            ).first()
            if same is not None:
                fallback_id = int(same.id)
                await conn.execute(
                    update(nlu_fallbacks)
                    .where(nlu_fallbacks.c.id == fallback_id)
                    .values(source="agent", suggested_intent=intent)
                )
            else:
                result = await conn.execute(
                    insert(nlu_fallbacks)
                    .values(channel=channel[:32], text=text, source="agent", suggested_intent=intent)
                    .returning(nlu_fallbacks.c.id)
                )
                fallback_id = int(result.scalar_one())
            detail = {"intent": intent, "handover": handover, "merged": same is not None}
            await _audit(conn, actor, "nlu.correction", f"fallback:{fallback_id}", detail)
        return fallback_id, same is not None

    async def fallbacks(
        self, unlabelled_only: bool = True, limit: int = 200, source: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest first; ``unlabelled_only``: the inbox (neither labelled nor dismissed)."""
        query = select(nlu_fallbacks).order_by(nlu_fallbacks.c.at.desc(), nlu_fallbacks.c.id.desc()).limit(limit)
        if unlabelled_only:
            query = query.where(_open())
        if source is not None:
            query = query.where(nlu_fallbacks.c.source == source)
        async with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in await conn.execute(query)]
        for r in rows:
            for key in ("at", "dismissed_at"):
                r[key] = r[key].isoformat() if r[key] is not None else None
        return rows

    async def label_fallback(self, fallback_id: int, intent: str | None, actor: str, text: str | None = None) -> int:
        """The utterance (or ``text``, the admin's annotated version of it) becomes a training
        example of ``intent`` (None: the agent's suggestion), in one transaction. → example id."""
        try:
            async with self.engine.begin() as conn:
                row = await _inbox_row(conn, fallback_id)
                intent = intent or row.suggested_intent
                if not intent:
                    raise ValueError("no intent given and none suggested")
                await _take(conn, fallback_id, labelled_intent=intent, labelled_by=actor)
                example = text or row.text
                result = await conn.execute(
                    insert(nlu_examples)
                    .values(intent=intent, text=example, created_by=actor)
                    .returning(nlu_examples.c.id)
                )
                example_id = int(result.scalar_one())
                detail = {"intent": intent, "suggested": row.suggested_intent, "source": row.source}
                await _audit(conn, actor, "nlu.fallback.label", f"fallback:{fallback_id}", detail)
                await _audit(
                    conn, actor, "nlu.example.add", f"example:{example_id}", {"intent": intent, "text": example}
                )
                return example_id
        except IntegrityError as exc:
            raise DuplicateExample(text or "") from exc

    async def dismiss_fallback(self, fallback_id: int, actor: str) -> None:
        """Not worth learning from (noise, or personal data the masking missed): out of the inbox."""
        async with self.engine.begin() as conn:
            row = await _inbox_row(conn, fallback_id)
            await _take(conn, fallback_id, dismissed_at=_now(), dismissed_by=actor)
            detail = {"source": row.source, "suggested": row.suggested_intent}
            await _audit(conn, actor, "nlu.fallback.dismiss", f"fallback:{fallback_id}", detail)

    # ---- model versions ---------------------------------------------------

    async def save_model(self, data: TrainingData, actor: str, evaluation: dict[str, Any]) -> int:
        text = dump(data)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                insert(nlu_models)
                .values(
                    created_by=actor,
                    examples=len(data.examples),
                    data_sha256=hashlib.sha256(text.encode()).hexdigest(),
                    data=text,
                    evaluation=evaluation,
                )
                .returning(nlu_models.c.version)
            )
            version = int(result.scalar_one())
            await _audit(conn, actor, "nlu.model.train", f"model:{version}", summary(evaluation))
            return version

    async def models(self) -> list[ModelVersion]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(nlu_models).order_by(nlu_models.c.version.desc()))
            return [_version(r) for r in rows]

    async def model(self, version: int) -> tuple[ModelVersion, str]:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(nlu_models).where(nlu_models.c.version == version))).first()
        if row is None:
            raise NotFound(version)
        return _version(row), row.data

    async def active(self) -> ModelVersion | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(nlu_models).where(nlu_models.c.status == "active"))).first()
        return _version(row) if row else None

    async def previous_active(self) -> ModelVersion | None:
        """The version that was active before the current one (for roll-back)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(nlu_models)
                    .where(nlu_models.c.status == "retired", nlu_models.c.activated_at.is_not(None))
                    .order_by(nlu_models.c.activated_at.desc())
                    .limit(1)
                )
            ).first()
        return _version(row) if row else None

    async def activate(self, version: int, actor: str, detail: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            if not (await conn.execute(select(nlu_models.c.version).where(nlu_models.c.version == version))).first():
                raise NotFound(version)
            await conn.execute(update(nlu_models).where(nlu_models.c.status == "active").values(status="retired"))
            await conn.execute(
                update(nlu_models).where(nlu_models.c.version == version).values(status="active", activated_at=_now())
            )
            await _audit(conn, actor, "nlu.model.activate", f"model:{version}", detail)


def _open() -> Any:
    return (nlu_fallbacks.c.labelled_intent.is_(None)) & (nlu_fallbacks.c.dismissed_at.is_(None))


async def _inbox_row(conn: AsyncConnection, fallback_id: int) -> Any:
    row = (await conn.execute(select(nlu_fallbacks).where(nlu_fallbacks.c.id == fallback_id))).first()
    if row is None:
        raise NotFound(fallback_id)
    if row.labelled_intent is not None or row.dismissed_at is not None:
        raise AlreadyHandled(fallback_id)
    return row


async def _take(conn: AsyncConnection, fallback_id: int, **values: Any) -> None:
    """Close an inbox entry, conditionally: of two admins acting at once, one wins."""
    result = await conn.execute(
        update(nlu_fallbacks).where(nlu_fallbacks.c.id == fallback_id, _open()).values(**values)
    )
    if result.rowcount != 1:
        raise AlreadyHandled(fallback_id)


def _version(row: Any) -> ModelVersion:
    return ModelVersion(
        version=row.version,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        examples=row.examples,
        data_sha256=row.data_sha256,
        evaluation=row.evaluation,
    )
