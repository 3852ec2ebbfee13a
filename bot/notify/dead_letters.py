"""The dead-letter list, for admins: outbox rows nobody could deliver after
every retry (a notice no channel took, a submission or work order a partner
kept refusing), with what each channel said; an admin may send one again.
What is shown of a person is masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.audit import audit
from bot.crypto import Vault
from bot.db.schema import notification_deliveries, outbox
from bot.masking import mask_text, mask_value
from bot.people.ref import UserRef


def _who(user: str) -> str:
    ref = UserRef.parse(user)
    return f"{ref.channel}:…{ref.id[-4:]}" if ref.id else ref.channel


class DeadLetters:
    def __init__(self, engine: AsyncEngine, vault: Vault) -> None:
        self.engine = engine
        self.vault = vault

    async def listing(self, limit: int = 200) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = list(
                await conn.execute(
                    select(outbox)
                    .where(outbox.c.dead_at.is_not(None), outbox.c.delivered_at.is_(None))
                    .order_by(outbox.c.dead_at.desc())
                    .limit(limit)
                )
            )
            ids = [r.id for r in rows]
            tried: dict[int, dict[str, str]] = {}
            if ids:
                for d in await conn.execute(
                    select(notification_deliveries).where(notification_deliveries.c.outbox_id.in_(ids))
                ):
                    tried.setdefault(d.outbox_id, {})[d.channel] = f"{d.outcome} {mask_text(d.detail)}".strip()
        return [self._show(r, tried.get(r.id, {})) for r in rows]

    def _show(self, row: Any, tried: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row.id, "kind": row.kind, "ref": row.ref, "attempts": row.attempts,
            "last_error": mask_text(row.last_error), "created_at": row.created_at.isoformat(),
            "dead_at": row.dead_at.isoformat(), "channels": tried,
        }  # fmt: skip
        if row.kind == "notify" and row.payload:
            payload = json.loads(self.vault.decrypt(row.payload))
            notice = payload.get("notice", {})
            out["to"] = _who(str(payload.get("user", "")))
            out["phone"] = mask_value("phone", payload["phone"]) if payload.get("phone") else ""
            out["notice"] = {k: notice.get(k) for k in ("kind", "thing", "number", "item", "status") if k in notice}
        return out

    async def retry(self, outbox_id: int, actor: str) -> bool:
        """Back into the outbox with fresh attempts; False when it is not on the list."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.dead_at.is_not(None), outbox.c.delivered_at.is_(None))
                .values(dead_at=None, attempts=0, next_at=datetime.now(UTC))
            )
            if done.rowcount != 1:
                return False
            await audit(conn, actor, "outbox.retry", str(outbox_id))
        return True
