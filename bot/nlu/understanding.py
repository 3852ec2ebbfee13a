"""What a parse means for the dialogue: the act (what the person wants to do) and the one-thing(s)
it concerns, each with a confidence, whichever back end parsed it.

Acts: apply (wants to do a one-thing), ask_materials, ask_duration, ask_fee, ask_location,
ask_online, ask_conditions (questions about one), progress, complaint, human, cancel, greet,
thanks, goodbye, out_of_scope, affirm, deny, elderly_mode, unclear."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.nlu.cues import LEAVING, THANKS_DONE, asked_act

THING = "thing_"
# intents of the training data that are acts under another name
_ACTS = {"check_progress": "progress", "human_handoff": "human", "nlu_fallback": "unclear"}


@dataclass(frozen=True)
class Reading:
    act: str
    act_confidence: float
    things: list[tuple[str, float]] = field(default_factory=list)  # best first

    @property
    def thing(self) -> str | None:
        return self.things[0][0] if self.things else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "act": {"name": self.act, "confidence": round(self.act_confidence, 4)},
            "things": [{"id": t, "confidence": round(c, 4)} for t, c in self.things],
        }


def from_intent(result: dict[str, Any]) -> Reading:
    """The reading a single intent label gives: a thing's intent is applying for it."""
    intent = result["intent"]
    name, confidence = str(intent["name"]), float(intent["confidence"])
    if name.startswith(THING):
        return Reading("apply", confidence, [(name[len(THING) :], confidence)])
    return Reading(_ACTS.get(name, name), confidence)


CUE_OVER = ("apply", "unclear", "affirm", "deny", "out_of_scope")  # acts the words of a question overrule
NAMES_NOTHING = ("out_of_scope", "greet", "thanks", "goodbye")  # acts about no one-thing, whatever words
WORDS_OVER = ("human",)  # acts whose words outweigh any other act read
WORDS_ONLY = ("complaint", "human")  # acts whose one-thing is only the one their words name
THING_SURE = 0.45
LEXICON_OVER = 0.6  # below this, the catalog's words may name the thing instead  # a thing the thing classifier names this surely is taken as named
NONE = "none"


def read(result: dict[str, Any], named_in: Any = None) -> Reading:
    """The act and the one-thing(s) of a parse, from either back end: a thing's intent (``thing_x``),
    a multi-intent (``ask_fee+thing_x``, Rasa's), the embedded engine's thing ranking, and the
    catalog's own words (``named_in(text)`` → [(id, weight)], which needs no retraining)."""
    intent = result["intent"]
    name, confidence = str(intent["name"]), float(intent["confidence"])
    parts = name.split("+")
    act_part = parts[0]
    things: dict[str, float] = {}
    for p in parts:
        if p.startswith(THING):
            things[p[len(THING) :]] = confidence
    act = "apply" if act_part.startswith(THING) else _ACTS.get(act_part, act_part)
    acts = result.get("act_ranking")
    if acts:  # the embedded engine's act classifier (Rasa's multi-intent says it in its name)
        act, confidence = _ACTS.get(acts[0]["name"], acts[0]["name"]), float(acts[0]["confidence"])
    cue = asked_act(str(result.get("text", "")))
    if act in CUE_OVER:  # the thing's words (or a closing 不/吗) outweighed what is asked
        act = cue or act
    elif cue in WORDS_OVER:  # “有活人没 我要跟人说” is a call for a person, whatever else it resembles
        act = cue
    ranking = result.get("thing_ranking") or []
    top = ranking[0] if ranking else None
    if not things and top is not None and top["name"] != NONE and top["confidence"] >= THING_SURE:
        things[top["name"]] = float(top["confidence"])
    if named_in is not None and max(things.values(), default=0.0) < LEXICON_OVER:
        # the classifier named nothing it is sure of: the catalog's own words (typos forgiven) decide;
        # where it named one, a word of another comes after it (“上户口…他爸妈的结婚证在老家”)
        guessed = max(things.values(), default=0.0)
        for thing_id, weight in named_in(str(result.get("text", ""))):
            if guessed and thing_id not in things:
                weight = min(weight, guessed - 0.01)
            things[thing_id] = max(things.get(thing_id, 0.0), weight)
    if THANKS_DONE.search(str(result.get("text", ""))):
        act = "thanks"  # “谢了 …俺整明白了”: thanks, whatever one-thing it names
    if act in ("thanks", "greet") and LEAVING.search(str(result.get("text", ""))):
        act = "goodbye"  # “谢谢啊 再见”: the thanks said on the way out
    text = str(result.get("text", ""))
    besides = len(GREETING.sub("", text)) >= SAID_BESIDES and bool(things or cue)
    if act == "greet" and (len(text) > LONG_GREETING or besides) and acts:
        # “同志你好 我老伴上礼拜走了…”: the greeting opens a message that asks for something
        act, confidence = _beyond_greeting(acts, things)
    if act in NAMES_NOTHING:
        things = {}
    if act in WORDS_ONLY and named_in is not None:
        # a complaint or a call for a person is about a one-thing only if its words are said: the
        # classifier's guess on “窗口那个工作人员态度贼差” is noise
        # (the classifier's guess breaks a tie between one-things sharing the word said)
        things = {t: w + 0.1 * things.get(t, 0.0) for t, w in named_in(text, strict=True)}
    ordered = sorted(things.items(), key=lambda kv: -kv[1])
    return Reading(act, confidence, ordered)


LONG_GREETING = 14  # characters: a longer message that greets says something besides
# “你好 我要开饭店 得办啥证”: what is left when the greeting words are taken out says something
GREETING = re.compile(r"你好|您好|同志|姑娘|老妹儿?|大姐|大哥|师傅|在吗|在不|哈喽|hello|hi|[\s，,。！!？?~～啊呀哈]")
SAID_BESIDES = 4  # characters


def _beyond_greeting(acts: list[dict[str, Any]], things: dict[str, float]) -> tuple[str, float]:
    for a in acts:
        name = _ACTS.get(a["name"], a["name"])
        if name not in ("greet", "thanks", "goodbye"):
            if things and not name.startswith("ask_"):
                return "apply", float(a["confidence"])  # a thing named, nothing asked of it: that thing
            return name, float(a["confidence"])
    return ("apply", 0.5) if things else ("unclear", 0.0)


def right(intent: str, reading: Reading) -> bool:
    """Whether a reading gets an example labelled with one intent right: a one-thing's example when
    it names that one-thing (whatever is asked of it: “孩子出生证明在哪开” is about the newborn),
    out of scope when it is out of scope or unclear, any other when the act is the intent's."""
    if intent.startswith(THING):
        return reading.thing == intent[len(THING) :]
    if intent == "out_of_scope":
        return reading.act in ("out_of_scope", "unclear")
    return reading.act == _ACTS.get(intent, intent)
