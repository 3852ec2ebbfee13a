"""Answers in people's own words, written by outside authors (``tests/data/outside/batch2/
answers_own_words.yaml``): for one question of one form, what a person typed and what it means —
an option, 是/否, a name, ``skip`` (a material handed in later), ``wait`` (a file coming now),
``refuse`` (not an answer: “不知道” for a name), ``question`` (asked instead of answering) or
``unclear`` (to be asked again with the options).

Each answer is said to the engine with that field open (its draft started, the branch the field
sits in chosen) and judged by what the draft holds afterwards, as the review would show it.
``python -m tests.outside_answers`` prints the acceptance by expected kind (memory engine)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bot.dialogue import states as st
from bot.dialogue.engine import Engine
from bot.dialogue.messages import Inbound
from bot.dialogue.session import Draft

FILE = Path(__file__).parent / "data" / "outside" / "batch2" / "answers_own_words.yaml"
NOT_STORED = ("refuse", "question", "unclear", "wait")


def load() -> list[dict[str, Any]]:
    return yaml.safe_load(FILE.read_text(encoding="utf-8"))


def _branch(engine: Engine, thing_id: str, field_id: str) -> dict[str, Any]:
    """Answers that put the field in play: its ``when`` (and theirs) satisfied with the first value."""
    t = engine.catalog.things[thing_id]
    fields = {f.id: f for f in t.form.fields}
    out: dict[str, Any] = {}
    todo = [field_id]
    while todo:
        f = fields.get(todo.pop())
        for key, value in ((f.when or {}) if f else {}).items():
            out.setdefault(key, value[0] if isinstance(value, list) else value)
            todo.append(key)
    return out


async def judge(engine: Engine, n: int, item: dict[str, Any]) -> tuple[bool, str]:
    """(right, what happened) for one answer."""
    user = f"answers:{n}"
    s = await engine.sessions.load(user, "test")
    thing = engine.catalog.things[item["thing"]]
    d = Draft(thing=thing.id, catalog_version=thing.version, started=True, prefill_confirmed=True,
              consent=False, proxy_asked=True, answers=_branch(engine, thing.id, item["field"]),
              eligibility={e.id: True for e in thing.eligibility})  # fmt: skip
    s.drafts[thing.id], s.current = d, thing.id
    s.awaiting = st.FormField(ref=item["field"])
    await engine.sessions.save(s)
    replies = await engine.handle(Inbound(user=user, channel="test", text=str(item["say"])))
    after = (await engine.sessions.load(user, "test")).drafts.get(thing.id)
    stored = after.answers.get(item["field"]) if after else None
    if isinstance(stored, bool):
        stored = "是" if stored else "否"
    skipped = bool(after and item["field"] in after.skipped)
    want = str(item["expect"])
    said = " / ".join(r.text.replace("\n", " ")[:80] for r in replies)
    if want == "skip":
        return skipped, f"skipped={skipped} stored={stored!r} | {said}"
    if want in NOT_STORED:
        right = stored is None and not skipped
        if want == "unclear" and right:
            whole = "\n".join(r.text for r in replies)
            right = any(o in whole for o in item.get("options") or ["是"])  # asked again, with the options
        return right, f"stored={stored!r} | {said}"
    return stored == want, f"stored={stored!r} | {said}"


async def measure(engine: Engine, items: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: Counter[str] = Counter()
    right_by_kind: Counter[str] = Counter()
    wrong: list[dict[str, Any]] = []
    outcomes: Counter[str] = Counter()
    for n, item in enumerate(items):
        kind = str(item["expect"]) if str(item["expect"]) in (*NOT_STORED, "skip") else "answer"
        ok, what = await judge(engine, n, item)
        by_kind[kind] += 1
        right_by_kind[kind] += ok
        # not right: asked again (nothing kept, the question still open) or worse, a wrong value kept
        outcomes[
            "right"
            if ok
            else "asked_again"
            if what.startswith(("stored=None", "skipped=False stored=None"))
            else "wrong"
        ] += 1
        if not ok:
            wrong.append({"field": f"{item['thing']}.{item['field']}", "say": item["say"],
                          "expect": item["expect"], "got": what})  # fmt: skip
    return {
        "n": len(items),
        "accepted_right": round(sum(right_by_kind.values()) / len(items), 3),
        "by_kind": {k: f"{right_by_kind[k]}/{by_kind[k]}" for k in sorted(by_kind)},
        "outcomes": dict(outcomes),
        "wrong": wrong,
    }


def main() -> None:
    from tests.memory_engine import memory_engine

    result = asyncio.run(measure(memory_engine(), load()))
    for w in result.pop("wrong"):
        print(json.dumps(w, ensure_ascii=False), file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
