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

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.applications.inbox import Inbox
from bot.applications.notice_text import render_notice
from bot.catalog import Catalog
from bot.crypto import Vault
from bot.db.schema import outbox
from bot.messaging import SendRefused
from bot.notify.log import FAILED, REFUSED, SENT, TRYING, DeliveryLog
from bot.notify.ports import Hotline, MiniProgram, OfficialAccount
from bot.notify.quiet import QuietHours
from bot.notify.templates import subscribe_data, template_data
from bot.outbox import OutboxConsumer, RetryLater, backoff
from bot.people.contacts import ContactBook
from bot.people.keys import user_key
from bot.people.ref import MINIPROGRAM, WECHAT, UserRef
from bot.texts import standard

log = logging.getLogger(__name__)

WINDOW_SECONDS = 48 * 3600  # WeChat's customer-service window after the person's last message


def seen_key(user: str) -> str:
    return f"wx:seen:{user_key(user)}"


async def note_seen(redis: Redis, user: str) -> None:
    """The person wrote to the official account: customer-service messages may reach them for 48 hours."""
    await redis.set(seen_key(user), "1", ex=WINDOW_SECONDS)


def stage_seen(pipe: Any, user: str) -> None:
    """``note_seen`` on a pipeline the caller runs."""
    pipe.set(seen_key(user), "1", ex=WINDOW_SECONDS)


@dataclass(frozen=True)
class Notice:
    row_id: int
    user: str
    phone: str | None
    urgent: bool
    body: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Reach:
    """What decides the channels for a batch of notices, read in a few queries for all of them."""

    granted: set[str]  # users with a subscribe grant left
    unfollowed: set[str]  # users who left the official account
    calls: set[str]  # users who asked to be phoned
    seen: set[str]  # users inside the 48-hour customer-service window


@dataclass(frozen=True)
class Channel:
    name: str
    idempotent: bool  # the partner de-duplicates by our message id: safe to try again after a crash
    reaches: Callable[[Notice, Reach], bool]  # could it reach this person now? (read from a batch's Reach)
    send: Callable[[Notice], Awaitable[None]]  # raises SendRefused or RetryLater when it does not go out


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
            Channel("subscribe", False, self._may_subscribe, self._subscribe),
            Channel("template", False, self._may_template, self._template),
            Channel("cs", False, self._may_customer_service, self._customer_service),
            Channel("call", True, self._may_call, self._call),
            Channel("sms", True, self._may_sms, self._sms),
        ]

    # ---- a batch at a time: a few transactions for many notices ----------------
    # Every commit waits for the disk; one per step of each notice would cap the
    # notifier at a few hundred a second. So a batch is claimed in one UPDATE,
    # its channels marked "trying" in one transaction, sent concurrently, and
    # the outcomes written in one more.

    async def deliver_due(self, limit: int | None = None) -> int:
        rows = await self.claim_due(limit or self.batch)
        if not rows:
            return 0
        notices = {r.id: self._notice(r) for r in rows}
        attempts = {r.id: r.attempts for r in rows}
        async with self.redis.pipeline(transaction=False) as pipe:
            for n in notices.values():  # the conversation has it whatever happens next
                self.inbox.stage(pipe, n.user, n.row_id, n.body)
            await pipe.execute()
        until = self.quiet.until(datetime.now(UTC)) if self.quiet is not None else None
        if until is not None:
            held = [i for i, n in notices.items() if not n.urgent]
            await self._defer_many(held, attempts, until)
            for i in held:
                notices.pop(i)
        states = await self.log.states_of(list(notices))
        done = [i for i in notices if SENT in states.get(i, {}).values()]  # sent before a crash
        pending = {i: n for i, n in notices.items() if i not in done}
        down: dict[int, list[str]] = {}
        tried: dict[int, set[str]] = {i: set() for i in pending}
        while pending:
            picks = await self._pick(pending, states, tried)
            for i in [i for i in pending if i not in picks]:
                pending.pop(i)  # nothing left to try for this one
            if not picks:
                break
            picks = await self._mark_trying(picks, pending)
            outcomes = await self._send(picks, pending)
            sent = await self._record(outcomes, states, tried, down)
            done += sent
            for i in sent:
                pending.pop(i, None)
        await self._settle(done, [i for i in notices if i not in done], down, attempts)
        return len(rows)

    def _notice(self, row: Any) -> Notice:
        payload = json.loads(self.vault.decrypt(row.payload))
        return Notice(
            row_id=row.id,
            user=payload["user"],
            phone=payload.get("phone"),
            urgent=bool(payload.get("urgent")),
            body=payload["notice"],
            text=render_notice(payload["notice"], self.catalog, standard),
        )

    async def _reach(self, pending: dict[int, Notice]) -> Reach:
        users = sorted({n.user for n in pending.values()})
        prefs = await self.contacts.prefs_of(users)
        granted = await self.contacts.granted_of(
            [u for u in users if UserRef.parse(u).on(MINIPROGRAM)], self.subscribe_template_id
        )
        wechat = [u for u in users if UserRef.parse(u).on(WECHAT)]
        seen = await self.redis.mget([seen_key(u) for u in wechat]) if wechat else []
        return Reach(
            granted=granted,
            unfollowed={u for u, (following, _) in prefs.items() if not following},
            calls={u for u, (_, calls) in prefs.items() if calls},
            seen={u for u, flag in zip(wechat, seen, strict=True) if flag},
        )

    async def _pick(
        self, pending: dict[int, Notice], states: dict[int, dict[str, str]], tried: dict[int, set[str]]
    ) -> dict[int, Channel]:
        """For each notice, the first channel not yet tried that reaches the person."""
        reach = await self._reach(pending)
        picks: dict[int, Channel] = {}
        for i, n in pending.items():
            for channel in self.channels:
                state = states.get(i, {}).get(channel.name)
                if channel.name in tried[i] or state == REFUSED or (state == TRYING and not channel.idempotent):
                    continue  # tried, refused before, or perhaps sent before a crash: never twice
                if channel.reaches(n, reach):
                    picks[i] = channel
                    break
                tried[i].add(channel.name)
        return picks

    async def _mark_trying(self, picks: dict[int, Channel], pending: dict[int, Notice]) -> dict[int, Channel]:
        """One transaction: every pick marked, subscribe grants taken in one statement. A pick whose
        grant is gone (another worker took it), or a second notice of the same person in this batch,
        is dropped here and picked again on the next pass."""
        subscribers: dict[str, int] = {}
        for i, channel in picks.items():
            if channel.name == "subscribe":
                subscribers.setdefault(pending[i].user, i)
        async with self.db.begin() as conn:
            granted = await self.contacts.use_grants(list(subscribers), self.subscribe_template_id, conn)
            lucky = {subscribers[u] for u in granted}
            kept = {i: c for i, c in picks.items() if c.name != "subscribe" or i in lucky}
            await self.log.mark_many([(i, c.name, TRYING, "") for i, c in kept.items()], conn)
        return kept

    async def _send(self, picks: dict[int, Channel], pending: dict[int, Notice]) -> dict[int, tuple[str, str, str]]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(i: int, channel: Channel) -> tuple[int, tuple[str, str, str]]:
            async with gate:
                try:
                    await channel.send(pending[i])
                except SendRefused as exc:
                    return i, (channel.name, REFUSED, str(exc))
                except RetryLater as exc:
                    if channel.name == "subscribe":
                        await self.contacts.give_back(pending[i].user, self.subscribe_template_id)  # not used up
                    return i, (channel.name, FAILED, str(exc))
                return i, (channel.name, SENT, "")

        return dict(await asyncio.gather(*(one(i, c) for i, c in picks.items())))

    async def _record(
        self,
        outcomes: dict[int, tuple[str, str, str]],
        states: dict[int, dict[str, str]],
        tried: dict[int, set[str]],
        down: dict[int, list[str]],
    ) -> list[int]:
        sent = []
        async with self.db.begin() as conn:
            await self.log.mark_many([(i, c, o, d) for i, (c, o, d) in outcomes.items()], conn)
            for i, (channel, outcome, detail) in outcomes.items():
                states.setdefault(i, {})[channel] = outcome
                tried[i].add(channel)
                if outcome == SENT:
                    sent.append(i)
                elif outcome == FAILED:
                    down.setdefault(i, []).append(f"{channel}: {detail}")
        return sent

    async def _settle(
        self, done: list[int], rest: list[int], down: dict[int, list[str]], attempts: dict[int, int]
    ) -> None:
        """One transaction: delivered rows finished; the rest retried, dead-lettered, or left to the inbox."""
        now = datetime.now(UTC)
        async with self.db.begin() as conn:
            if done:
                await conn.execute(update(outbox).where(outbox.c.id.in_(done)).values(delivered_at=now, last_error=""))
            for i in rest:
                if i not in down:
                    note = "no push channel reaches this person: kept in the inbox"
                    await conn.execute(update(outbox).where(outbox.c.id == i).values(delivered_at=now, last_error=note))
                    continue
                error = "; ".join(down[i])[:500]
                if self.max_attempts is not None and attempts[i] >= self.max_attempts:
                    log.error("notice %s gave up after %s attempts: %s", i, attempts[i], error)
                    await conn.execute(update(outbox).where(outbox.c.id == i).values(dead_at=now, last_error=error))
                    continue
                delay = backoff(attempts[i], self.base_delay, self.max_delay, self.rng)
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == i)
                    .values(next_at=now + timedelta(seconds=delay), last_error=error)
                )

    async def _defer_many(self, ids: list[int], attempts: dict[int, int], until: datetime) -> None:
        async with self.db.begin() as conn:
            for i in ids:  # quiet hours: not an attempt
                await conn.execute(
                    update(outbox).where(outbox.c.id == i).values(next_at=until, attempts=attempts[i] - 1)
                )

    # ---- the channels: whether they reach this person, and sending through them -----

    def _may_subscribe(self, n: Notice, r: Reach) -> bool:
        return self.mini is not None and bool(self.subscribe_template_id) and n.user in r.granted

    async def _subscribe(self, n: Notice) -> None:
        openid = UserRef.parse(n.user).on(MINIPROGRAM)
        assert openid is not None and self.mini is not None  # the grant was taken with the "trying" mark
        data = subscribe_data(n.body, self.catalog, datetime.now(UTC))
        await self.mini.send_subscribe_message(openid, self.subscribe_template_id, data, page="pages/progress/index")

    def _may_template(self, n: Notice, r: Reach) -> bool:
        return (
            self.official is not None
            and bool(self.template_id)
            and UserRef.parse(n.user).on(WECHAT) is not None
            and n.user not in r.unfollowed
        )

    async def _template(self, n: Notice) -> None:
        openid = UserRef.parse(n.user).on(WECHAT)
        assert openid is not None and self.official is not None
        data = template_data(n.body, self.catalog, n.text, datetime.now(UTC))
        await self.official.send_template(openid, self.template_id, data)

    def _may_customer_service(self, n: Notice, r: Reach) -> bool:
        return self.official is not None and n.user in r.seen and n.user not in r.unfollowed

    async def _customer_service(self, n: Notice) -> None:
        openid = UserRef.parse(n.user).on(WECHAT)
        assert openid is not None and self.official is not None
        await self.official.send_text(openid, n.text)

    def _may_call(self, n: Notice, r: Reach) -> bool:
        return self.hotline is not None and bool(n.phone) and n.user in r.calls

    async def _call(self, n: Notice) -> None:
        assert self.hotline is not None and n.phone
        await self.hotline.place_call(n.phone, n.text, message_id=f"notify-{n.row_id}-call")

    def _may_sms(self, n: Notice, r: Reach) -> bool:
        return self.hotline is not None and bool(n.phone)

    async def _sms(self, n: Notice) -> None:
        assert self.hotline is not None and n.phone
        await self.hotline.send_sms(n.phone, n.text[:500], message_id=f"notify-{n.row_id}-sms")
