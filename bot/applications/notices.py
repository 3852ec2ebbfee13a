"""Notices to people about their applications, queued in the transactional
outbox (kind ``notify``) with the change they announce. The payload is
encrypted: it names the person, their channel id and the phone number the
application gave (for SMS when no WeChat channel reaches them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from bot.catalog import Catalog
from bot.catalog.models import FieldType
from bot.crypto import Vault
from bot.db.schema import outbox


class NoticeQueue:
    def __init__(self, vault: Vault, catalog: Catalog) -> None:
        self.vault = vault
        self.catalog = catalog

    def phone_of(self, app: Any) -> str | None:
        """The applicant's phone as the form gave it (the first phone field answered)."""
        thing = self.catalog.get(app.thing_id)
        if thing is None:
            return None
        answers = json.loads(self.vault.decrypt(app.form)).get("answers", {})
        for f in thing.form.fields:
            if f.type is FieldType.phone and answers.get(f.id):
                return str(answers[f.id])
        return None

    async def queue(self, conn: Any, app: Any, notice: dict[str, Any], urgent: bool = False) -> None:
        """A notice about an application, to the person who applied."""
        user = self.vault.decrypt(app.user_ref)
        await self.queue_to(conn, user, app.channel, self.phone_of(app), notice, urgent, ref=app.id)

    async def queue_to(
        self,
        conn: Any,
        user: str,
        channel: str,
        phone: str | None,
        notice: dict[str, Any],
        urgent: bool = False,
        ref: str = "",
    ) -> None:
        payload = {"user": user, "channel": channel, "phone": phone, "urgent": urgent, "notice": notice}
        sealed = self.vault.encrypt(json.dumps(payload, ensure_ascii=False))
        await conn.execute(
            insert(outbox).values(kind="notify", ref=ref[:64], payload=sealed, next_at=datetime.now(UTC))
        )
