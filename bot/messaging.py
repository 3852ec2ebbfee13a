"""Messages to people through WeChat, as the core sees it: queued in the
outbox (``wechat_cs``), sent by a consumer through whatever implements
``TextSender`` (``integrations/wechat.py``). When WeChat will not deliver
(unfollowed, outside the 48-hour window, over quota) the message waits in
the person's inbox for their next visit on any channel: never dropped."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.applications.inbox import Inbox
from bot.crypto import Vault
from bot.db.schema import outbox
from bot.outbox import OutboxConsumer
from bot.people.contacts import ContactBook

log = logging.getLogger(__name__)

WECHAT_PREFIX = "wechat:"


class SendRefused(Exception):
    """WeChat will not deliver this message; ``fallback``: another channel may."""

    def __init__(self, errcode: int | None, message: str, fallback: bool) -> None:
        super().__init__(f"{errcode}: {message}")
        self.errcode = errcode
        self.fallback = fallback


async def queue_texts(db: AsyncEngine, vault: Vault, user: str, texts: list[str]) -> None:
    """Customer-service messages to a WeChat follower, through the outbox (never lost)."""
    async with db.begin() as conn:
        for text in texts:
            payload = vault.encrypt(json.dumps({"user": user, "text": text}, ensure_ascii=False))
            await conn.execute(
                insert(outbox).values(kind="wechat_cs", ref=user[:64], payload=payload, next_at=datetime.now(UTC))
            )


class WeChatPusher:
    """The engine's ``Pusher``: WeChat followers get customer-service messages; every
    other channel's page follows the conversation's log itself (mini-program, 辽事通),
    or the person is on the phone with the agent (12345)."""

    def __init__(self, db: AsyncEngine, vault: Vault) -> None:
        self.db = db
        self.vault = vault

    async def push(self, user: str, texts: list[str]) -> None:
        if user.startswith(WECHAT_PREFIX) and texts:
            await queue_texts(self.db, self.vault, user, texts)


class TextSender(Protocol):
    async def send_text(self, openid: str, text: str) -> None: ...


class WeChatMessages(OutboxConsumer):
    kinds = ("wechat_cs",)

    def __init__(
        self, db: AsyncEngine, vault: Vault, sender: TextSender, inbox: Inbox, contacts: ContactBook, **timing: Any
    ) -> None:
        super().__init__(db, **timing)
        self.vault = vault
        self.sender = sender
        self.inbox = inbox
        self.contacts = contacts

    async def handle(self, row: Any) -> None:
        payload = json.loads(self.vault.decrypt(row.payload))
        user, text = payload["user"], payload["text"]
        if not await self.contacts.follows(user):
            # they unfollowed: WeChat is no longer ours to use; the inbox keeps it for their return
            await self.inbox.put(user, row.id, {"kind": "message", "text": text})
            await self.finish(row.id, error="not following: kept in the inbox")
            return
        try:
            await self.sender.send_text(user.removeprefix(WECHAT_PREFIX), text)
        except SendRefused as exc:
            if exc.fallback:
                await self.inbox.put(user, row.id, {"kind": "message", "text": text})
            log.warning("WeChat did not take message %s: %s", row.id, exc)
            await self.finish(row.id, error=f"refused: {exc}")
            return
        await self.finish(row.id)
