"""A scripted citizen: talks to the engine as a person would, answering each
question from what the replies show (never from the engine's internals).
Used by the tests and by `make bench`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.catalog import OneThing
from bot.dialogue.engine import Engine
from bot.dialogue.messages import ChoicesReply, FieldPrompt, Inbound, Reply
from bot.texts import standard


@dataclass
class Citizen:
    engine: Engine
    user: str
    channel: str = "test"
    transcript: list[tuple[str, list[Reply]]] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)  # field id -> what to answer
    metadata: dict[str, Any] = field(
        default_factory=dict
    )  # what the channel adds to every message (a verified identity)

    def inbound(self, text: str = "", **extra: Any) -> Inbound:
        """The message as this person's channel would hand it to the engine."""
        metadata = {**self.metadata, **extra.pop("metadata", {})}
        return Inbound(user=self.user, channel=self.channel, text=text, metadata=metadata, **extra)

    async def say(self, text: str = "", **extra: Any) -> list[Reply]:
        replies = await self.engine.handle(self.inbound(text, **extra))
        self.transcript.append((text, replies))
        return replies

    def last_text(self) -> str:
        return "\n".join(r.text for r in self.transcript[-1][1])

    def dump(self) -> str:
        return "\n".join(f"> {said}\n" + "\n".join(r.text for r in replies) for said, replies in self.transcript[-12:])

    def answer_for(self, replies: list[Reply], thing: OneThing) -> str | None:
        """What a cooperative applicant says next; None when the application is in."""
        return cooperative_answer(replies, thing, self.overrides)

    async def complete(self, thing: OneThing, opening: str, limit: int = 80) -> None:
        replies = await self.say(opening)
        for _ in range(limit):
            answer = self.answer_for(replies, thing)
            if answer is None:
                return
            replies = await self.say(answer)
        raise AssertionError(f"no submission after {limit} turns:\n{self.dump()}")


def cooperative_answer(replies: list[Reply], thing: OneThing, overrides: dict[str, str] | None = None) -> str | None:
    """What a cooperative applicant says to these replies (a field's example, the agreeing choice,
    “我承诺”); None when the application is in (or there is nothing to answer)."""
    last = replies[-1]
    text = "\n".join(r.text for r in replies)
    if standard.SUBMITTED in text or standard.SUBMIT_FAILED in text:
        return None
    if isinstance(last, FieldPrompt):
        if overrides and last.field_id in overrides:
            return overrides[last.field_id]
        f = next(f for f in thing.form.fields if f.id == last.field_id)
        if f.type == "attachment":
            return "跳过" if f.required is False else "已上传 材料照片.jpg"
        if f.type == "date" and f.not_past:
            soon = date.today() + timedelta(days=30)
            return f"{soon.year}年{soon.month}月{soon.day}日"
        if last.options:
            labels = [o.label for o in last.options]
            return f.example if f.example in labels else labels[0]
        return f.example
    if isinstance(last, ChoicesReply):
        payloads = [o.payload for o in last.options]
        for wanted in ("start", "yes", "ok", "submit", "self"):
            if wanted in payloads:
                return str(payloads.index(wanted) + 1)
    if "我承诺" in last.text:
        return "我承诺"
    return None
