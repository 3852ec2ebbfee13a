"""Training examples that name a one-thing *and* say what the person wants of it (“孩子上户口要带啥”,
“公积金提取办到哪了”), composed from each one-thing's own words in the catalog (its name and
keywords) and the ways people ask (below). Written to ``nlu_data/composed.yml`` in Rasa's format:
the example is of the act's intent (``ask_materials``), the one-thing's word annotated as the entity
``thing`` whose value is the one-thing's id; with a ``thing`` lookup table and its synonyms, so that
Rasa's RegexEntityExtractor and EntitySynonymMapper find the same words. The embedded engine's
thing classifier learns from the annotations.

``python -m bot.nlu compose`` writes the file anew (after a guide's keywords change); a test keeps it
in step with the catalog. Deterministic: the same catalog gives the same file."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from pathlib import Path

from bot.catalog import Catalog, OneThing

# How people ask about a thing (``{t}``: one of its words). Written for this file, phrased as people
# write: short, colloquial, often without punctuation.
ASKS: dict[str, tuple[str, ...]] = {
    "ask_materials": (
        "{t}需要准备什么材料",
        "{t}要带啥",
        "办{t}都得带哪些东西",
        "{t}要交什么证件",
        "{t}材料清单发我一下",
        "{t}需要啥手续",
        "我要办{t} 得准备点啥",
        "{t}身份证户口本都要带吗",
    ),
    "ask_duration": (
        "{t}要多久",
        "{t}几天能办好",
        "办{t}得多长时间",
        "{t}多久能下来",
        "{t}当天能办完吗",
        "{t}啥时候能办好",
    ),
    "ask_fee": (
        "{t}收费吗",
        "{t}要花钱不",
        "办{t}多少钱",
        "{t}交钱不",
        "{t}免费吗",
        "{t}有啥费用",
    ),
    "ask_location": (
        "{t}在哪办",
        "{t}去哪个部门",
        "{t}到哪儿办理",
        "{t}在哪个窗口",
        "办{t}得去哪",
        "{t}去政务大厅还是去哪",
    ),
    "ask_online": (
        "{t}能网上办吗",
        "{t}可以手机上办不",
        "{t}用跑现场吗",
        "{t}线上能申请吗",
        "{t}能不能不去窗口",
    ),
    "ask_conditions": (
        "{t}有什么条件",
        "我这种情况能办{t}吗",
        "{t}需要满足啥条件",
        "什么人可以办{t}",
        "{t}有啥要求不",
        "我能不能办{t}",
    ),
    "check_progress": (
        "{t}办到哪了",
        "我的{t}审批完了吗",
        "之前办的{t}怎么样了",
        "{t}进度查一下",
        "上周申请的{t}有结果没",
        "我那个{t}咋还没动静",
    ),
    "complaint": (
        "{t}办了一个月都没消息 我要投诉",
        "办{t}跑了好几趟还没办成",
        "{t}窗口的人态度太差了",
        "投诉一下{t}拖着不办",
    ),
}
APPLY = ("我要办{t}", "帮我办一下{t}", "想申请{t}", "{t}怎么办理", "我想办个{t}", "{t}咋办")
PER_ACT = 2  # examples per one-thing and act: enough to teach the pattern, few enough not to drown the rest


def words_of(thing: OneThing, catalog: Catalog) -> list[str]:
    """The one-thing's own words (its keywords, and its name) that no other one-thing has."""
    theirs = {w for t in catalog if t.id != thing.id for w in (*t.keywords, t.name)}
    return [w for w in (*thing.keywords, thing.name) if w not in theirs and not _SPECIAL.search(w)]


COMPOSED = "composed.yml"  # the file these examples are written to, beside the hand-written ones
_SPECIAL = re.compile(r"[\[\](){}…]")  # Rasa's annotation syntax cannot annotate these; “老伴…走了” is said apart


def compose(catalog: Catalog, seed: int = 7, written: Iterable[str] = ()) -> dict[str, list[str]]:
    """Intent → examples (the one-thing's word annotated), for every one-thing: each act, and applying;
    none the same as an example ``written`` by hand (one text under one intent only)."""
    out: dict[str, list[str]] = {}
    avoid = set(written)
    for thing in catalog:
        rng = random.Random(f"{seed}:{thing.id}")  # one guide's new words redraw its examples only
        words = words_of(thing, catalog)
        for act, templates in ASKS.items():
            out.setdefault(act, []).extend(_draw(rng, templates, words, thing.id, PER_ACT, avoid))
        out.setdefault(f"thing_{thing.id}", []).extend(_draw(rng, APPLY, words, thing.id, PER_ACT, avoid))
    return out


def hand_written(data_dir: Path) -> set[str]:
    """The texts of the examples written by hand in ``data_dir`` (all but the composed file)."""
    from bot.nlu.data import read_file

    return {e.text for p in sorted(data_dir.glob("*.yml")) if p.name != COMPOSED for e in read_file(p).examples}


def synonyms(catalog: Catalog) -> dict[str, list[str]]:
    """One-thing id → its own words: the ``thing`` entity's value for each."""
    return {thing.id: words_of(thing, catalog) for thing in catalog}


def _draw(rng: random.Random, templates: Iterable[str], words: list[str], thing_id: str, n: int,
          avoid: set[str]) -> list[str]:  # fmt: skip
    pool = [(t, w) for t in templates for w in words]
    rng.shuffle(pool)
    seen: list[str] = []
    for template, word in pool:
        if template.replace("{t}", word) in avoid:
            continue
        mark = "[" + word + ']{"entity": "thing", "value": "' + thing_id + '"}'
        text = template.replace("{t}", mark)
        if text not in seen:
            seen.append(text)
        if len(seen) == n:
            break
    return seen


def to_yaml(composed: dict[str, list[str]], named: dict[str, list[str]]) -> str:
    lines = [
        "# Composed by `python -m bot.nlu compose` from the catalog's names and keywords (bot/nlu/compose.py):",
        "# a one-thing named with what is asked of it. Do not edit by hand: compose again.",
        'version: "3.1"',
        "nlu:",
    ]
    for intent, examples in composed.items():
        lines += [f"- intent: {intent}", "  examples: |", *(f"    - {e}" for e in examples)]
    lines += ["- lookup: thing", "  examples: |", *(f"    - {w}" for ws in named.values() for w in ws)]
    for thing_id, words in named.items():
        lines += [f"- synonym: {thing_id}", "  examples: |", *(f"    - {w}" for w in words)]
    return "\n".join(lines) + "\n"
