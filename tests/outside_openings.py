"""What the assistant does with each outside opening message (``tests/data/outside/batch2/
utterances_*.yaml``), judged from its replies alone: **right** (the guide or answer of the right
one-thing, progress shown, a person called, the complaint taken, a polite no to what is not ours…),
**clarified** (a short list of one-things to pick from that holds the right one, or a question
back), **wrong** (another one-thing's guide or answer, or something done that was not asked) or
**missed** (nothing useful: “没太明白”).

``python -m tests.outside_openings`` prints the figures (memory engine); the test sends each
message through the mini-program API."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from bot.catalog import Catalog
from bot.dialogue.messages import ChoicesReply, GuideCard, HandoffNotice, Reply
from bot.nlu.outside import load as load_utterances
from bot.nlu.outside import wanted_things
from bot.texts import standard
from tests.outside_conversations import FOLDER

BATCH = FOLDER / "batch2"
Say = Callable[[str, str], Awaitable[list[Reply]]]  # (user, text) → replies
ASKS = ("ask_materials", "ask_duration", "ask_fee", "ask_location", "ask_online", "ask_conditions")


def items() -> list[dict[str, Any]]:
    return [item for batch in load_utterances(BATCH).values() for item in batch]


def judge(item: dict[str, Any], replies: list[Reply], catalog: Catalog) -> str:
    text = "\n".join(r.text for r in replies)
    wanted = wanted_things(item)
    names = {t.id: t.name for t in catalog}
    guides = [r.thing_id for r in replies if isinstance(r, GuideCard)]
    offered = [o.payload for r in replies if isinstance(r, ChoicesReply) for o in r.options]
    at = {
        i: min((p for p in (text.find(f"“{n}”"), text.find(f"【{n}】")) if p >= 0), default=-1)
        for i, n in names.items()
    }
    named = sorted((i for i, p in at.items() if p >= 0), key=lambda i: at[i])  # in the order said
    act = item["act"]
    handed = any(isinstance(r, HandoffNotice) for r in replies) or "转接人工" in text
    if act in ("apply", *ASKS) and wanted:
        if (guides and guides[0] in wanted) or (not guides and named and named[0] in wanted):
            return "right"
        if guides or named:
            return "wrong"
        if set(offered) & set(wanted):
            return "clarified"
        return "missed"
    checks = {
        "progress": standard.PROGRESS_TITLE in text or standard.PROGRESS_NONE in text or "没有查到" in text,
        "complaint": any(
            w in text for w in ("投诉", standard.COMPLAINT_ASK, standard.COMPLAINT_NAME, standard.COMPLAINT_PHONE_ASK)
        ),
        "human": handed,
        "cancel": standard.NOTHING_TO_CANCEL in text or "取消" in text,
        "greet": standard.GREET_BACK in text or standard.WELCOME in text,
        "thanks": standard.THANKS in text,
        "goodbye": standard.GOODBYE in text,
        "out_of_scope": "12345" in text and not guides,
    }
    if checks.get(act, False):
        return "right"
    if guides or handed or (act != "progress" and standard.PROGRESS_TITLE in text):
        return "wrong"  # something done that was not asked
    if offered:
        return "clarified"
    return "missed"


async def measure(say: Say, catalog: Catalog, labelled: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()
    by_act: dict[str, Counter[str]] = {}
    wrong: list[dict[str, Any]] = []
    for n, item in enumerate(labelled):
        replies = await say(f"opening:{n}", item["text"])
        verdict = judge(item, replies, catalog)
        outcomes[verdict] += 1
        by_act.setdefault(item["act"], Counter())[verdict] += 1
        if verdict in ("wrong", "missed"):
            wrong.append({"text": item["text"], "want": [item["act"], item.get("thing")], "verdict": verdict,
                          "said": " / ".join(r.text for r in replies)[:160]})  # fmt: skip
    total = len(labelled)
    return {
        "n": total,
        **{k: round(outcomes[k] / total, 3) for k in ("right", "clarified", "wrong", "missed")},
        "by_act": {a: dict(c) for a, c in sorted(by_act.items())},
        "wrong_or_missed": wrong,
    }


def main() -> None:
    from bot.dialogue.scripted import Citizen
    from tests.memory_engine import catalog, memory_engine

    engine = memory_engine()

    async def say(user: str, text: str) -> list[Reply]:
        return await Citizen(engine, user).say(text)

    result = asyncio.run(measure(say, catalog(), items()))
    for w in result.pop("wrong_or_missed"):
        print(json.dumps(w, ensure_ascii=False), file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
