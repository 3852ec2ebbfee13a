"""The dialogue engine: one inbound message in, the replies out.

Channel-free: it knows the conversation (identify → guide → eligibility →
shared data → one form → commitments → review → submit) and nothing of XML
or HTTP. Each person's messages run one at a time across all processes
(``UserQueue``); the session is loaded before and saved after every turn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pydantic import TypeAdapter

from bot.appeals.orders import DEFAULT_DEPARTMENT, Appeal
from bot.appeals.region import region_of
from bot.applications.notice_text import render_notice
from bot.applications.ratings import BAD as RATE_BAD
from bot.applications.ratings import FINISHED as FINISHED_STATUSES
from bot.applications.ratings import LEVELS as RATE_LEVELS
from bot.catalog import Catalog, OneThing
from bot.catalog.conditions import holds
from bot.catalog.models import PERSONAL_TYPES, FieldType, FormField
from bot.dialogue import form
from bot.dialogue.commands import command_of, correction_target
from bot.dialogue.fields import Parsed, extra_values, parse_value, pick_option, yes_no
from bot.dialogue.messages import Inbound, Reply, TurnResult
from bot.dialogue.say import Say, spoken_groups
from bot.dialogue.session import Awaiting, Commitment, Draft, Session, VerifiedIdentity
from bot.dialogue.storage import Held, Isolation, Sessions
from bot.handover.log import CURSOR
from bot.handover.phone import CodeLocked
from bot.masking import mask_text, mask_value
from bot.shared_data import SharedDataUnavailable, SharedRecord
from bot.texts import texts_for
from bot.validators import id_card_birth_date, mobile_problem

log = logging.getLogger(__name__)

PHONE_CODE = re.compile(r"(办事码|验证码)?[:：\s]*(\d{6})")  # the code an agent's SMS gave
COMPLAINT_WORDS = re.compile(r"我要|我想|投诉|举报|你们|这个|[，。！!,. ]")

THING_PREFIX = "thing_"
FALLBACK_INTENT = "nlu_fallback"  # Rasa's FallbackClassifier's name, which the embedded engine uses too
CONFIDENT = 0.5  # an intent this sure may interrupt a pending question
QUESTION_MARKS = ("吗", "啥", "什么", "怎么", "多久", "哪", "?", "？", "几", "咋", "能不能", "可以不")
INTERRUPTING = ("complaint", "human_handoff", "check_progress", "cancel", "elderly_mode")
ASK_INTENTS = ("ask_materials", "ask_duration", "ask_fee", "ask_location", "ask_online")


class Nlu(Protocol):
    async def parse(self, text: str, channel: str = "api") -> dict[str, Any]: ...


class SharedData(Protocol):
    async def lookup(
        self, key: str, sources: set[str], consent_id: str, kind: str = "person"
    ) -> SharedRecord | None: ...


class Appeals(Protocol):
    """12345 work orders (``bot/appeals``)."""

    async def open(self, appeal: Appeal) -> str: ...


class RatingsPort(Protocol):
    """好差评 (``bot/applications/ratings.py``)."""

    async def rate(self, user: str, application_id: str, score: int, comment: str = "") -> Any: ...

    async def rate_conversation(
        self, user: str, channel: str, handover_id: str, score: int, comment: str = "", context: str = "", **who: str
    ) -> Any: ...


class Notices(Protocol):
    async def take(self, user: str) -> list[dict[str, Any]]: ...

    def peek(self, pipe: Any, user: str) -> None: ...

    async def take_peeked(self, user: str, stored: dict[Any, Any]) -> list[dict[str, Any]]: ...

    def opened(self, stored: dict[Any, Any]) -> list[dict[str, Any]]: ...

    def stage_remove(self, pipe: Any, user: str, stored: dict[Any, Any]) -> None: ...


class Desk(Protocol):
    """The queue for hotline agents (``bot/handover/desk.py``)."""

    async def open(self, user: str, channel: str, thing_id: str | None, reason: str) -> tuple[Any, bool]: ...

    async def position(self, handover: Any) -> int: ...

    async def withdraw(self, handover_id: str) -> bool: ...


class Transcript(Protocol):
    """The conversation's running log (``bot/handover/log.py``)."""

    async def append(self, user: str, role: Any, text: str, pushed: bool = False, agent: str = "") -> str: ...

    async def record_turn(self, user: str, said: str, answer: str, pushed: bool = False) -> None: ...

    def stage_turn(self, pipe: Any, user: str, said: str, answer: str, pushed: bool = False) -> None: ...


class Pusher(Protocol):
    """Gets text to a person outside a turn, through their own channel (WeChat: a
    customer-service message; pages follow the log themselves)."""

    async def push(self, user: str, texts: list[str]) -> None: ...


class Contacts(Protocol):
    """How the person wants to be reached (``bot/people/contacts.py``)."""

    async def set_wants_calls(self, user: str, wanted: bool) -> None: ...


class Metrics(Protocol):
    """Per-day counters of what happens (``bot/analytics/counters.py``): the admins' dashboard."""

    async def record(self, events: list[str], user: str | None = None) -> None: ...

    def stage(self, pipe: Any, events: list[str], user: str | None = None) -> None: ...


class Pace(Protocol):
    """How many messages one person may send in a while (``bot/limits.py``)."""

    def stage(self, pipe: Any, user: str) -> None: ...

    def allows(self, count: Any) -> bool: ...


class PhoneDrafts(Protocol):
    """Drafts agents started on the phone (``bot/handover/phone.py``)."""

    async def redeem(self, code: str, user: str, phone: str) -> tuple[str, dict[str, Any]] | None:
        """(thing id, answers said on the phone), or None for a wrong or spent code or a phone number
        it was not sent to; raises ``CodeLocked`` after too many wrong tries."""


class Applications(Protocol):
    async def submit(self, session: Session, thing: OneThing, draft: Draft) -> str: ...

    async def progress(self, user: str, number: str | None = None) -> list[dict[str, Any]]: ...

    async def supplement(self, user: str, number: str, item: str, text: str, attachments: list[str]) -> None: ...


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
            turn = Turn(self, session, msg)
            shown: list[Callable[[Any], None]] = []
            if self.inbox is not None and peeked and peeked[0]:
                stored, inbox = peeked[0], self.inbox
                turn.notices(inbox.opened(stored))
                shown.append(lambda pipe: inbox.stage_remove(pipe, msg.user, stored))  # gone only with the save
            await turn.run()
            replies = turn.say.finish()
            session.last_replies = [r.model_dump() for r in replies]
            events = ["turn", f"channel:{msg.channel}", *turn.events]
            written = await self._save_releasing(session, held, [*self._along(msg.user, said, replies, events), *shown])
            return TurnResult(replies=replies, style=session.style, cursor=_cursor(written))

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
            turn = Turn(self, session, Inbound(user=user, channel=session.channel))
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
                    await turn.rate_prompt()
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

    async def id_on_file(self, user: str) -> str | None:
        """The person's ID number as their verified identity or their drafts give it."""
        session = await self.sessions.load(user, "api")
        return Turn(self, session, Inbound(user=user, channel=session.channel)).known_id()

    async def case_file(self, user: str) -> dict[str, Any]:
        """What an agent sees of the conversation's state: the one-thing in focus and
        every draft's answers, personal data masked."""
        session = await self.sessions.load(user, "api")
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


class Turn:
    """One message of one person: reads it against what was asked, answers."""

    def __init__(self, engine: Engine, session: Session, msg: Inbound) -> None:
        self.e = engine
        self.s = session
        self.msg = msg
        self.text = (msg.choice or msg.text).strip()
        self.say = Say(session)
        self._nlu: dict[str, Any] | None = None
        self.failed = False  # the answer did not fit the question (counts towards offering help)
        self.events: list[str] = []  # what happened in this turn, for the dashboard's counters

    @property
    def tx(self) -> Any:
        return self.say.tx

    @property
    def elderly(self) -> bool:
        return self.s.style in ("elderly", "voice")

    async def nlu(self) -> dict[str, Any]:
        if self._nlu is None:
            self._nlu = await self.e.nlu.parse(self.text, channel=self.msg.channel)
        return self._nlu

    def thing(self) -> OneThing | None:
        return self.e.catalog.get(self.s.current) if self.s.current else None

    # ---- the turn ------------------------------------------------------

    def notices(self, notices: list[dict[str, Any]]) -> None:
        """What happened to the person's applications since they last wrote."""
        for n in notices:
            self.say.text(render_notice(n, self.e.catalog, self.tx))

    async def run(self) -> None:
        self.follow_guide_changes()
        if not self.text and not self.msg.metadata.get("attachments"):
            self.say.text(self.tx.WELCOME)
            return
        command = command_of(self.text, self.elderly)
        if command and await self.command(command):
            return
        code = PHONE_CODE.fullmatch(self.text)
        if code and self.e.phone_drafts is not None and (code.group(1) or not self.expects_digits()):
            await self.phone_draft(code.group(2))
            return
        if self.s.awaiting is not None and await self.answer(self.s.awaiting):
            if not self.failed:
                self.s.misunderstood = 0
            return
        await self.understand()

    def follow_guide_changes(self) -> None:
        """The guide of the draft in focus changed since it was begun (an admin published a new
        version): the draft is checked against the new one and the person told what to answer again."""
        t, d = self.thing(), self.s.draft
        if t is None or d is None:
            return
        if d.catalog_version is None:
            d.catalog_version = t.version  # begun before drafts carried versions: nothing to compare
            return
        if d.catalog_version == t.version:
            return
        again = form.migrate(t, d, self.e.today())
        if again:
            self.say.text(self.tx.GUIDE_CHANGED_AGAIN, name=t.name, fields="、".join(again))
            a = self.s.awaiting
            if a is not None and a.kind in ("field", "commitment", "review"):
                self.s.awaiting = None  # the question may be another now
        else:
            self.say.text(self.tx.GUIDE_CHANGED, name=t.name)

    async def command(self, name: str) -> bool:
        """True when the command was handled (``skip`` and ``submit`` only make sense in places)."""
        tx = self.tx
        if name == "catalog":
            self.show_catalog()
        elif name == "resume":
            await self.resume()
        elif name == "handoff":
            await self.handoff("requested")
        elif name == "handoff_cancel":
            await self.handoff_cancel()
        elif name == "follow_up":
            await self.follow_up()
        elif name in ("calls_on", "calls_off"):
            if self.e.contacts is None:
                return False
            await self.e.contacts.set_wants_calls(self.s.user, name == "calls_on")
            self.say.text(self.tx.CALLS_ON if name == "calls_on" else self.tx.CALLS_OFF)
            await self.ask_next(repeat=True, back=True)
        elif name == "cancel":
            self.cancel()
        elif name == "restart":
            self.s.drafts.pop(self.s.current or "", None)
            self.s.current, self.s.awaiting, self.s.misunderstood = None, None, 0
            self.say.text(tx.RESTARTED)
            self.say.text(tx.WELCOME)
        elif name == "progress":
            await self.progress()
        elif name == "supplement":
            await self.supplement()
        elif name == "rate":
            await self.rate_prompt()
        elif name == "elderly_on":
            self.set_style("elderly")
            self.say.text(self.tx.ELDERLY_ON)
            await self.ask_next(repeat=True)
        elif name == "elderly_off":
            self.set_style("standard")
            self.say.text(self.tx.ELDERLY_OFF)
            await self.ask_next(repeat=True)
        elif name == "show_filled":
            self.show_filled()
            await self.ask_next(repeat=True)
        elif name == "repeat":
            self.repeat()
        elif name == "skip":
            return await self.skip()
        elif name == "submit":
            a = self.s.awaiting
            if a is None or a.kind != "review":
                return False
            await self.submit()
        return True

    def expects_digits(self) -> bool:
        """Would six digits be an answer to the pending question (a field, a number to hand in)?"""
        a = self.s.awaiting
        return a is not None and a.kind in (
            "field", "readback", "supplement", "complaint", "complaint_phone", "rating_phone", "phone_code_phone"
        )  # fmt: skip

    # ---- reading an answer to the pending question ------------------------

    async def answer(self, a: Awaiting) -> bool:
        d, t = self.s.draft, self.thing()
        if a.kind == "pick_thing":
            return await self.answer_pick_thing(a)
        if a.kind == "supplement_pick":
            choice = self.option(a)
            if choice is None:
                return False
            await self.ask_supplement(choice)
            return True
        if a.kind == "supplement":
            return await self.answer_supplement(a)
        if a.kind in ("complaint", "complaint_name", "complaint_phone"):
            return await self.answer_complaint(a)
        if a.kind in ("rating", "rating_comment", "rating_phone"):
            return await self.answer_rating(a)
        if a.kind == "phone_code_phone":
            return await self.answer_phone_code_phone(a)
        if a.kind == "help":
            choice = self.option(a)
            if choice == "human":
                await self.handoff("not_understood")
            elif choice == "ask":
                await self.follow_up()
            elif choice == "list":
                self.show_catalog()
            elif choice == "restart":
                await self.command("restart")
            elif choice == "continue":
                # the draft knows what comes next; repeating "the pending question" here repeated this offer
                self.s.awaiting = None
                if self.thing() is None:
                    self.show_catalog()
                else:
                    await self.ask_next(back=True)
            return choice is not None
        if a.kind == "resume":
            choice = self.option(a)
            if choice is None:
                return False
            self.s.current = choice
            self.say.text(self.tx.RESUMED, name=self.e.catalog.things[choice].name)
            await self.ask_next()
            return True
        if d is None or t is None:
            return False
        if a.kind == "start":
            choice = self.option(a)
            if choice == "start":
                if not d.started:
                    self.events.append(f"started:{t.id}")
                d.started = True
                self.say.text(self.tx.FORM_INTRO, count=len(form.fields_in_play(t, d)))
                await self.ask_next()
            elif choice == "materials":
                self.say.guide(t, d.answers)
                self.ask_start(t)
            elif choice == "other":
                self.s.current, self.s.awaiting = None, None
                self.show_catalog()
            return choice is not None
        if a.kind == "eligibility":
            return await self.answer_eligibility(t, d, a)
        if a.kind == "proxy":
            choice = self.option(a)
            if choice is None:
                return False
            d.proxy_asked = True
            if choice == "proxy":
                self.s.awaiting = Awaiting(kind="proxy_relation")
                self.say.text(self.tx.PROXY_RELATION)
                return True
            await self.ask_next()
            return True
        if a.kind == "proxy_relation":
            relation = self.text[:20]
            d.proxy_relation = relation
            self.say.text(self.tx.PROXY_RECORDED, relation=relation)
            await self.ask_next()
            return True
        if a.kind == "consent":
            answer = yes_no(self.text) if self.option(a) is None else self.option(a) == "yes"
            if answer is None:
                return False
            d.consent = answer
            if not answer:
                self.say.text(self.tx.CONSENT_DECLINED)
            await self.ask_next()
            return True
        if a.kind == "prefill_confirm":
            choice = self.option(a)
            if choice is None:
                answer = yes_no(self.text)
                choice = None if answer is None else ("ok" if answer else "fix")
            if choice == "ok":
                d.prefill_confirmed = True
                await self.ask_next()
            elif choice == "fix":
                d.prefill_confirmed = True
                self.ask_which_field(t, d, only=d.prefilled)
            return choice is not None
        if a.kind == "pick_field":
            choice = self.option(a)
            if choice is None:
                return False
            self.reask(t, d, choice)
            return True
        if a.kind == "field":
            return await self.answer_field(t, d, a)
        if a.kind == "readback":
            answer = yes_no(self.text)
            if answer is None:
                return False
            f = form.field_of(t, a.ref or "")
            if f is None:
                return False
            if answer:
                self.store(t, d, f, a.value)
                await self.ask_next()
            else:
                self.s.awaiting = Awaiting(kind="field", ref=f.id)
                self.say.field(f)
            return True
        if a.kind == "commitment":
            return await self.answer_commitment(t, d, a)
        if a.kind == "review":
            choice = self.option(a)
            if choice is None:
                answer = yes_no(self.text)
                choice = "submit" if answer else None
            if choice == "submit":
                await self.submit()
            elif choice == "edit":
                self.ask_which_field(t, d, only=None)
            elif choice == "cancel":
                self.cancel()
            return choice is not None
        return False

    def option(self, a: Awaiting) -> str | None:
        """The payload chosen: by number, by payload, or by the option's words."""
        if self.msg.choice and self.msg.choice in a.options:
            return self.msg.choice
        labels = self.option_labels(a)
        picked = pick_option(self.text, labels) if labels else None
        return a.options[labels.index(picked)] if picked is not None else None

    def option_labels(self, a: Awaiting) -> list[str]:
        for r in reversed(self.s.last_replies):
            if r.get("kind") == "choices" and [o["payload"] for o in r["options"]] == a.options:
                return [o["label"] for o in r["options"]]
        return list(a.options)

    async def answer_pick_thing(self, a: Awaiting) -> bool:
        choice = self.option(a)
        if choice is None:
            return False
        if choice == "none":
            self.s.awaiting = None
            self.say.text(self.tx.WELCOME)
            return True
        await self.start_thing(choice)
        return True

    async def answer_eligibility(self, t: OneThing, d: Draft, a: Awaiting) -> bool:
        picked = self.option(a)
        answer = (picked == "yes") if picked else yes_no(self.text)
        if answer is None:
            return False
        e = next((x for x in t.eligibility if x.id == a.ref), None)
        if e is None:  # the catalog changed under a waiting session
            await self.ask_next()
            return True
        d.eligibility[e.id] = answer
        if not answer:
            gated = e.items or [i.key for i in t.items]
            d.excluded_items = sorted(set(d.excluded_items) | set(gated))
            names = "、".join(i.name for i in t.items if i.key in gated)
            self.say.text(self.tx.NOT_ELIGIBLE, item=names, reason=e.if_not, instead=e.instead)
            if not form.items_in_play(t, d):
                self.say.text(self.tx.NOT_ELIGIBLE_ALL)
                self.s.awaiting = None
                return True
            self.say.text(self.tx.NOT_ELIGIBLE_PARTLY)
        await self.ask_next()
        return True

    async def answer_field(self, t: OneThing, d: Draft, a: Awaiting) -> bool:
        f = form.field_of(t, a.ref or "")
        if f is None:
            return False
        target = correction_target(self.text)
        if target and self.find_field(t, target):
            self.reask(t, d, self.find_field(t, target))  # type: ignore[arg-type]
            return True
        if f.type in (FieldType.text, FieldType.address) and (await self.is_question() or await self.interrupts(0.8)):
            return False  # “要带啥材料？” is not a hospital's name
        # other fields said in the same breath (“我叫张三，电话138…”), this one maybe among them
        others = [x for x in form.fields_in_play(t, d) if x.id not in d.answers and x.id != f.id]
        extras = extra_values(self.text, [f, *others], self.e.today())
        if f.id in extras:
            parsed = parse_value(f, str(extras.pop(f.id)), self.e.today())
        else:
            parsed = parse_value(f, self.text, self.e.today(), self.msg.metadata)
            extras = {k: v for k, v in extras.items() if v != parsed.value}
        if f.type is FieldType.enum and self.msg.choice and self.msg.choice in (f.options or []):
            parsed = Parsed(value=self.msg.choice)
        if not parsed.ok:
            if await self.is_question() or await self.other_thing() or await self.interrupts(CONFIDENT):
                return False
            self.failed = True
            self.s.misunderstood += 1
            if self.s.misunderstood >= 3:
                self.offer_help()
                return True
            message = self.tx.PROBLEM[parsed.problem].format(**parsed.params)
            self.say.field(f, problem=message)
            return True
        if parsed.flag:
            d.flags.append(parsed.flag)
            self.say.text(self.tx.USCC_FLAGGED)
        if self.elderly and f.type is not FieldType.attachment:
            self.s.awaiting = Awaiting(kind="readback", ref=f.id, value=parsed.value)
            shown = spoken_groups(str(parsed.value)) if f.type is FieldType.id_card else self.show(f, parsed.value)
            self.say.yes_no(self.tx.READBACK.format(value=shown), self.tx.READBACK_OPTIONS)
            return True
        self.store(t, d, f, parsed.value)
        for fid, value in extras.items():
            extra = form.field_of(t, fid)
            if extra is not None:
                self.store(t, d, extra, value)
        await self.ask_next()
        return True

    async def answer_commitment(self, t: OneThing, d: Draft, a: Awaiting) -> bool:
        m = next((x for x in t.materials if x.key == a.ref), None)
        if m is None:
            await self.ask_next()
            return True
        said = self.text.replace(" ", "")
        if a.value == "proof":
            parsed = parse_value(
                FormField(
                    id="proof",
                    label=m.name,
                    type=FieldType.attachment,
                    material=m.key,
                    help="-",
                    example="-",
                    items=m.items,
                ),
                self.text,
                self.e.today(),
                self.msg.metadata,
            )
            if not parsed.ok:
                self.say.text(self.tx.PROBLEM["attachment.missing"], label=m.name)
                return True
            d.answers[form.PROOF_PREFIX + m.key] = parsed.value
            self.say.text(self.tx.ATTACHMENT_RECEIVED, label=m.name)
            await self.ask_next()
            return True
        if "不承诺" in said or said in ("2", "不"):
            d.declined_commitments.append(m.key)
            self.say.text(self.tx.COMMITMENT_DECLINED, name=m.name)
            self.s.awaiting = Awaiting(kind="commitment", ref=m.key, value="proof")
            return True
        if "承诺" in said or said == "1" or yes_no(said):
            at = datetime.now(UTC)
            d.commitments[m.key] = Commitment(at=at, text=self.commitment_text(t, m), version=t.version)
            self.say.text(self.tx.COMMITMENT_RECORDED, at=at.astimezone().strftime("%Y-%m-%d %H:%M"))
            await self.ask_next()
            return True
        return False

    # ---- understanding a free message -----------------------------------

    async def is_question(self) -> bool:
        if not any(w in self.text for w in QUESTION_MARKS):
            return False
        result = await self.nlu()
        name, confidence = result["intent"]["name"], result["intent"]["confidence"]
        return name in ASK_INTENTS and confidence >= CONFIDENT

    async def interrupts(self, threshold: float) -> bool:
        """A complaint, a call for a human, progress, cancel or elderly mode said instead of an answer."""
        result = await self.nlu()
        name, confidence = result["intent"]["name"], result["intent"]["confidence"]
        return name in INTERRUPTING and confidence >= threshold

    async def other_thing(self) -> bool:
        result = await self.nlu()
        name, confidence = result["intent"]["name"], result["intent"]["confidence"]
        return name.startswith(THING_PREFIX) and name[len(THING_PREFIX) :] != self.s.current and confidence >= 0.7

    async def understand(self) -> None:
        result = await self.nlu()
        name = result["intent"]["name"]
        tx = self.tx
        if name == FALLBACK_INTENT:
            self.events.append("fallback")
        if any(e["entity"] == "application_no" for e in result.get("entities", [])):
            await self.progress()  # a 申办编号 on its own asks for that application
            self.s.misunderstood = 0
            return
        if name.startswith(THING_PREFIX) and name[len(THING_PREFIX) :] in self.e.catalog.things:
            ambiguous = result.get("ambiguous")
            if ambiguous and all(x.startswith(THING_PREFIX) for x in ambiguous):
                self.offer_things([x[len(THING_PREFIX) :] for x in ambiguous])
            else:
                await self.start_thing(name[len(THING_PREFIX) :])
            self.s.misunderstood = 0
            return
        if name in ASK_INTENTS:
            self.answer_question(name)
            self.s.misunderstood = 0
            await self.ask_next(repeat=True, back=True)
            return
        simple = {"greet": tx.GREET_BACK, "thanks": tx.THANKS, "goodbye": tx.GOODBYE}
        if name in simple:
            self.say.text(simple[name])
            self.s.misunderstood = 0
            if name != "goodbye":
                await self.ask_next(repeat=True, back=True)
            return
        if name == "human_handoff":
            await self.handoff("requested")
            return
        if name == "complaint":
            await self.complaint()
            return
        if name == "check_progress":
            await self.progress()
            return
        if name == "elderly_mode":
            await self.command("elderly_on")
            return
        if name == "cancel":
            self.cancel()
            return
        if name in ("affirm", "deny") and self.s.awaiting is not None:
            pass  # an answer that did not fit the question: handled as not understood
        candidates = [
            r["name"][len(THING_PREFIX) :]
            for r in result.get("intent_ranking", [])[:5]
            if r["name"].startswith(THING_PREFIX) and r["confidence"] >= 0.1
        ][:3]
        self.s.misunderstood += 1
        if self.s.misunderstood >= 2:
            self.offer_help()
        elif candidates and self.s.awaiting is None:
            self.offer_things(candidates)
        else:
            self.say.text(tx.NOT_UNDERSTOOD)
            await self.ask_next(repeat=True, back=True)

    def offer_help(self) -> None:
        tx = self.tx
        before = self.s.awaiting
        if before is not None and before.kind == "help":  # offered again: keep what the first offer kept,
            kept = before.value  # not the offer inside the offer (the session grew a level each time)
        else:
            kept = before.model_dump() if before is not None else None
        options = [
            ("list", tx.HELP_OPTIONS["list"]),
            ("human", tx.HELP_OPTIONS["human"]),
            ("restart", tx.HELP_OPTIONS["restart"]),
        ]
        if self.e.appeals is not None:  # a question the bot cannot answer: 12345 answers it later
            options.insert(2, ("ask", tx.HELP_OPTIONS["ask"]))
        if kept is not None:  # a question was open, however many offers ago: it can be taken up again
            options.insert(0, ("continue", tx.HELP_CONTINUE))
        self.s.misunderstood = 0
        payloads = self.say.choices(tx.NOT_UNDERSTOOD_AGAIN, options)
        self.s.awaiting = Awaiting(kind="help", options=payloads, value=kept)

    def offer_things(self, ids: list[str]) -> None:
        options = [(i, self.e.catalog.things[i].name) for i in ids] + [("none", self.tx.NONE_OF_THESE)]
        payloads = self.say.choices(self.tx.WHICH_THING, options)
        self.s.awaiting = Awaiting(kind="pick_thing", options=payloads)

    def show_catalog(self) -> None:
        tx = self.tx
        things = list(self.e.catalog)
        lines = [tx.CATALOG_TITLE.format(count=len(things))]
        options: list[str] = []
        for category in ("个人", "法人"):
            lines.append(tx.CATALOG_CATEGORY.format(category=category))
            for t in self.e.catalog.by_category(category):
                options.append(t.id)
                lines.append(tx.CHOICE_LINE.format(n=len(options), label=t.name))
        lines.append(tx.CATALOG_PICK)
        from bot.dialogue.messages import Choice, ChoicesReply

        choices = [Choice(n=n, label=self.e.catalog.things[i].name, payload=i) for n, i in enumerate(options, 1)]
        self.say.replies.append(ChoicesReply(text="\n".join(lines), prompt=lines[0], options=choices))
        self.s.awaiting = Awaiting(kind="pick_thing", options=options)

    async def start_thing(self, thing_id: str) -> None:
        t = self.e.catalog.things[thing_id]
        old = self.s.draft
        if old is not None and old.thing != thing_id and (old.started or old.answers):
            self.say.text(self.tx.SWITCHED, old=self.e.catalog.things[old.thing].name)
        self.s.current = thing_id
        if thing_id not in self.s.drafts:  # the funnel counts drafts: a person coming back is not new
            self.events += [f"identified:{thing_id}", f"guide:{thing_id}"]
        d = self.s.drafts.setdefault(thing_id, Draft(thing=thing_id, catalog_version=t.version))
        if d.started:
            self.say.text(self.tx.RESUMED, name=t.name)
            await self.ask_next()
            return
        self.say.text(self.tx.THING_PICKED, name=t.name)
        self.say.guide(t, d.answers)
        self.say.form_link(t)
        self.ask_start(t)

    def ask_start(self, t: OneThing) -> None:
        tx = self.tx
        options = [(k, v) for k, v in tx.START_OPTIONS.items()]
        self.s.awaiting = Awaiting(kind="start", options=self.say.choices(tx.START_OR_ASK, options))

    def answer_question(self, intent: str) -> None:
        t = self.thing()
        tx = self.tx
        if t is None:
            self.say.text(tx.ANSWER_NO_THING)
            return
        from bot.catalog.render import render_guide

        # The relevant section of the one-time guide, from the catalog.
        d = self.s.draft
        guide = render_guide(t, d.answers if d else {}, tx).split("\n\n")
        section = {
            "ask_materials": (tx.ANSWER_MATERIALS, tx.GUIDE_MATERIALS),
            "ask_duration": (tx.ANSWER_DURATION, tx.GUIDE_TIME),
            "ask_fee": (tx.ANSWER_FEE, tx.GUIDE_FEE),
            "ask_location": (tx.ANSWER_LOCATION, tx.GUIDE_WHERE),
        }
        if intent == "ask_online":
            window = [i.name for i in t.items if i.guide.channels == "窗口办理"]
            body = tx.ANSWER_ONLINE_WINDOW.format(items="、".join(window)) if window else tx.ANSWER_ONLINE_YES
            self.say.text(tx.ANSWER_ONLINE.format(name=t.name) + "\n" + body)
            return
        head, heading = section[intent]
        part = next((p for p in guide if p.startswith(heading)), "")
        body = part.split("\n", 1)[1] if "\n" in part else part
        self.say.text(head.format(name=t.name) + "\n" + body)

    # ---- what to ask next -------------------------------------------------

    async def ask_next(self, repeat: bool = False, back: bool = False) -> None:
        """Ask the next open question of the draft in focus (or repeat the pending one)."""
        t, d = self.thing(), self.s.draft
        a = self.s.awaiting
        if repeat and a is not None and a.kind not in ("field", "readback", "commitment", "review"):
            if back:
                self.say.text(self.tx.BACK_TO)
            self.reissue(a)
            return
        if t is None or d is None:
            if not repeat:
                self.s.awaiting = None
            return
        if not d.started:
            if back:
                self.say.text(self.tx.BACK_TO)
            self.ask_start(t)
            return
        if back:
            self.say.text(self.tx.BACK_TO)
        await self.next_question(t, d)

    def reissue(self, a: Awaiting) -> None:
        for r in self.s.last_replies:
            if r.get("kind") in ("choices", "field"):
                self.say.replies.append(_without_footer(r, self.tx.FOOTER))
                return

    async def next_question(self, t: OneThing, d: Draft) -> None:
        tx = self.tx
        e = form.open_eligibility(t, d)
        if e is not None:
            if not d.eligibility:
                self.say.text(tx.ELIGIBILITY_INTRO)
            self.s.awaiting = Awaiting(kind="eligibility", ref=e.id, options=self.say.yes_no(e.question))
            return
        # elders often apply through family; a verified identity is only used once we know it is theirs
        if (self.elderly or self.s.verified is not None) and not d.proxy_asked:
            d.proxy_asked = True
            self.s.awaiting = Awaiting(
                kind="proxy", options=self.say.choices(tx.PROXY_ASK, list(tx.PROXY_OPTIONS.items()))
            )
            return
        if not d.looked_up and self.e.shared is not None and form.wants_shared_data(t):
            if self.s.verified is None:
                # shared data is only for a verified person's own record (seed 002 §7): whoever the
                # channel cannot vouch for fills the form, and the platform checks it
                d.looked_up = True
                self.say.text(tx.PREFILL_UNVERIFIED)
            elif d.consent is None:
                payloads = self.say.choices(tx.CONSENT, list(tx.CONSENT_OPTIONS.items()))
                self.s.awaiting = Awaiting(kind="consent", options=payloads)
                return
        self.use_verified_identity(t, d)
        key = form.lookup_field(t)
        due = d.consent and not d.looked_up and key is not None and key[0].id in d.answers
        if due and key is not None and await self.prefill(t, d, str(d.answers[key[0].id]), key[1]):
            return
        f = form.next_field(t, d)
        if f is not None:
            if f.id not in d.reached:  # where people give up: the last question they reached
                d.reached.append(f.id)
                self.events.append(f"reached:{t.id}:{f.id}")
            self.s.awaiting = Awaiting(kind="field", ref=f.id, options=self.say.field(f))
            return
        m = form.open_commitment(t, d)
        if m is not None:
            self.ask_commitment(t, d, m)
            return
        missing = form.missing_tolerable(t, d)
        if missing and not d.tolerable_told:
            d.tolerable_told = True
            days = max(m.supply_within_days or 0 for m in missing)
            self.say.text(tx.TOLERABLE_NOTICE, names="、".join(m.name for m in missing), days=days)
        self.review(t, d)

    def use_verified_identity(self, t: OneThing, d: Draft) -> None:
        """Someone who applies for themselves from a real-name-verified app is not asked who they are."""
        v = self.s.verified
        id_field = form.applicant_id_field(t)
        if v is None or d.proxy_relation is not None or id_field is None or id_field.id in d.answers:
            return
        used = []
        for f in t.form.fields:
            value = v.id_number if f.id == id_field.id else v.name if f.prefill == "identity.name" else None
            if value is None or f.id in d.answers:
                continue
            parsed = parse_value(f, value, self.e.today())
            if parsed.ok:
                d.answers[f.id] = parsed.value
                d.prefilled.append(f.id)
                used.append(f)
        if used:
            shown = "，".join(self.show(f, d.answers[f.id], masked=True) for f in used)
            self.say.text(self.tx.VERIFIED_USED, who=shown)

    async def prefill(self, t: OneThing, d: Draft, key: str, kind: str) -> bool:
        """Fetch shared data once the applicant's ID is known; True when a question was asked."""
        tx = self.tx
        d.looked_up = True
        sources = {f.prefill.split(".")[0] for f in t.form.fields if f.prefill}
        sources |= {m.shared.prefill for m in t.materials if m.shared and m.shared.prefill}
        assert self.e.shared is not None and self.s.verified is not None
        try:
            if not await self.vouched_for(key, kind, d.consent_id):
                self.say.text(tx.PREFILL_NOT_OWN)
                return False
            record = await self.e.shared.lookup(key, sources, consent_id=d.consent_id, kind=kind)
        except SharedDataUnavailable as exc:
            log.warning("shared data unavailable, asking for everything: %s", exc)
            self.say.text(tx.PREFILL_DOWN)
            return False
        if record is None:
            self.say.text(tx.PREFILL_NONE)
            return False
        d.false_commitment_listed = record.false_commitment
        d.shared_materials = [
            m.key for m in t.materials if m.shared is not None and record.provides(m.shared.name, m.shared.prefill)
        ]
        filled = []
        for f in t.form.fields:
            value = record.value(f.prefill) if f.prefill else None
            if value is None or f.id in d.answers:
                continue
            parsed = parse_value(
                f, str(value) if not isinstance(value, bool) else ("是" if value else "否"), self.e.today()
            )
            if parsed.ok:
                d.answers[f.id] = parsed.value
                d.prefilled.append(f.id)
                filled.append(f)
        if (
            kind == "person"
            and self.s.style == "standard"
            and not self.s.elderly_offered
            and elderly_by_id(key, self.e.today())
        ):
            self.s.elderly_offered = True
            self.say.text(tx.ELDERLY_OFFER)
        if not filled:
            self.say.text(tx.PREFILL_NONE)
            return False
        lines = [tx.PREFILL_SHOWN]
        lines += [
            tx.FILLED_LINE.format(label=f.label, value=self.show(f, d.answers[f.id], masked=True)) for f in filled
        ]
        shared = [m.name for m in t.materials if m.key in d.shared_materials]
        if shared:
            lines.append(tx.PREFILL_MATERIALS.format(names="、".join(shared)))
        self.say.text("\n".join(lines))
        payloads = self.say.choices(tx.PREFILL_CONFIRM, list(tx.PREFILL_OPTIONS.items()))
        self.s.awaiting = Awaiting(kind="prefill_confirm", options=payloads)
        return True

    async def vouched_for(self, key: str, kind: str, consent_id: str) -> bool:
        """Whether the verified person may see the record keyed ``key``: their own, or one their own
        record ties them to (a member of their household; a company whose credit code is theirs)."""
        v = self.s.verified
        assert v is not None and self.e.shared is not None
        own = v.id_number.upper()
        if kind == "person" and key.upper() == own:
            return True
        source = "household" if kind == "person" else "business"
        mine = await self.e.shared.lookup(own, {source}, consent_id=consent_id, kind="person")
        tied = mine.value("household.members" if kind == "person" else "business.uscc") if mine else None
        tied = tied if isinstance(tied, list) else [tied] if tied else []
        return key.upper() in {str(k).upper() for k in tied}

    def ask_commitment(self, t: OneThing, d: Draft, m: Any) -> None:
        tx = self.tx
        if d.false_commitment_listed or m.key in d.declined_commitments:
            self.say.text(
                tx.COMMITMENT_NOT_OFFERED if d.false_commitment_listed else tx.COMMITMENT_DECLINED, name=m.name
            )
            self.s.awaiting = Awaiting(kind="commitment", ref=m.key, value="proof")
            return
        self.say.text(tx.COMMITMENT_TITLE.format(name=m.name) + "\n" + self.commitment_text(t, m))
        self.say.text(tx.COMMITMENT_ASK)
        self.s.awaiting = Awaiting(kind="commitment", ref=m.key)

    def commitment_text(self, t: OneThing, m: Any) -> str:
        items = "、".join(i.name for i in t.items if i.key in m.items)
        return self.tx.COMMITMENT_BODY.format(items=items, basis=m.basis or t.name, content=m.commitment)

    def review(self, t: OneThing, d: Draft) -> None:
        tx = self.tx
        lines = []
        for f in form.fields_in_play(t, d):
            if f.id in d.answers:
                lines.append((f.label, self.show(f, d.answers[f.id], masked=True)))
        notes = []
        shared = form.shared_names(t, d)
        if shared:
            notes.append(tx.REVIEW_MATERIALS_SHARED.format(names="、".join(shared)))
        later = form.missing_tolerable(t, d)
        if later:
            notes.append(tx.REVIEW_MATERIALS_LATER.format(names="、".join(m.name for m in later)))
        if d.commitments:
            names = [m.name for m in t.materials if m.key in d.commitments]
            notes.append(tx.REVIEW_COMMITMENTS.format(names="、".join(names)))
        if d.flags:
            notes.append(tx.REVIEW_FLAGS.format(notes="、".join(tx.USCC_FLAGGED for _ in d.flags[:1])))
        self.say.review(t, lines, notes)
        payloads = self.say.choices(tx.REVIEW_ASK, list(tx.REVIEW_OPTIONS.items()))
        self.s.awaiting = Awaiting(kind="review", options=payloads)

    def show(self, f: FormField, value: Any, masked: bool = False) -> str:
        text = (self.tx.YES if value else self.tx.NO) if isinstance(value, bool) else str(value)
        return mask_value(f.type.value, text) if masked and f.is_personal else text

    # ---- storing answers, prefill, corrections ---------------------------

    def store(self, t: OneThing, d: Draft, f: FormField, value: Any) -> None:
        d.answers[f.id] = value
        if f.id in d.skipped:
            d.skipped.remove(f.id)
        if f.id in d.prefilled:
            d.prefilled.remove(f.id)  # the person's own answer overrides shared data
        d.updated_at = datetime.now(UTC)
        # answers that close a branch drop what was given inside it
        for other in t.form.fields:
            if other.id in d.answers and other.when and holds(other.when, d.answers) is False:
                d.answers.pop(other.id)

    async def skip(self) -> bool:
        t, d, a = self.thing(), self.s.draft, self.s.awaiting
        if t is None or d is None or a is None or a.kind != "field":
            return False
        f = form.field_of(t, a.ref or "")
        if f is None:
            return False
        if f.required:
            self.say.field(f, problem=self.tx.FIELD_NOT_SKIPPABLE.format(label=f.label))
            return True
        d.skipped.append(f.id)
        self.say.text(self.tx.FIELD_SKIPPED, label=f.label)
        await self.ask_next()
        return True

    def find_field(self, t: OneThing, words: str) -> str | None:
        d = self.s.draft
        fields = form.fields_in_play(t, d) if d else t.form.fields
        exact = [f for f in fields if words in f.label or f.label in words]
        if exact:
            return exact[0].id
        synonyms = {
            "电话": "phone",
            "手机": "phone",
            "身份证": "id_card",
            "名字": "name",
            "姓名": "name",
            "地址": "address",
            "日期": "date",
        }
        kind = next((k for w, k in synonyms.items() if w in words), None)
        typed = [f for f in fields if f.type.value == kind]
        return typed[0].id if typed else None

    def reask(self, t: OneThing, d: Draft, field_id: str) -> None:
        f = form.field_of(t, field_id)
        if f is None:
            return
        self.s.awaiting = Awaiting(kind="field", ref=f.id)
        self.say.text(self.tx.FIELD_REASK, label=f.label)
        self.s.awaiting.options = self.say.field(f)

    def ask_which_field(self, t: OneThing, d: Draft, only: list[str] | None) -> None:
        fields = [f for f in form.fields_in_play(t, d) if f.id in d.answers and (only is None or f.id in only)]
        if not fields:
            fields = [f for f in form.fields_in_play(t, d) if f.id in d.answers]
        payloads = self.say.choices(self.tx.WHICH_FIELD, [(f.id, f.label) for f in fields])
        self.s.awaiting = Awaiting(kind="pick_field", options=payloads)

    def show_filled(self) -> None:
        t, d = self.thing(), self.s.draft
        tx = self.tx
        if t is None or d is None or not d.answers:
            self.say.text(tx.FILLED_EMPTY)
            return
        lines = [tx.FILLED_TITLE]
        for f in form.fields_in_play(t, d):
            if f.id in d.answers:
                mark = tx.PREFILLED_MARK if f.id in d.prefilled else ""
                lines.append(
                    tx.FILLED_LINE.format(label=f.label, value=self.show(f, d.answers[f.id], masked=True)) + mark
                )
        self.say.text("\n".join(lines))

    # ---- the rest ---------------------------------------------------------

    def set_style(self, style: str) -> None:
        self.s.style = style  # type: ignore[assignment]
        self.say = Say(self.s) if not self.say.replies else _restyle(self.say, self.s)

    def repeat(self) -> None:
        for r in self.s.last_replies:
            self.say.replies.append(_without_footer(r, self.tx.FOOTER))

    async def resume(self) -> None:
        open_drafts = [d for d in self.s.drafts.values() if d.started or d.answers]
        if not open_drafts:
            self.say.text(self.tx.RESUME_NONE)
            return
        if len(open_drafts) == 1:
            self.s.current = open_drafts[0].thing
            self.say.text(self.tx.RESUMED, name=self.e.catalog.things[self.s.current].name)
            self.s.awaiting = None
            await self.ask_next()
            return
        options = [(d.thing, self.e.catalog.things[d.thing].name) for d in open_drafts]
        self.s.awaiting = Awaiting(kind="resume", options=self.say.choices(self.tx.RESUME_WHICH, options))

    def cancel(self) -> None:
        t = self.thing()
        if t is None:
            self.say.text(self.tx.NOTHING_TO_CANCEL)
            return
        self.s.drafts.pop(t.id, None)
        self.s.current, self.s.awaiting = None, None
        self.say.text(self.tx.CANCELLED, name=t.name)

    async def handoff(self, reason: str, template: str | None = None) -> None:
        """Into the line for a hotline agent (once: asking again says where they stand)."""
        self.s.handoff = True
        self.events.append(f"handoff:{reason}")
        desk = self.e.desk
        if desk is None:
            self.say.handoff(reason, template)
            return
        t = self.thing()
        ticket, new = await desk.open(self.s.user, self.msg.channel, t.id if t else None, reason)
        self.s.handover = ticket.id
        ahead = await desk.position(ticket) - 1
        line = (self.tx.HANDOFF_QUEUED if new else self.tx.HANDOFF_STILL_QUEUED).format(ahead=ahead)
        self.say.handoff(reason, f"{template}\n{line}" if template else line)

    async def handoff_cancel(self) -> None:
        if self.e.desk is not None and self.s.handover and await self.e.desk.withdraw(self.s.handover):
            self.s.handoff, self.s.handover = False, None
            self.say.text(self.tx.HANDOFF_WITHDRAWN)
            await self.ask_next(repeat=True, back=True)
            return
        self.say.text(self.tx.HANDOFF_NONE)

    # ---- a draft an agent started on the phone, continued here with its code ----

    async def phone_draft(self, code: str) -> None:
        """A code from an agent's SMS: it opens the draft only with the phone number it was sent to,
        which the channel may know (a caller's number) or the person is asked for."""
        if self.s.phone is not None:
            await self.redeem_phone_draft(code, self.s.phone, self.s.awaiting)
            return
        before = self.s.awaiting.model_dump() if self.s.awaiting is not None else None
        self.s.awaiting = Awaiting(kind="phone_code_phone", value={"code": code, "before": before})
        self.say.text(self.tx.PHONE_CODE_ASK_PHONE)

    async def answer_phone_code_phone(self, a: Awaiting) -> bool:
        phone = re.sub(r"\D", "", self.text)
        if not phone:
            return False  # no number at all: perhaps a question, or another need
        if mobile_problem(phone) is not None:
            self.failed = True
            self.say.text(self.tx.PHONE_CODE_PHONE_AGAIN)
            return True
        code, before = a.value["code"], a.value.get("before")
        await self.redeem_phone_draft(code, phone, Awaiting.model_validate(before) if before else None)
        return True

    async def redeem_phone_draft(self, code: str, phone: str, before: Awaiting | None) -> None:
        assert self.e.phone_drafts is not None
        self.s.awaiting = before  # what was asked before the code came, should it not open a draft
        try:
            found = await self.e.phone_drafts.redeem(code, self.s.user, phone)
        except CodeLocked:
            self.say.text(self.tx.PHONE_CODE_LOCKED)
            return
        if found is None:
            self.say.text(self.tx.PHONE_CODE_WRONG)
            return
        thing_id, answers = found
        thing = self.e.catalog.get(thing_id)
        if thing is None:
            self.say.text(self.tx.PHONE_CODE_WRONG)
            return
        d = self.s.drafts.setdefault(thing_id, Draft(thing=thing_id, catalog_version=thing.version))
        d.started = True
        for f in thing.form.fields:  # what the caller said, read with the chat's own validators
            if f.id in answers and f.id not in d.answers:
                parsed = parse_value(f, str(answers[f.id]), self.e.today())
                if parsed.ok:
                    d.answers[f.id] = parsed.value
        self.s.current, self.s.awaiting = thing_id, None
        self.say.text(self.tx.PHONE_DRAFT_RESUMED, name=thing.name, count=len(d.answers))
        await self.ask_next()

    # ---- 好差评: rating a finished application (nobody is pressed) -------------

    async def rate_prompt(self) -> None:
        tx = self.tx
        if self.s.rate_handover and self.e.ratings is not None:  # an agent conversation just ended
            self.say.text(tx.RATE_AGENT_ASK)
            options = [(str(score), label) for score, label in RATE_LEVELS.items()]
            self.s.awaiting = Awaiting(
                kind="rating", ref=f"handover:{self.s.rate_handover}", options=self.say.choices(tx.RATE_CHOOSE, options)
            )
            return
        finished = [
            a
            for a in await self.e.applications.progress(self.s.user)
            if a["items"] and all(i["status"] in FINISHED_STATUSES for i in a["items"])
        ]
        if self.e.ratings is None or not finished:
            self.say.text(tx.RATE_NONE)
            return
        app = finished[0]  # the newest
        thing = self.e.catalog.get(app["thing"])
        self.say.text(tx.RATE_ASK, name=thing.name if thing else app["thing"])
        options = [(str(score), label) for score, label in RATE_LEVELS.items()]
        self.s.awaiting = Awaiting(kind="rating", ref=app["id"], options=self.say.choices(tx.RATE_CHOOSE, options))

    async def answer_rating(self, a: Awaiting) -> bool:
        tx = self.tx
        if a.kind == "rating":
            choice = self.option(a)
            if choice is None:
                return False
            score = int(choice)
            if score <= RATE_BAD:
                self.say.text(tx.RATE_WHY)
                self.s.awaiting = Awaiting(kind="rating_comment", ref=a.ref, value=score)
                return True
            await self.record_rating(a.ref or "", score, "")
            return True
        if a.kind == "rating_comment":
            known = {"score": int(a.value), "comment": self.text}
            if (a.ref or "").startswith("handover:") and self.contact()[1] is None:
                # 12345 calls the person back: it needs a number (applications carry theirs)
                self.say.text(tx.COMPLAINT_PHONE_ASK)
                self.s.awaiting = Awaiting(kind="rating_phone", ref=a.ref, value=known)
                return True
            await self.record_rating(a.ref or "", known["score"], known["comment"])
            return True
        phone = re.sub(r"\D", "", self.text)
        if mobile_problem(phone) is not None:
            self.failed = True
            self.say.text(tx.COMPLAINT_PHONE_ASK)
            return True
        await self.record_rating(a.ref or "", int(a.value["score"]), str(a.value["comment"]), phone)
        return True

    async def record_rating(self, app_id: str, score: int, comment: str, phone: str | None = None) -> None:
        assert self.e.ratings is not None
        self.s.awaiting = None
        if app_id.startswith("handover:"):
            self.s.rate_handover = None
            name, known_phone = self.contact()
            context = "\n".join(mask_text(str(r.get("text", ""))) for r in self.s.last_replies[-3:])
            rating = await self.e.ratings.rate_conversation(
                self.s.user, self.msg.channel, app_id.removeprefix("handover:"), score, comment, context,
                name=name or "", phone=phone or known_phone or "", region=region_of(self.known_id()),
            )  # fmt: skip
        else:
            rating = await self.e.ratings.rate(self.s.user, app_id, score, comment)
        if rating.work_order is not None:
            self.say.text(self.tx.RATE_BAD_TAKEN)
        else:
            self.say.text(self.tx.RATE_THANKS)

    # ---- complaints: a 12345 work order with the conversation's context ------

    async def complaint(self) -> None:
        tx = self.tx
        if self.e.appeals is None:
            await self.handoff("complaint", tx.COMPLAINT.format(supervise=tx.COMPLAINT_PHONE))
            return
        told = self.text if len(COMPLAINT_WORDS.sub("", self.text)) >= 4 else ""
        await self.complaint_next({"content": told} if told else {})

    async def follow_up(self) -> None:
        """A question the bot could not answer, left for 12345 to answer (a 咨询 work order)."""
        if self.e.appeals is None:
            await self.handoff("not_understood")
            return
        await self.complaint_next({"kind": "咨询"})

    async def complaint_next(self, known: dict[str, str]) -> None:
        """Ask for what the work order still lacks, or open it (a 投诉, or a 咨询 to follow up)."""
        tx = self.tx
        name, phone = self.contact()
        known.setdefault("name", name or "")
        known.setdefault("phone", phone or "")
        question = known.get("kind") == "咨询"
        for key, kind, ask in (
            ("content", "complaint", tx.FOLLOW_UP_ASK if question else tx.COMPLAINT_ASK),
            ("name", "complaint_name", tx.COMPLAINT_NAME),
            ("phone", "complaint_phone", tx.COMPLAINT_PHONE_ASK),
        ):
            if not known.get(key):
                self.say.text(ask)
                self.s.awaiting = Awaiting(kind=kind, value=known)  # type: ignore[arg-type]
                return
        assert self.e.appeals is not None
        t = self.thing()
        context = "\n".join(mask_text(str(r.get("text", ""))) for r in self.s.last_replies[-3:])
        await self.e.appeals.open(
            Appeal(
                user=self.s.user,
                channel=self.msg.channel,
                kind="咨询" if question else "投诉",
                content=mask_text(known["content"])[:2000],
                name=known["name"],
                phone=known["phone"],
                region=region_of(self.known_id()),
                department=t.lead[0] if t else DEFAULT_DEPARTMENT,
                context=(f"正在办理：{t.name}\n" if t else "") + context,
                thing_id=t.id if t else None,
            )
        )
        self.s.awaiting = None
        if question:
            self.say.text(tx.FOLLOW_UP_TAKEN)
            return
        await self.handoff("complaint", tx.COMPLAINT_TAKEN)

    async def answer_complaint(self, a: Awaiting) -> bool:
        known = dict(a.value or {})
        if a.kind == "complaint":
            if not self.text:
                return False
            known["content"] = self.text
        elif a.kind == "complaint_name":
            if not 2 <= len(self.text) <= 20:
                return False
            known["name"] = self.text
        else:
            phone = re.sub(r"\D", "", self.text)
            if mobile_problem(phone) is not None:
                self.failed = True
                self.say.text(self.tx.COMPLAINT_PHONE_ASK)
                return True
            known["phone"] = phone
        await self.complaint_next(known)
        return True

    def contact(self) -> tuple[str | None, str | None]:
        """The person's name and phone as their verified identity or their drafts give them."""
        name = self.s.verified.name if self.s.verified else None
        phone = self.s.phone
        for d in self.s.drafts.values():
            thing = self.e.catalog.get(d.thing)
            for f in thing.form.fields if thing else []:
                value = d.answers.get(f.id)
                if not value:
                    continue
                if name is None and f.prefill == "identity.name":
                    name = str(value)
                if phone is None and f.type is FieldType.phone:
                    phone = str(value)
        return name, phone

    def known_id(self) -> str | None:
        if self.s.verified:
            return self.s.verified.id_number
        for d in self.s.drafts.values():
            thing = self.e.catalog.get(d.thing)
            f = form.applicant_id_field(thing) if thing else None
            if f is not None and d.answers.get(f.id):
                return str(d.answers[f.id])
        return None

    # ---- 补正: what an item in 需补正 asked for, handed in here ------------

    async def pending_supplements(self) -> dict[str, tuple[str, str, dict[str, Any]]]:
        """``number|item`` → (thing name, item name, detail) for every item waiting for 补正."""
        out: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for app in await self.e.applications.progress(self.s.user):
            thing = self.e.catalog.get(app["thing"])
            for item in app["items"]:
                if item["status"] == "需补正" and app["number"]:
                    name = thing.name if thing else app["thing"]
                    out[f"{app['number']}|{item['key']}"] = (name, item["name"], item.get("detail") or {})
        return out

    async def supplement(self) -> None:
        pending = await self.pending_supplements()
        if not pending:
            self.say.text(self.tx.SUPPLEMENT_NONE)
            return
        if len(pending) == 1:
            await self.ask_supplement(next(iter(pending)), pending)
            return
        options = [(ref, f"{thing}·{item}") for ref, (thing, item, _) in pending.items()]
        self.s.awaiting = Awaiting(kind="supplement_pick", options=self.say.choices(self.tx.SUPPLEMENT_PICK, options))

    async def ask_supplement(self, ref: str, pending: dict[str, tuple[str, str, dict[str, Any]]] | None = None) -> None:
        pending = pending if pending is not None else await self.pending_supplements()
        if ref not in pending:
            self.say.text(self.tx.SUPPLEMENT_GONE)
            return
        _, item, detail = pending[ref]
        missing = "、".join(detail.get("missing") or []) or detail.get("reason") or item
        self.say.text(self.tx.SUPPLEMENT_ASK, item=item, missing=missing)
        self.s.awaiting = Awaiting(kind="supplement", ref=ref)

    async def answer_supplement(self, a: Awaiting) -> bool:
        files = [str(f) for f in self.msg.metadata.get("attachments") or []]
        if not files and not self.text:
            self.say.text(self.tx.SUPPLEMENT_EMPTY)
            return True
        number, item_key = (a.ref or "|").split("|", 1)
        pending = await self.pending_supplements()
        if a.ref not in pending:
            self.s.awaiting = None
            self.say.text(self.tx.SUPPLEMENT_GONE)
            return True
        await self.e.applications.supplement(self.s.user, number, item_key, self.text, files)
        self.s.awaiting = None
        self.say.text(self.tx.SUPPLEMENT_TAKEN, item=pending[a.ref or ""][1])
        return True

    async def progress(self) -> None:
        tx = self.tx
        number = next(
            (s["value"] for s in (await self.nlu()).get("entities", []) if s["entity"] == "application_no"), None
        )
        apps = await self.e.applications.progress(self.s.user, number)
        if number and not apps:
            self.say.text(tx.PROGRESS_NOT_FOUND, number=number)
            return
        if not apps:
            self.say.text(tx.PROGRESS_NONE)
            return
        lines = [tx.PROGRESS_TITLE]
        for app in apps:
            name = self.e.catalog.things[app["thing"]].name if app["thing"] in self.e.catalog.things else app["thing"]
            lines.append(
                tx.PROGRESS_APPLICATION.format(
                    name=name, number=app["number"] or tx.PROGRESS_PENDING_NUMBER, at=app["at"]
                )
            )
            for item in app["items"]:
                lines.append(tx.PROGRESS_ITEM.format(item=item["name"], status=item["status"]))
        self.say.text("\n".join(lines))

    async def submit(self) -> None:
        t, d = self.thing(), self.s.draft
        if t is None or d is None:
            return
        try:
            await self.e.applications.submit(self.s, t, d)
        except Exception:
            log.exception("could not store an application")
            self.say.text(self.tx.SUBMIT_FAILED)
            return
        self.s.drafts.pop(t.id, None)
        self.s.current, self.s.awaiting = None, None
        self.say.text(self.tx.SUBMITTED)


_REPLY: TypeAdapter[Reply] = TypeAdapter(Reply)


def _without_footer(stored: dict[str, Any], footer: str) -> Reply:
    """A reply of an earlier turn, to say again: its footer (“回复 0 转人工…”) comes once, at the end."""
    reply = _REPLY.validate_python(stored)
    text = reply.text
    while footer and text.endswith(footer):
        text = text[: -len(footer)].rstrip()
    return reply.model_copy(update={"text": text}) if text != reply.text else reply


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


def _restyle(say: Say, session: Session) -> Say:
    fresh = Say(session)
    fresh.replies = say.replies
    return fresh


def elderly_by_id(id_card: str, today: date) -> bool:
    born = id_card_birth_date(id_card)
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= 60
