"""The 12345 IVR's turn API: ``POST /ivr/turn``, one signed JSON request per step of a phone call.

What this module knows: the IVR's wire format (docs/hotline-api.md, “IVR turn API”): the request
(call id, caller, what ASR heard, keys pressed, call events), its signature (the 12345 platform's
callback scheme, checked by ``integrations.hotline.verify_signature``), and how an answer must
sound on a phone line: a short prompt, numbers read one digit at a time, no symbols, the keys that
answer it, and whether the call goes on, goes to a human or ends. It keeps a little per call in
Redis (several processes serve one call): silences and no-matches in a row, prompts said, and
which replies were said only in part.

What it does not know: the dialogue. Whatever the caller said or pressed goes to the engine
(``Engine.turn``) as an ``Inbound`` of channel ``ivr`` in the voice style; key 0 / “人工” and
key 9 / “再说一遍” are the engine's own voice commands (handoff, repeat), a key 1–8 is the
payload of that numbered option. The engine's replies are laid out for the ear here.

How a prompt sounds (judgement calls, for elderly callers on a phone line):
- About ``PROMPT_BUDGET`` characters. The turn's last reply is the question and is always said
  whole: the caller must know what to answer. Earlier replies (a guide, a notice, a review) fill
  what room is left, sentence by sentence, in order; what does not fit is left out and the prompt
  says so, offering key 9 (“想听全部请按9”).
- A reply once said only in part is said whole, however long, whenever it comes again: after 9 or
  “再说一遍” (the engine repeats its last turn), after “再听一遍材料”, or any other way. So
  nothing is out of reach, and the first hearing stays short.
- The engine's footer (“转人工请按0，再听一遍请按9”) is said in the call's first prompt and in
  every re-prompt after a silence or no-match, not after every answer: the keys work at any
  moment all the same, and ``dtmf_map`` always lists them.
- A choice of up to eight options is read with its keys; a longer list (the whole catalog) is read
  as names to say, and only 0 and 9 are keys then.
- Silence or no-match: the first two in a row get a gentle word and the last question again, the
  third offers an agent (press 0 or say 人工), the fourth transfers the call: a person may hear
  what the machine could not, and the call never loops. A recognised turn resets the count.
- Callers aged 65 or over (by ``caller_id_number``, else an ID number in their session) are
  offered an agent in the first prompt.
- A turn that fails inside this service still answers 200 and transfers the caller (``handover``
  null): a caller is never left in silence. Bad requests get 4xx, never a 500.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.dialogue.engine import Glance
from bot.dialogue.messages import Inbound
from bot.masking import mask_text, mask_value
from bot.people.ref import IVR, UserRef
from bot.texts import staff, texts_for, voice
from bot.validators import id_card_birth_date, id_card_problem
from handlers.auth import NulInText, error, loads, read_limited
from handlers.keys import SERVICES
from handlers.once import AnsweredOnce
from handlers.services import Services
from integrations.hotline import SIGNATURE_HEADER, BadCallback, verify_signature

log = logging.getLogger(__name__)

CHANNEL = "ivr"
MAX_BODY = 16 * 1024
PROMPT_BUDGET = 120  # characters of a prompt, where the engine's reply allows it
MAX_KEYED = 8  # options 1–8 are keys; 0 and 9 are the engine's handoff and repeat
REPROMPTS = 2  # silences / no-matches in a row answered with the question again
ELDER_AGE = 65
CALL_TTL = 3600  # seconds the per-call state outlives the call's last turn
TURN_KEPT_SECONDS = 600  # a turn's answer is kept twice as long as its signature stays fresh
SAID_HANDOFF = "0"  # what “人工” is passed on as: key 0, the engine's voice handoff

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
_ID_NUMBER = re.compile(r"\d{17}[\dXx]")

_URL = re.compile(r"(?:https?://|www\.)[^\s，。；！？]*|/pages/[^\s，。；！？]*", re.IGNORECASE)
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
_SYMBOLS = re.compile(r"[【】〔〕［］■□▪▫●◆◇▲△▶►★☆•※→←#＃|｜~～_`^]")
_LIST_MARK = re.compile(r"^\s*(?:\d{1,2}[.．、)）]|[·•\-])\s*")
# an identifier: digits (or the stars of a masked one) in groups split by single spaces, or a landline
_NUMBER = re.compile(r"(?<![0-9*])(?:0\d{2,3}-\d{7,8}|[0-9*]+(?: [0-9*]+)*(?:[Xx](?![A-Za-z]))?)(?![0-9*])")
_SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")
_ENDS = "。！？；，：、"


# ---- the request ------------------------------------------------------------------------


class TurnIn(BaseModel):
    """One step of a call, as the 12345 platform's IVR posts it."""

    model_config = ConfigDict(extra="ignore")  # fields the platform adds later must not break calls

    call_id: str = Field(min_length=1, max_length=64, pattern=r"^[!-~]+$")
    caller: str
    asr_text: str | None = Field(default=None, max_length=500)
    dtmf: str | None = Field(default=None, pattern=r"^[0-9*#]{1,20}$")
    event: Literal["start", "silence", "nomatch", "hangup"] | None = None
    caller_id_number: str | None = None
    turn: int | None = Field(default=None, ge=1, le=1_000_000)  # the step's number within the call

    @field_validator("caller")
    @classmethod
    def _caller(cls, v: str) -> str:
        if not (_MOBILE.fullmatch(v) or _LANDLINE.fullmatch(v)):
            raise ValueError("not a mobile number (1[3-9] + 9 digits) or a landline with its area code (024-23456789)")
        return v

    @field_validator("caller_id_number")
    @classmethod
    def _id_number(cls, v: str | None) -> str | None:
        if v is not None and not _ID_NUMBER.fullmatch(v):
            raise ValueError("not an 18-character ID number")
        return v

    @model_validator(mode="after")
    def _something_happened(self) -> TurnIn:
        if self.event is None and self.asr_text is None and self.dtmf is None:
            raise ValueError("a turn carries event, asr_text or dtmf")
        return self

    @property
    def user(self) -> str:
        """The caller's key in the engine: the same number calling again continues its drafts."""
        return str(UserRef(IVR, self.caller.replace("-", "")))


def _refusal(secret: str, request: web.Request, body: bytes) -> str | None:
    """Why the request is not a genuine, fresh 12345 request; None when it is."""
    try:
        verify_signature(secret, request.headers, body)
    except BadCallback as exc:
        return str(exc)
    return None


def _parse(body: bytes) -> TurnIn | str:
    """The turn, or what is wrong with it (for a 400)."""
    try:
        data = loads(body)
    except NulInText as exc:
        return str(exc)
    except ValueError:
        return "body is not JSON (UTF-8)"
    try:
        return TurnIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "body"
        return f"{where}: {first['msg'].removeprefix('Value error, ')}"


# ---- how text sounds --------------------------------------------------------------------


def _groups(digits: str) -> list[str]:
    """Where a reader pauses: mobile 3-4-4, ID number 6-4-4-4, anything else by fours."""
    if len(digits) <= 6:
        return [digits]
    if len(digits) == 11 and digits[0] == "1":
        return [digits[:3], digits[3:7], digits[7:]]
    if len(digits) == 18:
        return [digits[:6], digits[6:10], digits[10:14], digits[14:]]
    chunks = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    if len(chunks[-1]) == 1:  # never a lone digit at the end
        chunks[-2:] = [chunks[-2][:3], chunks[-2][3:] + chunks[-1]]
    return chunks


def _spell_group(group: str) -> str:
    said = [
        voice.SPOKEN_MASKED if piece.startswith("*") else "".join(voice.DIGIT_NAMES.get(c, c) for c in piece.upper())
        for piece in re.split(r"(\*+)", group)
        if piece
    ]
    return voice.SPOKEN_PAUSE.join(said)


def _spell(match: re.Match[str]) -> str:
    """An ID, phone or application number read one digit at a time, pausing between groups."""
    raw = match.group(0)
    if len(re.sub(r"[ \-]", "", raw)) < 5:  # counts, years, days: words, not digits
        return raw
    parts = re.split(r"[ \-]", raw)
    groups = [g for part in parts for g in (_groups(part) if len(part) > 6 else [part])]
    said: list[str] = []
    for g in groups:
        spoken = _spell_group(g)
        if not (spoken == voice.SPOKEN_MASKED and said and said[-1].endswith(voice.SPOKEN_MASKED)):
            said.append(spoken)
    return voice.SPOKEN_PAUSE.join(said)


def speakable(line: str) -> str:
    """One line as TTS can read it: no links, list marks, symbols or emoji; numbers spelled out."""
    line = _URL.sub("", line)
    line = _LIST_MARK.sub("", line)
    line = _NUMBER.sub(_spell, line)
    line = _SYMBOLS.sub("", _EMOJI.sub("", line))
    line = re.sub(r"\*+", voice.SPOKEN_HIDDEN, line)  # what is left of a masked name
    return line.strip()


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        spoken = speakable(line)
        out += [s.strip() for s in _SENTENCE.findall(spoken) if s.strip()]
    return out


def _join(parts: list[str]) -> str:
    said = ""
    for i, part in enumerate(parts):
        end = "" if part[-1] in _ENDS else voice.SPOKEN_STOP if i == len(parts) - 1 else voice.SPOKEN_PAUSE
        said += part + end
    if said and said[-1] in "，：、":
        said = said[:-1] + voice.SPOKEN_STOP
    return said


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Part:
    text: str
    must: bool  # said even when the prompt runs long
    source: str = ""  # digest of the reply it comes from ("" for the IVR's own words)
    again: bool = False  # from a reply once said in part: said whole, on top of the budget


def _without_footer(text: str, footer: str) -> str:
    # a question the engine asks again may carry its footer twice or more
    while footer and text.endswith(footer):
        text = text[: -len(footer)].rstrip()
    return text


def reply_parts(reply: dict[str, Any], question: bool, whole: set[str], footer: str) -> list[Part]:
    """A reply as sentences; the question's are all said, and so is a reply asked for again."""
    text = _without_footer(str(reply.get("text", "")), footer)
    source = _digest(text)
    again = source in whole
    must = question or again
    options = reply.get("options") or []
    if len(options) > MAX_KEYED:  # a long list: names to say, not keys to press
        head = [Part(s, must, source, again) for s in sentences(str(reply.get("prompt", "")))]
        names = [Part(name, again, source, again) for o in options if (name := speakable(str(o["label"])))]
        return [*head, *names, Part(voice.IVR_SAY_ONE, must, source, again)]
    return [Part(s, must, source, again) for s in sentences(text)]


def fit(parts: list[Part], budget: int, more: str) -> tuple[str, set[str]]:
    """The prompt within ``budget`` where it can be: every ``must`` part, and the others in order
    while they fit (a reply cut short loses the rest of its sentences); → (prompt, the sources
    of parts left out). ``more`` marks where something was left out."""
    size = sum(len(p.text) + 1 for p in parts if not p.again)
    if size <= budget:
        return _join([p.text for p in parts]), set()
    room = budget - sum(len(p.text) + 1 for p in parts if p.must and not p.again) - len(more)
    kept: list[str] = []
    cut: set[str] = set()
    more_at: int | None = None
    for p in parts:
        if p.must:
            kept.append(p.text)
        elif p.source not in cut and len(p.text) + 1 <= room:
            room -= len(p.text) + 1
            kept.append(p.text)
        else:
            more_at = len(kept) if more_at is None else more_at
            cut.add(p.source)
    if more_at is not None and more:
        kept.insert(more_at, more)
    return _join(kept), cut


def keys_of(reply: dict[str, Any] | None) -> dict[str, str]:
    """Key → meaning: the question's options 1–8, then 0 and 9, which work at any moment."""
    options = (reply or {}).get("options") or []
    keyed = {str(o["n"]): str(o["label"]) for o in options if 1 <= o["n"] <= MAX_KEYED}
    return {**(keyed if len(options) <= MAX_KEYED else {}), "0": voice.IVR_KEY_AGENT, "9": voice.IVR_KEY_REPEAT}


def pressed(keys: str, question: dict[str, Any] | None) -> tuple[str, str | None] | None:
    """Keys as (text, choice) for the engine; None when they say nothing (a no-match).

    A key 1–8 is the payload of that option of the question; other keys go as typed digits
    (a number, an ID number: ``#`` ends an entry, a last ``*`` of eighteen stands for X)."""
    keys = keys.rstrip("#")
    if len(keys) == 18 and keys.endswith("*"):
        keys = keys[:-1] + "X"
    if not re.fullmatch(r"\d+X?", keys):
        return None
    if len(keys) == 1 and question is not None:
        for o in question.get("options") or []:
            if str(o["n"]) == keys and 1 <= o["n"] <= MAX_KEYED:
                return "", str(o["payload"])
    return keys, None


def heard(asr_text: str) -> str | None:
    """What ASR heard as the engine's text; None for nothing at all."""
    said = asr_text.strip()
    if not said:
        return None
    return SAID_HANDOFF if said.rstrip("。！!？?，,. ") in voice.IVR_AGENT_WORDS else said


# ---- one call -----------------------------------------------------------------------------


VOICE = "voice"  # as the engine decides it: every spoken turn is in the voice style


def _answer(prompt: str, action: Literal["continue", "transfer", "hangup"], **extra: Any) -> dict[str, Any]:
    expect = "speech_or_dtmf" if action == "continue" else "none"
    return {"prompt": prompt, "expect": expect, "action": action, **extra}


class Call:
    def __init__(self, services: Services, turn: TurnIn) -> None:
        self.services = services
        self.turn = turn
        self.user = turn.user
        self.key = f"ivr:call:{turn.call_id}"
        self._glance: Glance | None = None

    def vouched(self) -> dict[str, str]:
        """What the line itself tells the engine: the mobile number the caller rings from."""
        number = self.turn.caller.replace("-", "")
        return {"phone": number} if _MOBILE.fullmatch(number) else {}

    # ---- per-call state, in Redis ------------------------------------------------------

    async def _bump(self, field: str) -> int:
        async with self.services.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(self.key, field, 1)
            pipe.expire(self.key, CALL_TTL)
            count, _ = await pipe.execute()
        return int(count)

    async def _set(self, mapping: dict[str, str | int]) -> None:
        async with self.services.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, mapping=mapping)
            pipe.expire(self.key, CALL_TTL)
            await pipe.execute()

    async def _said_in_part(self) -> set[str]:
        fields = await self.services.redis.hkeys(self.key)
        return {f.removeprefix("cut:") for f in fields if f.startswith("cut:")}

    async def glance(self) -> Glance:
        """The conversation between turns (read in the caller's turn, as every channel reads it)."""
        if self._glance is None:
            self._glance = await self.services.dialogue.glance(self.user)
        return self._glance

    async def last_question(self) -> dict[str, Any] | None:
        return (await self.glance()).last_reply

    # ---- the turn ----------------------------------------------------------------------

    async def answer(self) -> dict[str, Any]:
        event = self.turn.event
        if event == "hangup":
            await self.services.redis.delete(self.key)
            waiting = await self.services.desk.open_for(self.user)
            if waiting is not None and waiting.status == "waiting" and waiting.channel == CHANNEL:
                await self.services.desk.withdraw(waiting.id)  # nobody is on the line to take any more
            return _answer("", "hangup")
        if event == "start":
            return await self.start()
        if event is not None:
            return await self.missed(event)
        question = await self.last_question()
        said = pressed(self.turn.dtmf, question) if self.turn.dtmf else None  # a key press is unambiguous
        if said is None and self.turn.asr_text is not None:
            text = heard(self.turn.asr_text)
            said = (text, None) if text is not None else None
        if said is None:  # keys that mean nothing, or ASR text that is empty
            return await self.missed("nomatch" if self.turn.dtmf else "silence")
        await self._set({"misses": 0})
        text, choice = said
        return await self.converse(
            Inbound(user=self.user, channel=CHANNEL, text=text, choice=choice, voice=True, spoken=True)
        )

    async def start(self) -> dict[str, Any]:
        await self.services.redis.delete(self.key)  # a new call: nothing carried over but the session
        result = await self.services.dialogue.turn(
            Inbound(user=self.user, channel=CHANNEL, voice=True, spoken=True, metadata=self.vouched())
        )
        replies = [r.model_dump() for r in result.replies]
        if not replies:  # an agent has this conversation already: the call goes to them
            return await self.transfer([{"kind": "text", "text": voice.IVR_TRANSFER}], result.style, "ivr", None)
        age = await self.age()
        if age is None or age < ELDER_AGE:
            return await self.say(replies, result.style)
        # the agent first; what the engine had to tell (notices) before it, its welcome left out
        welcome = texts_for(result.style).WELCOME
        told = [r for r in replies if not str(r.get("text", "")).startswith(welcome)]
        offer = {"kind": "text", "text": voice.IVR_ELDER_WELCOME}
        return await self.say([*told, offer], result.style, footer=False, keys={"0": voice.IVR_KEY_AGENT})

    async def missed(self, kind: str) -> dict[str, Any]:
        misses = await self._bump("misses")
        if misses > REPROMPTS + 1:
            return await self.give_up()
        if misses == REPROMPTS + 1:
            await self._bump("prompts")
            return _answer(voice.IVR_OFFER_AGENT, "continue", dtmf_map={"0": voice.IVR_KEY_AGENT})
        style = VOICE
        welcome = {"kind": "text", "text": texts_for(style).WELCOME}  # nothing asked yet (no start event)
        question = await self.last_question() or welcome
        lead = voice.IVR_SILENCE if kind == "silence" else voice.IVR_NOMATCH
        return await self.say([question], style, lead=lead, footer=True)

    async def converse(self, inbound: Inbound) -> dict[str, Any]:
        before = await self.last_question()
        result = await self.services.dialogue.turn(inbound)
        self._glance = None  # the turn changed it
        replies = [r.model_dump() for r in result.replies]
        handoff = next((r for r in replies if r["kind"] == "handoff"), None)
        if handoff is not None:
            return await self.transfer(replies, result.style, str(handoff["reason"]), before)
        if not replies:  # an agent has this conversation already: the call goes to them
            return await self.transfer([{"kind": "text", "text": voice.IVR_TRANSFER}], result.style, "ivr", before)
        tx = texts_for(result.style)
        if result.ended:  # the caller took their leave
            prompt, _ = fit([p for r in replies for p in reply_parts(r, True, set(), tx.FOOTER)], PROMPT_BUDGET, "")
            await self.services.redis.delete(self.key)
            return _answer(prompt, "hangup")
        return await self.say(replies, result.style)

    async def say(
        self,
        replies: list[dict[str, Any]],
        style: str,
        *,
        lead: str = "",
        footer: bool | None = None,
        keys: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The replies as one prompt that goes on; ``footer`` None: only in the call's first prompt."""
        tx = texts_for(style)
        first = await self._bump("prompts") == 1
        whole = await self._said_in_part()
        parts = [Part(lead, True)] if lead else []
        for i, reply in enumerate(replies):
            parts += reply_parts(reply, i == len(replies) - 1, whole, tx.FOOTER)
        if (first if footer is None else footer) and tx.FOOTER:
            parts += [Part(s, True) for s in sentences(tx.FOOTER)]
        prompt, cut = fit(parts, PROMPT_BUDGET, voice.IVR_MORE)
        if cut:
            await self._set({f"cut:{source}": 1 for source in cut})
        return _answer(prompt, "continue", dtmf_map=keys or keys_of(replies[-1] if replies else None))

    # ---- to a human ----------------------------------------------------------------------

    async def transfer(
        self, replies: list[dict[str, Any]], style: str, reason: str, before: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The engine handed the caller over (its desk opened the handover): say so, and pass the call on."""
        tx = texts_for(style)
        parts = [p for i, r in enumerate(replies) for p in reply_parts(r, i == len(replies) - 1, set(), tx.FOOTER)]
        prompt, _ = fit(parts, PROMPT_BUDGET, "")
        handover = await self.services.desk.open_for(self.user)
        if handover is not None:
            reason = handover.reason
        await self.services.redis.delete(self.key)
        context = await self.context(reason, before)
        return _answer(prompt, "transfer", handover=handover.id if handover else None, context=context)

    async def give_up(self) -> dict[str, Any]:
        """Nothing heard after an agent was offered: a person takes the call (reason ``ivr``)."""
        glance = await self.glance()
        handover, _ = await self.services.desk.open(self.user, CHANNEL, glance.current, "ivr")
        before = glance.last_reply
        await self.services.redis.delete(self.key)
        context = await self.context("ivr", before, note=staff.IVR_REASON_SILENCE)
        return _answer(voice.IVR_GIVE_UP, "transfer", handover=handover.id, context=context)

    async def context(self, reason: str, before: dict[str, Any] | None, note: str = "") -> str:
        """What the agent reads before saying hello: short, personal data masked."""
        parts = [staff.IVR_CONTEXT_CALLER.format(caller=mask_value("phone", self.turn.caller.replace("-", "")))]
        age = await self.age()
        if age is not None and age >= ELDER_AGE:
            parts.append(staff.IVR_CONTEXT_ELDER.format(age=age))
        parts.append(staff.IVR_CONTEXT_REASON.format(reason=note or staff.REASONS.get(reason, reason)))
        case = await self.services.dialogue.case_file(self.user)
        draft = next((d for d in case["drafts"] if d["thing"] == case["current"]), None)
        if draft is not None:
            parts.append(staff.IVR_CONTEXT_THING.format(name=draft["name"]))
            filled = [staff.IVR_CONTEXT_FIELD.format(label=f["label"], value=f["value"]) for f in draft["fields"]]
            if filled:
                parts.append(staff.IVR_CONTEXT_FILLED.format(fields=staff.IVR_CONTEXT_LIST_JOIN.join(filled[:8])))
        if before is not None:
            footer = texts_for(VOICE).FOOTER
            asked = mask_text(_without_footer(str(before.get("text", "")), footer)).replace("\n", " ")[:80]
            parts.append(staff.IVR_CONTEXT_ASKED.format(question=asked))
        said = (self.turn.asr_text or "").strip()
        if said:
            parts.append(staff.IVR_CONTEXT_SAID.format(said=mask_text(said)[:80]))
        return staff.IVR_CONTEXT_JOIN.join(parts)

    async def age(self) -> int | None:
        """The caller's age from the platform's record of their ID number, else from their session."""
        number = self.turn.caller_id_number
        today = self.services.dialogue.today()
        if number is None or id_card_problem(number, today) is not None:
            number = (await self.glance()).known_id
        if number is None or id_card_problem(number, today) is not None:
            return None
        born = id_card_birth_date(number)
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _trouble(turn: TurnIn) -> dict[str, Any]:
    caller = staff.IVR_CONTEXT_CALLER.format(caller=mask_value("phone", turn.caller.replace("-", "")))
    context = staff.IVR_CONTEXT_JOIN.join([caller, staff.IVR_CONTEXT_REASON.format(reason=staff.IVR_REASON_TROUBLE)])
    return _answer(voice.IVR_TROUBLE, "transfer", handover=None, context=context)


# ---- the route ----------------------------------------------------------------------------


async def ivr_turn(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    body = await read_limited(request, MAX_BODY)
    refused = _refusal(services.settings.hotline_callback_secret.get_secret_value(), request, body)
    if refused is not None:
        log.warning("IVR turn refused: %s (from %s)", refused, request.remote)
        return error(401, "bad_signature", "not a genuine, fresh 12345 request")
    turn = _parse(body)
    if isinstance(turn, str):
        log.warning("IVR turn refused: malformed (%s)", turn)
        return error(400, "malformed", turn)
    # a signed turn is good for one step of the call: the same request again (a replay, or the
    # platform resending after a lost answer) gets the first answer and does not run a second time
    seen = _turn_key(turn, request.headers.get(SIGNATURE_HEADER, ""))
    once = AnsweredOnce(services.redis, services.settings.vault(), TURN_KEPT_SECONDS)
    if not await once.claim(seen):
        first = await once.first(seen, wait_seconds=3.0)
        if first is None:
            return error(409, "duplicate", "this turn is being answered already")
        return web.json_response(first, dumps=partial(json.dumps, ensure_ascii=False))
    try:
        answer = await Call(services, turn).answer()
    except Exception:  # the caller hears an agent, not a dead line
        log.exception("IVR turn of call %s failed: transferring", turn.call_id)
        answer = _trouble(turn)
    await once.keep(seen, answer)
    log.info("IVR call %s: %s → %s", turn.call_id, turn.event or ("keys" if turn.dtmf else "speech"), answer["action"])
    return web.json_response(answer, dumps=partial(json.dumps, ensure_ascii=False))


def _turn_key(turn: TurnIn, signature: str) -> str:
    """What makes a step this step: its number within the call, or (when the platform sends none)
    its signature, which covers the body and the second it was signed."""
    which = f"{turn.call_id}#{turn.turn}" if turn.turn is not None else signature
    return f"ivr:turn:{hashlib.sha256(which.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


def setup(app: web.Application) -> None:
    app.router.add_post("/ivr/turn", ivr_turn)
