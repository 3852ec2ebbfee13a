"""Measured against people we did not write for: opening messages written by outside authors
(``tests/data/outside/utterances_*.yaml``, never read into training data), each labelled with what
the person wants to do (act) and which one-thing it concerns (thing, or two, or none).

What a parse means as an act and a thing is ``reading`` (``bot/nlu/understanding.py``); this
module only counts: act accuracy, thing accuracy (a message about two things counts as right when
the reading names the first or the second), by file and in all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

Labelled = dict[str, Any]  # text, act, thing (id, [id, id] or None), note


def load(folder: Path) -> dict[str, list[Labelled]]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("utterances_*.yaml"))}


def wanted_things(item: Labelled) -> list[str]:
    thing = item.get("thing")
    return [] if thing is None else [thing] if isinstance(thing, str) else list(thing)


def score(items: Sequence[Labelled], read: Callable[[str], tuple[str, list[str]]]) -> dict[str, Any]:
    """``read(text)`` → (act, things named, best first)."""
    acts = things = 0
    confusions: Counter[tuple[str, str]] = Counter()
    wrong: list[dict[str, Any]] = []
    for item in items:
        act, named = read(item["text"])
        wanted = wanted_things(item)
        act_ok = act == item["act"]
        thing_ok = (not wanted and not named) or (bool(wanted) and bool(named) and named[0] in wanted)
        acts += act_ok
        things += thing_ok
        if not act_ok:
            confusions[(item["act"], act)] += 1
        if not (act_ok and thing_ok):
            wrong.append({"text": item["text"], "want": [item["act"], wanted], "got": [act, named[:2]]})
    n = len(items)
    return {
        "n": n,
        "act_accuracy": round(acts / n, 3) if n else None,
        "thing_accuracy": round(things / n, 3) if n else None,
        "act_confusions": [f"{a}→{b}: {c}" for (a, b), c in confusions.most_common(12)],
        "wrong": wrong,
    }
