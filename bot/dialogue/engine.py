"""The dialogue engine: one inbound message in, the replies out. It only routes.

Channel-free: it knows the conversation and nothing of XML or HTTP. Each person's messages run one
at a time across all processes (``Isolation``); the session is loaded before and saved after every
turn, with what the turn writes beside it (the conversation's log, counters, notices shown), in one
go. What the message means and what to answer is the flows' (``bot/dialogue/flows/``), reached
through the state table (``bot/dialogue/router.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.applications.notice_text import render_notice
from bot.catalog import Catalog
from bot.catalog.conditions import holds
from bot.catalog.models import PERSONAL_TYPES, FormField
from bot.catalog.words import ThingWords
from bot.dialogue import form
from bot.dialogue.fields import parse_value
from bot.dialogue.flows import rating
from bot.dialogue.messages import Inbound, Reply, TurnResult
from bot.dialogue.ports import (
    Appeals,
    Applications,
    Contacts,
    Desk,
    Metrics,
    Nlu,
    Notices,
    Pace,
    PhoneDrafts,
    Pusher,
    RatingsPort,
    SharedData,
    Transcript,
)
from bot.dialogue.router import HUB, route
from bot.dialogue.say import Say
from bot.dialogue.session import Draft, Session, VerifiedIdentity
from bot.dialogue.storage import Held, Isolation, Sessions
from bot.dialogue.turn import Turn
from bot.handover.log import CURSOR
from bot.masking import mask_text, mask_value
from bot.texts import texts_for
from bot.validators import mobile_problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Glance:
    last_reply: dict[str, Any] | None  # the last reply of the last turn: usually the open question
    current: str | None  # the one-thing in focus
    known_id: str | None  # the person's ID number, as verified or typed
    style: str


@dataclass
class Engine:
    catalog: Catalog
    nlu: Nlu
    sessions: Sessions
    queue: Isolation
    applications: Applications
    shared: SharedData | None = None
    inbox: Notices | None = None
    today: Callable[[], date] = date.today
    appeals: Appeals | None = None
    ratings: RatingsPort | None = None
    desk: Desk | None = None
    log: Transcript | None = None
    pusher: Pusher | None = None
    phone_drafts: PhoneDrafts | None = None
    contacts: Contacts | None = None
    metrics: Metrics | None = None
    pace: Pace | None = None
    _words: tuple[tuple[tuple[str, int], ...], ThingWords] | None = None

    def thing_words(self) -> ThingWords:
        """The one-things' own words, for the guides as they are now (a published edit counts at once)."""
        versions = tuple((t.id, t.version) for t in self.catalog)
        if self._words is None or self._words[0] != versions:
            self._words = (versions, ThingWords(self.catalog))
        return self._words[1]

    async def handle(self, msg: Inbound) -> list[Reply]:
        return (await self.turn(msg)).replies

    async def turn(self, msg: Inbound) -> TurnResult:
        # two round trips to Redis in all: taking the turn with reading the session and the inbox;
        # saving the session with the log, the counters and letting the next message in
        along = [lambda pipe: self.sessions.stage_load(pipe, msg.user)]
        if self.pace is not None:
            along.append(lambda pipe: self.pace.stage(pipe, msg.user))  # type: ignore[union-attr]
        if self.inbox is not None:
            along.append(lambda pipe: self.inbox.peek(pipe, msg.user))  # type: ignore[union-attr]
        async with self.queue.turn(msg.user, along) as held:
            raw, *peeked = held.peeked
            session = self.sessions.parse(raw, msg.user, msg.channel)
            if self.pace is not None:
                count, _ = peeked.pop(0), peeked.pop(0)
                if not self.pace.allows(count):  # a flood (a script, a stuck key): answered, not run
                    await self._save_releasing(session, held, [])
                    return TurnResult(replies=[Say(session).text_reply(texts_for(session.style).TOO_FAST)],
                                      style=session.style)  # fmt: skip
            session.channel = msg.channel
            if msg.spoken:
                session.style = "voice"  # keys and digits read aloud: nothing else works on a phone line
            elif msg.voice and session.style == "standard":
                session.style = "elderly"  # who speaks to a phone app rather than type is often an elder
            phone = msg.metadata.get("phone")
            if isinstance(phone, str) and mobile_problem(phone) is None:
                session.phone = phone  # the channel knows it (a caller's number): never asked for
            verified = msg.metadata.get("verified")
            if isinstance(verified, dict):
                session.verified = VerifiedIdentity.model_validate(verified)  # the channel checked the voucher
            said = _said(msg)
            if session.agent is not None:
                # a hotline agent has the conversation: the bot stays silent, the agent reads it live
                written = await self._save_releasing(session, held, self._along(msg.user, said, [], []))
                return TurnResult(replies=[], style=session.style, cursor=_cursor(written))
            turn = Turn(self, session, msg, HUB)
            shown: list[Callable[[Any], None]] = []
            if self.inbox is not None and peeked and peeked[0]:
                stored, inbox = peeked[0], self.inbox
                for notice in inbox.opened(stored):  # what happened to their applications since they last wrote
                    turn.say.text(render_notice(notice, self.catalog, turn.tx))
                shown.append(lambda pipe: inbox.stage_remove(pipe, msg.user, stored))  # gone only with the save
            await route(turn)
            replies = turn.say.finish()
            session.last_replies = [r.model_dump() for r in replies]
            events = ["turn", f"channel:{msg.channel}", *turn.events]
            written = await self._save_releasing(session, held, [*self._along(msg.user, said, replies, events), *shown])
            return TurnResult(replies=replies, style=session.style, cursor=_cursor(written),
                              question_open=session.awaiting is not None, ended=turn.ended)  # fmt: skip

    async def _save_releasing(self, session: Session, held: Held, along: list[Callable[[Any], None]]) -> list[Any]:
        """Save the session with what the turn writes beside it, letting the person's next message in
        on the same round trip."""
        return await self.queue.commit(held, [lambda pipe: self.sessions.stage_save(pipe, session), *along])

    def _along(self, user: str, said: str, replies: list[Reply], events: list[str]) -> list[Callable[[Any], None]]:
        """What a turn writes beside the session: the conversation's log, the day's counters."""
        stages: list[Callable[[Any], None]] = []
        log, metrics = self.log, self.metrics
        if log is not None:
            answer = "\n".join(r.text for r in replies)
            stages.append(lambda pipe: log.stage_turn(pipe, user, said, answer))
        if metrics is not None and events:
            stages.append(lambda pipe: metrics.stage(pipe, events, user))
        return stages

    async def _count(self, user: str | None, events: list[str]) -> None:
        if self.metrics is not None and events:
            await self.metrics.record(events, user)

    async def _record(self, user: str, said: str, replies: list[Reply], pushed: bool = False) -> None:
        """The turn into the conversation's log (for agents, and pages following it)."""
        if self.log is not None:
            await self.log.record_turn(user, said, "\n".join(r.text for r in replies), pushed=pushed)

    # ---- a hotline agent takes the conversation and hands it back ----------

    async def agent_joined(self, user: str, agent: str, handover_id: str) -> None:
        """From now on the person's messages go to the agent; the bot is silent."""
        async with self.queue.turn(user):
            session = await self.sessions.load(user, "api")
            session.agent, session.handover, session.handoff = agent, handover_id, True
            await self.sessions.save(session)
            text = texts_for(session.style).AGENT_JOINED.format(agent=agent)
        await self._push(user, "system", text)

    async def agent_says(self, user: str, agent: str, text: str) -> None:
        await self._push(user, "agent", text, agent=agent)

    async def agent_left(self, user: str, handover_id: str, point: str, requeued: bool = False) -> list[Reply]:
        """The agent handed back (``point``: ``form`` resumes the form where it stood,
        ``start`` begins afresh, ``none`` just says goodbye) or the claim lapsed
        (``requeued``: the person waits for the next agent, the bot answers meanwhile).
        The replies are pushed to the person and returned."""
        async with self.queue.turn(user):
            session = await self.sessions.load(user, "api")
            session.agent = None
            turn = Turn(self, session, Inbound(user=user, channel=session.channel), HUB)
            tx = turn.tx
            if requeued:
                turn.say.text(tx.AGENT_LOST)
            else:
                session.handoff, session.handover, session.rate_handover = False, None, handover_id
                turn.say.text(tx.AGENT_LEFT)
                if point == "form" and session.draft is not None:
                    session.awaiting = None
                    await turn.ask_next()
                elif point == "start":
                    session.current, session.awaiting = None, None
                    turn.say.text(tx.WELCOME)
                if point == "none" or session.awaiting is None:
                    await rating.prompt(turn)
                else:
                    turn.say.text(tx.RATE_AGENT_LATER)
            replies = turn.say.finish()
            session.last_replies = [r.model_dump() for r in replies]
            await self.sessions.save(session)
        await self._record(user, "", replies, pushed=True)
        if self.pusher is not None and replies:
            await self.pusher.push(user, [r.text for r in replies])
        return replies

    async def tell(self, user: str, template: str, **values: object) -> None:
        """A system notice to the person outside a turn (e.g. when to expect an agent), in their style."""
        session = await self.sessions.load(user, "api")
        await self._push(user, "system", getattr(texts_for(session.style), template).format(**values))

    async def _push(self, user: str, role: str, text: str, agent: str = "") -> None:
        if self.log is not None:
            await self.log.append(user, role, text, pushed=True, agent=agent)
        if self.pusher is not None:
            await self.pusher.push(user, [text])

    async def _read(self, user: str, channel: str = "api") -> Session:
        """The session as it stands between two of the person's messages (read in their turn, so
        never half-way through one)."""
        async with self.queue.turn(user, [lambda pipe: self.sessions.stage_load(pipe, user)]) as held:
            return self.sessions.parse(held.peeked[0], user, channel)

    async def glance(self, user: str) -> Glance:
        """What a channel may know of the conversation between turns (a phone line: the question
        its keys answer, the thing in focus, the caller's ID number for their age)."""
        session = await self._read(user)
        turn = Turn(self, session, Inbound(user=user, channel=session.channel), HUB)
        last = session.last_replies[-1] if session.last_replies else None
        return Glance(last_reply=last, current=session.current, known_id=turn.known_id(), style=session.style)

    async def id_on_file(self, user: str) -> str | None:
        """The person's ID number as their verified identity or their drafts give it."""
        return (await self.glance(user)).known_id

    async def case_file(self, user: str) -> dict[str, Any]:
        """What an agent sees of the conversation's state: the one-thing in focus and
        every draft's answers, personal data masked."""
        session = await self._read(user)
        drafts = []
        for d in session.drafts.values():
            thing = self.catalog.get(d.thing)
            if thing is None:
                continue
            fields = [
                {"label": f.label, "value": _masked(f, d.answers[f.id]), "prefilled": f.id in d.prefilled}
                for f in thing.form.fields
                if f.id in d.answers
            ]
            missing = [f.label for f in form.fields_in_play(thing, d) if f.required and f.id not in d.answers]
            drafts.append({"thing": thing.id, "name": thing.name, "started": d.started, "fields": fields,
                           "missing": missing})  # fmt: skip
        return {
            "current": session.current,
            "style": session.style,
            "channel": session.channel,
            "awaiting": session.awaiting.kind if session.awaiting else None,
            "drafts": drafts,
        }

    # ---- the form outside the chat (mini-program pages): the same draft -----

    async def form_state(self, user: str, channel: str, thing_id: str) -> dict[str, Any]:
        """The fields now in play, what is filled, and whether it could be submitted."""
        thing = self.catalog.things[thing_id]
        async with self.queue.turn(user):
            session = await self.sessions.load(user, channel)
        draft = session.drafts.get(thing_id) or Draft(thing=thing_id)
        return {
            "fields": [f.id for f in form.fields_in_play(thing, draft)],
            "answers": {k: v for k, v in draft.answers.items()},
            "problems": form.problems(thing, draft, self.today()),
        }

    async def fill(self, user: str, channel: str, thing_id: str, given: dict[str, str]) -> dict[str, str]:
        """Save several fields at once with the chat's own validators; returns problem messages by field."""
        thing = self.catalog.things[thing_id]
        tx = texts_for("standard")
        problems: dict[str, str] = {}
        async with self.queue.turn(user):
            session = await self.sessions.load(user, channel)
            draft = session.drafts.setdefault(thing_id, Draft(thing=thing_id, catalog_version=thing.version))
            started = [] if draft.started else [f"started:{thing_id}"]
            draft.started = True
            for field_id, text in given.items():
                f = form.field_of(thing, field_id)
                if f is None:
                    problems[field_id] = tx.API_UNKNOWN_FIELD
                    continue
                parsed = parse_value(f, str(text), self.today())
                if not parsed.ok:
                    problems[field_id] = tx.PROBLEM[parsed.problem].format(**parsed.params)
                    continue
                draft.answers[field_id] = parsed.value
                if parsed.flag and parsed.flag not in draft.flags:
                    draft.flags.append(parsed.flag)
                if field_id in draft.prefilled:
                    draft.prefilled.remove(field_id)
            for other in thing.form.fields:  # answers outside a branch that no longer holds
                if other.id in draft.answers and other.when and holds(other.when, draft.answers) is False:
                    draft.answers.pop(other.id)
            session.current = thing_id
            await self.sessions.save(session)
        await self._count(user, started)
        return problems

    async def submit_form(self, user: str, channel: str, thing_id: str) -> tuple[str | None, list[str]]:
        """Submit the draft as it stands: (application id, []) or (None, what is missing)."""
        thing = self.catalog.things[thing_id]
        async with self.queue.turn(user):
            session = await self.sessions.load(user, channel)
            draft = session.drafts.get(thing_id) or Draft(thing=thing_id)
            missing = form.problems(thing, draft, self.today())
            if missing:
                return None, missing
            app_id = await self.applications.submit(session, thing, draft)
            session.drafts.pop(thing_id, None)
            if session.current == thing_id:
                session.current, session.awaiting = None, None
            await self.sessions.save(session)
            return app_id, []


def _masked(f: FormField, value: object) -> str:
    return mask_value(f.type.value, value) if f.type in PERSONAL_TYPES else mask_text(str(value))


def _cursor(written: list[Any]) -> str | None:
    """The conversation log's newest id among what a turn wrote (XADD answers ``<ms>-<seq>``)."""
    ids = [w for w in written if isinstance(w, str | bytes) and CURSOR.match(w.decode() if isinstance(w, bytes) else w)]
    return (ids[-1].decode() if isinstance(ids[-1], bytes) else ids[-1]) if ids else None


def _said(msg: Inbound) -> str:
    """What the person sent, as one line of the conversation's log."""
    text = (msg.text or msg.choice or "").strip()
    if msg.metadata.get("attachments"):
        text = (text + " " if text else "") + "[附件]"
    return text
