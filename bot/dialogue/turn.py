"""One message of one person, as every flow sees it: the session, the message, the engine's
ports, what is said back (``say``), the NLU's reading (parsed once, when first asked for), and what
happened for the dashboard's counters. Flows share nothing else.

A flow that hands over to another part of the conversation (the next question, an agent, the
catalog…) calls it through ``turn.go`` (``Flows``), which the router implements: flows never import
each other's answers, so the flows stay a tree of imports, not a web."""

from __future__ import annotations

import re
from typing import Any, Protocol

from bot.catalog import OneThing
from bot.catalog.models import FieldType, FormField
from bot.dialogue import form as plan
from bot.dialogue.fields import pick_option
from bot.dialogue.messages import Inbound
from bot.dialogue.ports import World
from bot.dialogue.say import Say, amount_shown
from bot.dialogue.session import Draft, Session
from bot.dialogue.states import Awaiting
from bot.masking import mask_value
from bot.nlu.cues import UNSURE, asked_act, asks_meaning
from bot.nlu.understanding import Reading, read
from bot.validators import mobile_problem

THING_PREFIX = "thing_"
FALLBACK_INTENT = "nlu_fallback"  # Rasa's FallbackClassifier's name, which the embedded engine uses too
CONFIDENT = 0.5  # an intent this sure may interrupt a pending question
QUESTION_MARKS = ("吗", "啥", "什么", "怎么", "多久", "哪", "?", "？", "几", "咋", "能不能", "可以不")
# said instead of an answer (长辈模式 is asked for in its own words, commands.py: the classifier's
# elderly_mode hears it in every 爸妈 and 老伴)
INTERRUPTING = ("complaint", "human_handoff", "check_progress", "cancel")
QUESTION_SIGN = re.compile(r"[？?]")
QUESTION_WORDS = ("吗", "啥", "什么", "怎么", "多久", "哪", "几", "咋", "多少", "为啥", "谁")
A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")  # “是不是都要”, “用不用交”, “有没有”: asked
CLAUSE_ASKING = re.compile(r"[不没](?=[\s，,。！!]|$)")  # “狗牌子还用去派出所取不 我腿不好”
ASKING_END = re.compile(r"(?:吗|么|不|没|呢|啊|[？?])\s*\S{0,8}$")
_CUE_OF = {"check_progress": "progress", "complaint": "complaint"}
WISH = re.compile(r"我要|我想|想办|要办|帮我办|给我办|申请|办理|办个|办一下|咋办|怎么办|整一下|弄一下|开始")
ASK_INTENTS = ("ask_materials", "ask_duration", "ask_fee", "ask_location", "ask_online", "ask_conditions")


class Flows(Protocol):
    """What one part of the conversation may ask of another (``bot/dialogue/router.py``)."""

    async def answer(self, turn: Turn) -> bool: ...

    async def ask_next(self, turn: Turn, repeat: bool = False, back: bool = False) -> None: ...

    async def command(self, turn: Turn, name: str) -> bool: ...

    async def handoff(self, turn: Turn, reason: str, template: str | None = None) -> None: ...

    async def follow_up(self, turn: Turn) -> None: ...

    async def progress(self, turn: Turn) -> None: ...

    async def start_thing(self, turn: Turn, thing_id: str) -> None: ...

    async def submit(self, turn: Turn) -> None: ...

    def show_catalog(self, turn: Turn) -> None: ...

    def offer_help(self, turn: Turn) -> None: ...

    def cancel(self, turn: Turn) -> None: ...

    def ask_which_field(self, turn: Turn, t: OneThing, d: Draft, only: list[str] | None) -> None: ...


class Turn:
    def __init__(self, engine: World, session: Session, msg: Inbound, go: Flows) -> None:
        self.e = engine
        self.s = session
        self.msg = msg
        self.go = go
        self.text = (msg.choice or msg.text).strip()
        self.say = Say(session)
        self._nlu: dict[str, Any] | None = None
        self._reading: Reading | None = None
        self.failed = False  # the answer did not fit the question (counts towards offering help)
        self.events: list[str] = []  # what happened in this turn, for the dashboard's counters
        self.ended = False  # the person took their leave (再见): a phone call may end here

    def settle_act(self, act: str) -> None:
        """The act of this message, as the flow reading it knows better (its things kept)."""
        if self._reading is not None:
            self._reading = Reading(act, 1.0, self._reading.things)

    def reread(self, text: str) -> None:
        """Read the rest of the message afresh (“不是投诉，我是想开个店” → “我是想开个店”)."""
        self.text, self._nlu, self._reading = text, None, None

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

    async def reading(self) -> Reading:
        """What the person wants to do (the act) and of which one-thing(s), from the NLU and the
        catalog's own words."""
        if self._reading is None:
            self._reading = read(await self.nlu(), self.e.thing_words().named_in)
        return self._reading

    def thing(self) -> OneThing | None:
        return self.e.catalog.get(self.s.current) if self.s.current else None

    def ask(self, awaiting: Awaiting) -> None:
        """What the next message will be read against."""
        self.s.awaiting = awaiting

    async def ask_next(self, repeat: bool = False, back: bool = False) -> None:
        await self.go.ask_next(self, repeat, back)

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

    def show(self, f: FormField, value: Any, masked: bool = False) -> str:
        if isinstance(value, bool):
            text = self.tx.YES if value else self.tx.NO
        elif f.type is FieldType.amount and isinstance(value, int | float):
            text = amount_shown(float(value))
        else:
            text = str(value)
        return mask_value(f.type.value, text) if masked and f.is_personal else text

    def set_style(self, style: str) -> None:
        self.s.style = style  # type: ignore[assignment]
        replies = self.say.replies
        self.say = Say(self.s)
        self.say.replies = replies  # what was said so far this turn stays; what follows is in the new style

    # ---- reading a message against what was asked ----------------------------------------

    async def is_question(self) -> bool:
        """A question about the one-thing (“要带啥材料？”) rather than an answer."""
        if UNSURE.search(self.text):
            return False  # “哪个都行”
        if asks_meaning(self.text):
            return True  # about the question itself: “啥叫居住登记”
        cue = asked_act(self.text)
        if cue in ASK_INTENTS or A_NOT_A.search(self.text):
            return True  # “这个要钱不”, “在哪办”, “是不是都要”: the words say it is asked
        if QUESTION_SIGN.search(self.text) and any(w in self.text for w in QUESTION_WORDS):
            return True  # “分所负责人要求执业满几年？他是2013年拿的证”: a question mark after a question word
        if not any(w in self.text for w in QUESTION_MARKS) and not A_NOT_A.search(self.text) \
                and not CLAUSE_ASKING.search(self.text):  # fmt: skip
            return False
        reading = await self.reading()
        # a sentence ending as a question (“…原件还得交吗 我就一份”) needs less of the classifier
        ends_asking = bool(ASKING_END.search(self.text))
        return reading.act in ASK_INTENTS and reading.act_confidence >= (0.3 if ends_asking else CONFIDENT)

    async def interrupts(self, threshold: float) -> bool:
        """A complaint, a call for a human, progress or cancel said instead of an answer. Progress and
        a complaint need their words too (“砸了左手” is where one was hurt, not a progress question)."""
        result = await self.nlu()
        name, confidence = result["intent"]["name"], result["intent"]["confidence"]
        if name in ("check_progress", "complaint") and asked_act(self.text) != _CUE_OF[name]:
            return False
        return name in INTERRUPTING and confidence >= threshold

    async def other_thing(self) -> bool:
        """Another one-thing wished for (“我还想办个居住证”): not an answer that mentions its words
        (“俺家老头子月月领退休金” is a yes, not 企业职工退休)."""
        if not WISH.search(self.text):
            return False
        result = await self.nlu()
        name, confidence = result["intent"]["name"], result["intent"]["confidence"]
        return name.startswith(THING_PREFIX) and name[len(THING_PREFIX) :] != self.s.current and confidence >= 0.7

    def mobile(self) -> str | None:
        """The message as a mobile number (spaces and dashes as people type them); None if it is not one."""
        digits = re.sub(r"\D", "", self.text)
        return digits if mobile_problem(digits) is None else None

    # ---- who the person is, as far as the conversation knows ------------------------------

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
        """The person's ID number as their verified identity or their drafts give it."""
        if self.s.verified:
            return self.s.verified.id_number
        for d in self.s.drafts.values():
            thing = self.e.catalog.get(d.thing)
            f = plan.applicant_id_field(thing) if thing else None
            if f is not None and d.answers.get(f.id):
                return str(d.answers[f.id])
        return None
