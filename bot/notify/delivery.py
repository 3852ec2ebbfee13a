"""The notifier: takes ``notify`` rows from the outbox and tells the person.

Always first into their inbox (shown at their next message on any channel:
never lost). Then, unless it is quiet hours and nothing urgent, one push
through the best channel that reaches them, in this order:

1. ``subscribe``: a mini-program subscribe message, when they granted one
   (each grant is counted and used up);
2. ``template``: an official-account template message, while they follow it;
3. ``cs``: a customer-service message, inside the 48 hours after they last wrote;
4. ``call``: a 12345 voice call, for those who asked to be phoned;
5. ``sms``: a 12345 SMS to the phone their application gave.

A refused channel falls back to the next at once; a channel that is down is
tried again with backoff; after ``max_attempts`` the row is dead-lettered for
admins. The delivery log keeps one row per channel, so no channel carries the
same notice twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.applications.inbox import Inbox
from bot.applications.notice_text import render_notice
from bot.catalog import Catalog
from bot.crypto import Vault
from bot.dialogue.storage import user_key
from bot.messaging import SendRefused
from bot.notify.log import FAILED, REFUSED, SENT, TRYING, DeliveryLog
from bot.notify.ports import Hotline, MiniProgram, OfficialAccount
from bot.notify.quiet import QuietHours
from bot.notify.templates import subscribe_data, template_data
from bot.outbox import Deferred, OutboxConsumer, RetryLater
from bot.people.contacts import ContactBook
from bot.texts import standard

log = logging.getLogger(__name__)

WINDOW_SECONDS = 48 * 3600  # WeChat's customer-service window after the person's last message


def seen_key(user: str) -> str:
    return f"wx:seen:{user_key(user)}"


async def note_seen(redis: Redis, user: str) -> None:
    """The person wrote to the official account: customer-service messages may reach them for 48 hours."""
    await redis.set(seen_key(user), "1", ex=WINDOW_SECONDS)


@dataclass(frozen=True)
class Notice:
    row_id: int
    user: str
    phone: str | None
    urgent: bool
    body: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Channel:
    name: str
    idempotent: bool  # the partner de-duplicates by our message id: safe to try again after a crash
    send: Callable[[Notice], Awaitable[bool]]  # False: not available to this person (nothing was sent)


class NotificationDelivery(OutboxConsumer):
    kinds = ("notify",)

    def __init__(
        self,
        db: AsyncEngine,
        vault: Vault,
        catalog: Catalog,
        inbox: Inbox,
        contacts: ContactBook,
        redis: Redis,
        official: OfficialAccount | None = None,
        mini: MiniProgram | None = None,
        hotline: Hotline | None = None,
        template_id: str = "",
        subscribe_template_id: str = "",
        quiet: QuietHours | None = None,
        **timing: Any,
    ) -> None:
        timing.setdefault("max_attempts", 12)
        super().__init__(db, **timing)
        self.vault = vault
        self.catalog = catalog
        self.inbox = inbox
        self.contacts = contacts
        self.redis = redis
        self.official = official
        self.mini = mini
        self.hotline = hotline
        self.template_id = template_id
        self.subscribe_template_id = subscribe_template_id
        self.quiet = quiet
        self.log = DeliveryLog(db)
        self.channels = [
            Channel("subscribe", False, self._subscribe),
            Channel("template", False, self._template),
            Channel("cs", False, self._customer_service),
            Channel("call", True, self._call),
            Channel("sms", True, self._sms),
        ]

    async def handle(self, row: Any) -> None:
        payload = json.loads(self.vault.decrypt(row.payload))
        notice = Notice(
            row_id=row.id,
            user=payload["user"],
            phone=payload.get("phone"),
            urgent=bool(payload.get("urgent")),
            body=payload["notice"],
            text=render_notice(payload["notice"], self.catalog, standard),
        )
        await self.inbox.put(notice.user, row.id, notice.body)  # idempotent by row id
        if not notice.urgent and self.quiet is not None:
            until = self.quiet.until(datetime.now(UTC))
            if until is not None:
                raise Deferred(until)
        states = await self.log.states(row.id)
        if SENT in states.values():
            await self.finish(row.id)  # a worker died after sending, before finishing
            return
        down: list[str] = []
        for channel in self.channels:
            state = states.get(channel.name)
            if state == REFUSED or (state == TRYING and not channel.idempotent):
                continue  # refused before, or perhaps sent before a crash: never twice
            await self.log.mark(row.id, channel.name, TRYING)
            try:
                available = await channel.send(notice)
            except SendRefused as exc:
                await self.log.mark(row.id, channel.name, REFUSED, str(exc))
                continue
            except RetryLater as exc:
                await self.log.mark(row.id, channel.name, FAILED, str(exc))
                down.append(f"{channel.name}: {exc}")
                continue
            if not available:
                await self.log.mark(row.id, channel.name, REFUSED, "not available to this person")
                continue
            await self.log.mark(row.id, channel.name, SENT)
            await self.finish(row.id)
            return
        if down:
            raise RetryLater("; ".join(down))
        await self.finish(row.id, error="no push channel reaches this person: kept in the inbox")

    # ---- the channels: each returns False when it cannot reach this person -----

    def _openid(self, user: str, prefix: str) -> str | None:
        return user.removeprefix(prefix) if user.startswith(prefix) else None

    async def _subscribe(self, n: Notice) -> bool:
        openid = self._openid(n.user, "mp:")
        if openid is None or self.mini is None or not self.subscribe_template_id:
            return False
        if not await self.contacts.use_grant(n.user, self.subscribe_template_id):
            return False
        data = subscribe_data(n.body, self.catalog, datetime.now(UTC))
        try:
            await self.mini.send_subscribe_message(
                openid, self.subscribe_template_id, data, page="pages/progress/index"
            )
        except RetryLater:
            await self.contacts.give_back(n.user, self.subscribe_template_id)  # not used up
            raise
        return True

    async def _template(self, n: Notice) -> bool:
        openid = self._openid(n.user, "wechat:")
        if openid is None or self.official is None or not self.template_id:
            return False
        if not await self.contacts.follows(n.user):
            return False
        data = template_data(n.body, self.catalog, n.text, datetime.now(UTC))
        await self.official.send_template(openid, self.template_id, data)
        return True

    async def _customer_service(self, n: Notice) -> bool:
        openid = self._openid(n.user, "wechat:")
        if openid is None or self.official is None or not await self.redis.exists(seen_key(n.user)):
            return False
        if not await self.contacts.follows(n.user):
            return False
        await self.official.send_text(openid, n.text)
        return True

    async def _call(self, n: Notice) -> bool:
        if self.hotline is None or not n.phone or not await self.contacts.wants_calls(n.user):
            return False
        await self.hotline.place_call(n.phone, n.text, message_id=f"notify-{n.row_id}-call")
        return True

    async def _sms(self, n: Notice) -> bool:
        if self.hotline is None or not n.phone:
            return False
        await self.hotline.send_sms(n.phone, n.text[:500], message_id=f"notify-{n.row_id}-sms")
        return True
