"""The service guide (一次告知): the choice after it (start, hear the materials again, another
thing), its sections answering questions (materials, time, fee, place, online), and a draft
following a newer version of its guide."""

from __future__ import annotations

import re

from bot.catalog.render import render_guide
from bot.dialogue import form as plan
from bot.dialogue import states as st
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.turn import Turn

flow = Flow("guide")


def ask_start(turn: Turn) -> None:
    tx = turn.tx
    turn.ask(st.Start(options=turn.say.choices(tx.START_OR_ASK, list(tx.START_OPTIONS.items()))))


@flow.state("start", answers="开始办理, the materials again, or another thing",
            goes_to=(*NEXT, "start", "pick_thing"), needs_draft=True)  # fmt: skip
async def answer_start(turn: Turn, a: st.Start) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    choice = turn.option(a)
    if choice == "start":
        if not d.started:
            turn.events.append(f"started:{t.id}")
        d.started = True
        turn.say.text(turn.tx.FORM_INTRO, count=len(plan.fields_in_play(t, d)))
        await turn.ask_next()
    elif choice == "materials":
        turn.say.guide(t, d.answers)
        ask_start(turn)
    elif choice == "other":
        turn.s.current, turn.s.awaiting = None, None
        turn.go.show_catalog(turn)
    return choice is not None


_SECTIONS = {
    "ask_conditions": ("ANSWER_CONDITIONS", "GUIDE_CONDITIONS"),
    "ask_materials": ("ANSWER_MATERIALS", "GUIDE_MATERIALS"),
    "ask_duration": ("ANSWER_DURATION", "GUIDE_TIME"),
    "ask_fee": ("ANSWER_FEE", "GUIDE_FEE"),
    "ask_location": ("ANSWER_LOCATION", "GUIDE_WHERE"),
}


def answer_question(turn: Turn, intent: str, about: str | None = None) -> None:
    """The relevant section of the one-time guide, from the catalog: of the one-thing ``about``, or
    of the one in focus."""
    t, tx = (turn.e.catalog.get(about) if about else None) or turn.thing(), turn.tx
    if t is None:
        turn.say.text(tx.ANSWER_NO_THING)
        return
    if intent == "ask_online":
        window = [i.name for i in t.items if i.guide.channels == "窗口办理"]
        body = tx.ANSWER_ONLINE_WINDOW.format(items="、".join(window)) if window else tx.ANSWER_ONLINE_YES
        turn.say.text(tx.ANSWER_ONLINE.format(name=t.name) + "\n" + body)
        return
    d = turn.s.drafts.get(t.id)
    guide = render_guide(t, d.answers if d else {}, tx).split("\n\n")
    head, heading = (getattr(tx, name) for name in _SECTIONS[intent])
    part = next((p for p in guide if p.startswith(heading)), "")
    body = part.split("\n", 1)[1] if "\n" in part else part
    turn.say.text(head.format(name=t.name) + "\n" + body)


FAQ_SURE = 0.34  # share of a 常见问题's two-character words the message must hold


def faq_answer(turn: Turn, text: str) -> bool:
    """A question in the person's words answered from the guide's 常见问题 of the thing in focus,
    when one is clearly the same question (“网吧几点关门” → “营业时间有规定吗？”)."""
    t = turn.thing()
    if t is None:
        return False
    said = _bigrams(text)
    scored = []
    for faq in t.faq:
        words = _bigrams(faq.q)
        shared = said & words
        if len(shared) >= 2:
            scored.append((len(shared) / len(words), faq))
    if not scored:
        return False
    share, faq = max(scored, key=lambda s: s[0])
    if share < FAQ_SURE:
        return False
    turn.say.text(turn.tx.FAQ_ANSWER, q=faq.q, a=faq.a)
    return True


def explain(turn: Turn, text: str) -> bool:
    """“啥叫死亡证明”: the item or material of the thing in focus that the question names, with what
    it is (or a 常见问题 that answers it)."""
    t = turn.thing()
    if t is None:
        return False
    item = next((i for i in sorted(t.items, key=lambda i: -len(i.name)) if i.name in text), None)
    if item is not None:  # “居住证信息核验是啥意思”: an item of this one-thing, done by whom and on what
        turn.say.text(turn.tx.ITEM_EXPLAINED, item=item.name, agency=item.guide.agency,
                      conditions="；".join(item.guide.conditions))  # fmt: skip
        return True
    said = _bigrams(text)
    scored = [(len(said & _bigrams(m.name)), m) for m in t.materials]
    best = max((n for n, _ in scored), default=0)
    if best >= 2:  # each material the question names (several may: 死亡证明 of two kinds)
        for _, m in [x for x in scored if x[0] == best][:3]:
            used_by = "、".join(i.name for i in t.items if i.key in m.items)
            turn.say.text(
                turn.tx.MATERIAL_EXPLAINED, name=m.name, note=m.note or turn.tx.MATERIAL_USED_BY.format(items=used_by)
            )
        return True
    return faq_answer(turn, text)


def _bigrams(text: str) -> set[str]:
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    return {r[i : i + 2] for r in runs for i in range(len(r) - 1)}


def follow_changes(turn: Turn) -> None:
    """The guide of the draft in focus changed since it was begun (an admin published a new
    version): the draft is checked against the new one and the person told what to answer again."""
    t, d = turn.thing(), turn.s.draft
    if t is None or d is None:
        return
    if d.catalog_version is None:
        d.catalog_version = t.version  # begun before drafts carried versions: nothing to compare
        return
    if d.catalog_version == t.version:
        return
    again = plan.migrate(t, d, turn.e.today())
    if again:
        turn.say.text(turn.tx.GUIDE_CHANGED_AGAIN, name=t.name, fields="、".join(again))
        a = turn.s.awaiting
        if a is not None and a.guide_bound:
            turn.s.awaiting = None  # the question may be another now
    else:
        turn.say.text(turn.tx.GUIDE_CHANGED, name=t.name)
