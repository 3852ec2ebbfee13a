"""The outbox worker: delivers submitted applications to the unified platform
and notices to the people, with retries and backoff.

Rows are claimed with a lease (an UPDATE that only one worker can win), so
several workers share the work; a worker that dies mid-request leaves its
row to be claimed again after the lease, and the platform's idempotency key
(our application id) makes the second delivery return the first answer. The
result and the person's notice are written in one transaction.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.applications.notices import NoticeQueue
from bot.applications.ports import Platform, PlatformRefused, PlatformUnavailable, Submitted
from bot.catalog import Catalog
from bot.crypto import Vault
from bot.db.schema import application_items, applications
from bot.outbox import OutboxConsumer, RetryLater

log = logging.getLogger(__name__)

ACCEPTED, REFUSED_ITEM = "已受理", "不予受理"


class OutboxDelivery(OutboxConsumer):
    kinds = ("submit", "supplement")  # notices: bot/notify

    def __init__(
        self,
        db: AsyncEngine,
        vault: Vault,
        catalog: Catalog,
        platform: Platform,
        notices: NoticeQueue,
        callback_url: str | None,
        lease_seconds: float = 60.0,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        poll_seconds: float = 0.5,
    ) -> None:
        super().__init__(db, lease_seconds, base_delay, max_delay, poll_seconds)
        self.vault = vault
        self.catalog = catalog
        self.platform = platform
        self.notices = notices
        self.callback_url = callback_url

    async def handle(self, row: Any) -> None:
        if row.kind == "supplement":
            await self._supplement(row.id, row.payload)
        else:
            await self._submit(row.id, row.ref)

    async def _supplement(self, row_id: int, sealed: str) -> None:
        s = json.loads(self.vault.decrypt(sealed))
        try:
            await self.platform.supplement(s["number"], s["item"], s["text"], s["attachments"])
        except PlatformUnavailable as exc:
            raise RetryLater(str(exc)) from exc
        except PlatformRefused as exc:  # e.g. no longer in 需补正: the platform's callbacks tell the person
            log.error("platform refused a supplement for %s %s: %s", s["number"], s["item"], exc)
            await self.finish(row_id, error=f"refused: {exc}")
            return
        await self.finish(row_id)

    # ---- submit -------------------------------------------------------------

    async def _submit(self, row_id: int, app_id: str) -> None:
        async with self.db.connect() as conn:
            app = (await conn.execute(select(applications).where(applications.c.id == app_id))).one()
        sealed = json.loads(self.vault.decrypt(app.form))
        try:
            result = await self.platform.submit(app_id, self._payload(app, sealed))
        except PlatformUnavailable as exc:
            raise RetryLater(str(exc)) from exc
        except PlatformRefused as exc:
            await self._refused(row_id, app, sealed, exc)
            return
        await self._accepted(row_id, app, sealed, result)

    def _payload(self, app: Any, sealed: dict[str, Any]) -> dict[str, Any]:
        thing = self.catalog.get(app.thing_id)
        items = [
            {"key": i.key, "name": i.name, "dept": i.dept}
            for i in (thing.items if thing else [])
            if i.key in sealed["items"]
        ]
        return {
            "thing_id": app.thing_id,
            "catalog_version": app.catalog_version,
            "channel": app.channel,
            "items": items,
            "form": sealed["answers"],
            "materials": {
                "shared": sealed["shared_materials"],
                "later": sealed["materials_later"],
                "commitments": sealed["commitments"],
            },
            "proxy_relation": sealed.get("proxy_relation"),
            "flags": sealed.get("flags", []),
            "callback_url": self.callback_url,
        }

    async def _accepted(self, row_id: int, app: Any, sealed: dict[str, Any], result: Submitted) -> None:
        now = datetime.now(UTC)
        async with self.db.begin() as conn:
            await conn.execute(
                update(applications)
                .where(applications.c.id == app.id)
                .values(number=result.number, status="accepted", updated_at=now)
            )
            if result.items:  # one statement for every item (psycopg sends them in one round trip)
                await conn.execute(  # a replayed answer must not undo what status events moved since
                    update(application_items)
                    .where(
                        application_items.c.application_id == app.id,
                        application_items.c.item_key == bindparam("b_key"),
                        application_items.c.seq == 0,
                    )
                    # the platform's acceptance is each item's first change (seq 1): its callback adds nothing
                    .values(
                        status=bindparam("b_status"), note=bindparam("b_note"), seq=bindparam("b_seq"), updated_at=now
                    ),
                    [
                        {
                            "b_key": item["key"],
                            "b_status": ACCEPTED if item.get("accepted", True) else REFUSED_ITEM,
                            "b_note": str(item.get("reason", "")),
                            "b_seq": int(item.get("seq", 1)),
                        }
                        for item in result.items
                    ],
                )
            await self.finish(row_id, conn=conn)
            notice = {"kind": "accepted", "thing": app.thing_id, "number": result.number}
            await self.notices.queue(conn, app, notice)

    async def _refused(self, row_id: int, app: Any, sealed: dict[str, Any], exc: PlatformRefused) -> None:
        log.error("platform refused application %s: %s", app.id, exc)
        async with self.db.begin() as conn:
            await conn.execute(
                update(applications)
                .where(applications.c.id == app.id)
                .values(status="needs_staff", updated_at=datetime.now(UTC))
            )
            await self.finish(row_id, error=f"refused: {exc}", conn=conn)
            await self.notices.queue(conn, app, {"kind": "needs_staff", "thing": app.thing_id})
