"""Whole conversations written by outside authors (``tests/data/outside/conversations_*.yaml``), each
a person with a situation, their facts in their own words and the outcome they should reach,
replayed against the assistant: the replay answers each question the assistant asks with the
person's fact whose key best matches it (in the person's words), says their asides in the middle,
and judges the outcome from what the assistant said and what reached the applications.

The replay is only as clever as a person reading the screen: it does not know the form's fields.
``python -m tests.outside_conversations`` prints each conversation's verdict (memory engine)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.dialogue.fields import yes_no
from bot.dialogue.messages import ChoicesReply, FieldPrompt, HandoffNotice, Reply
from bot.texts import elderly, standard

FOLDER = Path(__file__).parent / "data" / "outside"
MAX_TURNS = 60
Say = Callable[..., Awaitable[list[Reply]]]  # say(text, attachments=[…]): what the person sends


@dataclass(frozen=True)
class Photo:
    """What a person with the paper at hand sends to a question asking for it: a photo of it."""

    of: str


def load() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(FOLDER.glob("conversations_*.yaml")) + sorted(FOLDER.glob("batch*/conversations_*.yaml")):
        out += yaml.safe_load(path.read_text(encoding="utf-8"))
    return out


def _grams(text: str, apart: bool = False) -> set[str]:
    """Its characters and pairs of neighbours; ``apart``: pairs one character apart too, as a
    person reads 犬名 in 犬只名字."""
    t = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)
    pairs = {t[i : i + 2] for i in range(len(t) - 1)}
    if apart:
        pairs |= {t[i] + t[i + 2] for i in range(len(t) - 2)}
    return pairs | set(t)


def best_fact(question: str, facts: dict[str, Any], used: set[str], tried: set[str] | None = None,
              detail: str = "", options: list[str] | None = None) -> str | None:  # fmt: skip
    """The fact whose key shares most with the question (its label counts most, its help a little),
    whose value fits the options when there are options; None when no fact is about it."""
    from bot.dialogue.fields import pick_option

    asked, around = _grams(question, apart=bool(detail)), _grams(detail)  # a field's label: read loosely
    scored = []
    for order, (key, value) in enumerate(facts.items()):
        if tried and key in tried:
            continue
        grams = _grams(key)
        weight = sum(2 if len(g) == 2 else 0.5 for g in grams & asked) + 0.5 * len(
            grams & around & {g for g in around if len(g) == 2}
        )
        # words of the fact the question does not have: about something else, as a person reads it
        weight -= 0.5 * len({g for g in grams - asked - around if len(g) == 2})
        if options:
            weight += 3 if pick_option(str(value), options) else -3
        if weight >= 2:  # on a tie, the fact the person thinks of first (their own before a spare)
            scored.append((weight - (0.5 if key in used else 0), -order, key))
    return max(scored)[2] if scored else None


@dataclass
class Replay:
    conversation: dict[str, Any]
    said: list[tuple[str, str]] = field(default_factory=list)  # (person, assistant)
    invented: int = 0  # answers the facts did not hold (the field's example was given)
    photos: int = 0

    @property
    def everything(self) -> str:
        return "\n".join(a for _, a in self.said)

    async def run(self, say: Say) -> None:
        c = self.conversation
        facts: dict[str, Any] = {str(k): str(v) for k, v in (c.get("facts") or {}).items()}
        asides = {int(a["after"]): str(a["say"]) for a in c.get("asides") or []}
        expected = c["expect"]["outcome"]
        used: set[str] = set()
        self.tried: dict[str, set[str]] = {}  # question → facts already given to it (a person tries another)
        answers = 0
        replies = await self._say(say, c["opening"])
        for _ in range(MAX_TURNS):
            text = "\n".join(r.text for r in replies)
            if (
                standard.SUBMITTED in text
                or elderly.SUBMITTED in text
                or any(isinstance(r, HandoffNotice) for r in replies)
            ):
                return
            if expected in ("progress_shown", "declined") and len(self.said) >= 1 and not asides:
                return
            if answers in asides:
                aside = asides.pop(answers)
                replies = await self._say(say, aside)
                continue
            answer = self.answer_to(replies, facts, used, expected)
            if answer is None:
                return
            answers += 1
            replies = await self._say(say, answer)

    async def _say(self, say: Say, said: str | Photo) -> list[Reply]:
        if isinstance(said, Photo):
            self.photos += 1  # as the WeChat channel hands a received image to the engine
            replies = await say("", attachments=[f"wechat-media:OUTSIDE-PHOTO-{self.photos}"])
            said = f"[照片：{said.of}]"
        else:
            replies = await say(said)
        self.said.append((said, "\n".join(r.text for r in replies)))
        return replies

    def answer_to(
        self, replies: list[Reply], facts: dict[str, str], used: set[str], expected: str
    ) -> str | Photo | None:
        last = replies[-1]
        text = "\n".join(r.text for r in replies)
        if isinstance(last, FieldPrompt):
            if last.file:  # the paper is at hand (the person means to apply): its photo, once
                if last.label in self.tried:  # the photo did not go through: skip it, or give up
                    return "跳过" if last.optional else None
                self.tried.setdefault(last.label, set())
                return Photo(last.label)
            tried = self.tried.setdefault(last.label, set())
            options = [o.label for o in last.options] or None
            key = best_fact(last.label, facts, used, tried, last.help, options)
            if key is not None:
                used.add(key)
                tried.add(key)
                return facts[key]
            if last.optional:
                return "跳过"
            self.invented += 1  # nothing the person knows fits: they take what the screen suggests
            return last.options[0].label if last.options else last.example
        if isinstance(last, ChoicesReply):
            payloads = [o.payload for o in last.options]
            if "start" in payloads:  # one who only asked does not apply
                return None if expected in ("progress_shown", "declined", "answered") else "开始办理"
            if "continue" in payloads:  # the ways out, after not being understood: go on
                return standard.HELP_CONTINUE
            if "submit" in payloads:
                return "取消" if expected == "cancelled" else "确认提交"
            if [o.label for o in last.options] == list(standard.CANCEL_OPTIONS.values()):
                return "确定取消" if expected == "cancelled" else "不取消"
            if "self" in payloads:
                acting = any(re.search(r"替|代|帮.{0,4}办", v) for v in facts.values())
                return "替家人代办" if acting else "给自己办"
            if "ok" in payloads and "fix" in payloads:
                return "都对"
            key = best_fact(last.text, facts, used)
            if key is not None:
                used.add(key)
                value = facts[key]
                denies = re.match(r"^(没|未|无|有)", value) or re.search(r"没有|不是|都不|没[^\s，,]", value)
                if "yes" in payloads and yes_no(value) is None and not denies:
                    return "是，" + value  # as a person with the buttons in view answers: yes, and why
                return value
            return "是" if "yes" in payloads else last.options[0].label
        if "我承诺" in text:
            return "我承诺"
        asked = {standard.COMPLAINT_NAME: ("姓名", "名字"), standard.COMPLAINT_PHONE_ASK: ("手机", "电话")}
        for question, words in asked.items():  # a work order's: the person's own, their first such fact
            if question in text:
                key = next((k for k in facts if any(w in k for w in words)), None)
                return facts[key] if key else None
        if standard.PROXY_RELATION in text or elderly.PROXY_RELATION in text:
            key = best_fact("关系", facts, used)
            return facts[key] if key else "子女"
        return None

    def verdict(self, submitted: list[dict[str, Any]]) -> tuple[bool, str]:
        """(passed, why) from what was said and what reached the applications."""
        expect = self.conversation["expect"]
        outcome, said = expect["outcome"], self.everything
        mine = [a for a in submitted if a.get("thing") == expect.get("thing")] if expect.get("thing") else submitted
        missing = [w for w in expect.get("must_mention") or [] if w not in said]
        if missing:
            return False, f"never said {missing}"
        if outcome == "submitted":
            if not mine:
                return False, "not submitted"
            values = " ".join(str(v) for v in mine[-1]["answers"].values())
            absent = [v for v in expect.get("answers_include") or [] if str(v) not in values]
            return (not absent), (f"submitted without {absent}" if absent else "submitted")
        if submitted:
            return False, f"submitted, though {outcome} was right"
        checks = {
            "refused": "暂时不能在这里办理" in said,
            "handover": "人工" in said and ("转接" in said or "客服" in said),
            "cancelled": "已取消" in said,
            "progress_shown": standard.PROGRESS_TITLE in said or standard.PROGRESS_NONE in said or "没有查到" in said,
            "declined": "12345" in said,
            "complaint": "投诉" in said and "12345" in said,
            "answered": True,  # a question answered, nothing applied for (what it must say is checked above)
        }
        return checks.get(outcome, False), outcome


async def replay_in_memory(conversation: dict[str, Any]) -> tuple[bool, str, Replay]:
    from bot.dialogue.scripted import Citizen
    from tests.memory_engine import MemoryApplications, memory_engine

    applications = MemoryApplications()
    engine = memory_engine(applications=applications)
    citizen = Citizen(engine, f"outside:{conversation['id']}")
    replay = Replay(conversation)

    async def say(text: str, attachments: list[str] | None = None) -> list[Reply]:
        return await citizen.say(text, metadata={"attachments": attachments} if attachments else {})

    await replay.run(say)
    ok, why = replay.verdict(applications.submitted)
    return ok, why, replay


if __name__ == "__main__":
    import asyncio
    import sys

    async def main() -> None:
        results = []
        for c in load():
            ok, why, replay = await replay_in_memory(c)
            results.append(ok)
            print(f"{'PASS' if ok else 'FAIL'} {c['id']}: {why} ({len(replay.said)} turns, {replay.invented} invented)")
            if not ok and "-v" in sys.argv:
                for person, assistant in replay.said[-6:]:
                    print(f"   > {person}\n     " + assistant.replace("\n", "\n     ")[:600])
        print(f"{sum(results)}/{len(results)} passed")

    asyncio.run(main())
