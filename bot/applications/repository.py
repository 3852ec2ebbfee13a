"""Applications in SQL: written together with their outbox entry in one
transaction, so an acknowledged submission is never lost; read back for
progress questions."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.applications.ports import Platform, PlatformUnavailable
from bot.applications.progress import ProgressTracker, StatusEvent
from bot.catalog import OneThing
from bot.crypto import Vault
from bot.db.schema import application_items, applications, outbox
from bot.dialogue import form
from bot.dialogue.session import Draft, Session
from bot.people.keys import user_key

log = logging.getLogger(__name__)

WAITING = "待报送"


class IncompleteApplication(Exception):
    """The dialogue let through a draft the catalog would not accept: a bug, never sent on."""


def application_payload(thing: OneThing, draft: Draft) -> dict[str, Any]:
    """The merged form as submitted: answers, items, materials, commitments."""
    items = [i.key for i in form.items_in_play(thing, draft)]
    return {
        "thing_id": thing.id,
        "catalog_version": thing.version,
        "items": items,
        "answers": draft.answers,
        "prefilled": draft.prefilled,
        "shared_materials": draft.shared_materials,
        "materials_later": [m.key for m in form.missing_tolerable(thing, draft)],
        "commitments": {k: v.model_dump(mode="json") for k, v in draft.commitments.items()},
        "proxy_relation": draft.proxy_relation,
        "flags": draft.flags,
    }


def application_id(user: str, draft: Draft) -> str:
    """One draft, one application (its id is also the platform's Idempotency-Key): a submission whose
    answer was lost is confirmed again and must not apply twice. Each draft has a random id of its own
    (``consent_id``), so two applications of one person with equal answers stay apart."""
    return hashlib.sha256(f"{user}|{draft.thing}|{draft.consent_id}".encode()).hexdigest()[:32]


class ApplicationRepository:
    def __init__(
        self,
        engine: AsyncEngine,
        vault: Vault,
        catalog_names: dict[str, dict[str, str]],
        platform: Platform | None = None,
        tracker: ProgressTracker | None = None,
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.item_names = catalog_names  # thing id -> item key -> item name
        self.platform = platform  # asked for fresh item status when the person asks
        self.tracker = tracker

    async def submit(self, session: Session, thing: OneThing, draft: Draft) -> str:
        wrong = form.problems(thing, draft)
        if wrong:
            raise IncompleteApplication(wrong)
        payload = application_payload(thing, draft)
        app_id = application_id(session.user, draft)
        sealed = self.vault.encrypt(json.dumps(payload, ensure_ascii=False))
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(applications).values(
                        id=app_id,
                        user_key=user_key(session.user),
                        user_ref=self.vault.encrypt(session.user),
                        channel=session.channel,
                        thing_id=thing.id,
                        catalog_version=thing.version,
                        form=sealed,
                    )
                )
                await conn.execute(
                    insert(application_items),
                    [{"application_id": app_id, "item_key": k, "status": WAITING} for k in payload["items"]],
                )
                await conn.execute(insert(outbox).values(kind="submit", ref=app_id, next_at=datetime.now(UTC)))
        except IntegrityError:
            if not await self._stored(app_id, session.user):
                raise
            # stored before, and the answer lost: Redis restarted or the process died before the
            # session without the draft was saved, so the person confirmed once more
            log.warning("application %s was stored already: not stored twice", app_id)
        return app_id

    async def _stored(self, app_id: str, user: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(applications.c.id).where(applications.c.id == app_id, applications.c.user_key == user_key(user))
            )
            return found.first() is not None

    async def progress(self, user: str, number: str | None = None) -> list[dict[str, Any]]:
        # only the person's own applications, also when asked by number
        query = select(applications).where(applications.c.user_key == user_key(user))
        if number:
            query = query.where(applications.c.number == number)
        query = query.order_by(applications.c.created_at.desc())
        async with self.engine.connect() as conn:
            apps = list(await conn.execute(query.limit(10)))
        for a in apps:
            if a.number and self.platform is not None:
                await self._refresh(a.id, a.number)
        async with self.engine.connect() as conn:
            out = []
            for a in apps:
                rows = await conn.execute(select(application_items).where(application_items.c.application_id == a.id))
                names = self.item_names.get(a.thing_id, {})
                out.append(
                    {
                        "id": a.id,
                        "thing": a.thing_id,
                        "number": a.number,
                        "status": a.status,
                        "at": _local(a.created_at),
                        "items": [
                            {
                                "key": r.item_key,
                                "name": names.get(r.item_key, r.item_key),
                                "status": r.status,
                                "note": r.note,
                                "detail": r.detail or {},
                            }
                            for r in rows
                        ],
                    }
                )
        return out

    async def _refresh(self, app_id: str, number: str) -> None:
        """The platform's answer is the truth; when it is down the stored status is shown.
        What it shows goes through the same state machine as its callbacks (and is told the same way)."""
        assert self.platform is not None
        try:
            items = await self.platform.status(number)
        except PlatformUnavailable as exc:
            log.warning("platform status unavailable, showing stored progress: %s", exc)
            return
        if not items or self.tracker is None:
            return
        for item in items:
            seq = int(item.get("seq") or 0)
            event = StatusEvent(
                event_id=f"poll:{number}:{item['key']}:{seq}",
                number=number,
                item=str(item["key"]),
                status=str(item["status"]),
                seq=seq,
                note=str(item.get("note") or ""),
                detail=dict(item.get("detail") or {}),
            )
            await self.tracker.apply(event)

    async def supplement(self, user: str, number: str, item: str, text: str, attachments: list[str]) -> None:
        """Queue what the person handed in for an item in 需补正: kept through the outbox like a
        submission, so nothing is lost while the platform is down. Only their own applications."""
        payload = {"number": number, "item": item, "text": text, "attachments": attachments}
        async with self.engine.begin() as conn:
            app_id = (
                await conn.execute(
                    select(applications.c.id).where(
                        applications.c.number == number, applications.c.user_key == user_key(user)
                    )
                )
            ).scalar_one_or_none()
            if app_id is None:
                raise LookupError(f"no application {number} of this person")
            sealed = self.vault.encrypt(json.dumps(payload, ensure_ascii=False))
            await conn.execute(
                insert(outbox).values(kind="supplement", ref=app_id, payload=sealed, next_at=datetime.now(UTC))
            )

    async def load_form(self, app_id: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            sealed = (await conn.execute(select(applications.c.form).where(applications.c.id == app_id))).scalar_one()
        return json.loads(self.vault.decrypt(sealed))


def _local(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone().strftime("%Y-%m-%d %H:%M")
