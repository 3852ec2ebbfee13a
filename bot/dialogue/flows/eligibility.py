"""Whether the person may apply (办理条件), and for whom: themselves or a family member (代办)."""

from __future__ import annotations

import re
from datetime import date

from bot.catalog import FormField, OneThing
from bot.catalog.models import Eligibility
from bot.dialogue import form as plan
from bot.dialogue import states as st
from bot.dialogue.fields import yes_no, yes_to
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.options import SAID_AS
from bot.dialogue.session import Draft
from bot.dialogue.turn import Turn

# what a relation is said with: 子女、配偶、老伴、孙子、姥姥、儿媳、亲戚…
KINSHIP = re.compile(
    r"[爸妈父母子女儿孙爷奶姥外公婆兄弟姐妹哥嫂夫妻媳婿叔姑舅姨侄甥亲监护]|配偶|老伴|对象|爱人|老公|老婆|朋友|同事"
)
# how the relation is recorded (and said back): “由母亲代办”, not “由妈代办”
KIN_NAMED = {said: named for named in ("父亲", "母亲")  # (儿子, 老伴 read well as they are)
             for said in SAID_AS[named] if not said.startswith(("他", "孩子"))}  # fmt: skip
_PLAIN_NO = ("不是", "否", "不", "不符合", "不对", "2")  # a no that needs no confirming
flow = Flow("eligibility")


def ask(turn: Turn, t: OneThing, d: Draft) -> bool:
    """Ask the next open condition, or who applies; False when neither is open."""
    tx = turn.tx
    e = plan.open_eligibility(t, d)
    if e is not None:
        if not d.eligibility:
            turn.say.text(tx.ELIGIBILITY_INTRO)
        turn.ask(st.Eligibility(ref=e.id, options=turn.say.yes_no(e.question)))
        return True
    # elders often apply through family; a verified identity is only used once we know it is theirs
    if (turn.elderly or turn.s.verified is not None) and not d.proxy_asked:
        d.proxy_asked = True
        turn.ask(st.Proxy(options=turn.say.choices(tx.PROXY_ASK, list(tx.PROXY_OPTIONS.items()))))
        return True
    return False


@flow.state("eligibility", answers="yes or no to the condition",
            goes_to=(*NEXT, ""), needs_draft=True)  # fmt: skip
async def answer(turn: Turn, a: st.Eligibility) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    picked = turn.option(a)
    e = next((x for x in t.eligibility if x.id == a.ref), None)
    if picked and not a.confirming and e is not None and not _plainly_picked(turn):
        # “没有 不是亲戚” to “…没有血亲关系吗？” holds the option's word “不是”, but agrees: the
        # words are read against the question first, the option only when they say nothing
        worded = yes_to(e.question, turn.text)
        picked = None if worded is not None else picked
    if e is None:  # the catalog changed under a waiting session
        await turn.ask_next()
        return True
    if a.confirming:  # “是的，不符合” confirms the no; “不是，我符合” takes it back
        said = None if picked is None and yes_no(turn.text) is None else not (picked == "yes" or yes_no(turn.text))
    else:
        said = (picked == "yes") if picked else yes_to(e.question, turn.text)
    if said is None:
        return False
    if not said and not picked and not a.confirming and turn.text.strip() not in _PLAIN_NO:
        # a no read from the person's own words ends the application: they confirm it first
        names = "、".join(i.name for i in t.items if i.key in (e.items or [i.key for i in t.items]))
        prompt = turn.tx.REFUSAL_CONFIRM.format(said=turn.text.strip()[:30], item=names, reason=e.if_not.rstrip("。"))
        turn.ask(st.Eligibility(ref=e.id, confirming=True,
                                options=turn.say.choices(prompt, list(turn.tx.REFUSAL_OPTIONS.items()))))  # fmt: skip
        return True
    d.eligibility[e.id] = said
    if not said and refuse(turn, t, d, e):
        return True
    await turn.ask_next()
    return True


def refuse(turn: Turn, t: OneThing, d: Draft, e: Eligibility) -> bool:
    """The items the condition gates are left out, and why said; True when nothing is left."""
    d.eligibility[e.id] = False
    gated = e.items or [i.key for i in t.items]
    d.excluded_items = sorted(set(d.excluded_items) | set(gated))
    names = "、".join(i.name for i in t.items if i.key in gated)
    turn.say.text(turn.tx.NOT_ELIGIBLE, item=names, reason=e.if_not, instead=e.instead)
    if not plan.items_in_play(t, d):
        turn.say.text(turn.tx.NOT_ELIGIBLE_ALL)
        turn.s.awaiting = None
        return True
    turn.say.text(turn.tx.NOT_ELIGIBLE_PARTLY)
    return False


def too_young(t: OneThing, d: Draft, today: date) -> tuple[Eligibility, FormField, int, int] | None:
    """A condition on age that an ID number in the form does not meet (the person said 是 at 21):
    the condition, the field, the age the ID gives and the age needed."""
    for e in t.eligibility:
        if e.ages is None or d.eligibility.get(e.id) is False:
            continue
        for fid in e.ages.fields:
            number = d.answers.get(fid)
            f = next((x for x in t.form.fields if x.id == fid), None)
            if f is None or not isinstance(number, str) or len(number) != 18:
                continue
            try:
                born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            except ValueError:
                continue
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            need = e.ages.min_age_male if int(number[16]) % 2 else e.ages.min_age_female
            if age < need:
                return e, f, age, need
    return None


def _plainly_picked(turn: Turn) -> bool:
    """A tapped button, its number or its label alone: no words to read against the question."""
    return bool(turn.msg.choice) or turn.text.strip().rstrip("。.！!") in ("1", "2", *turn.tx.YES_NO_OPTIONS.values())


@flow.state("proxy", answers="for oneself, or for a family member", goes_to=("proxy_relation", *NEXT),
            needs_draft=True)  # fmt: skip
async def answer_proxy(turn: Turn, a: st.Proxy) -> bool:
    d = turn.s.draft
    assert d is not None
    choice = turn.option(a)
    if choice is None:
        return False
    d.proxy_asked = True
    if choice == "proxy":
        turn.ask(st.ProxyRelation())
        turn.say.text(turn.tx.PROXY_RELATION)
        return True
    await turn.ask_next()
    return True


@flow.state("proxy_relation", answers="how the applicant is related (子女、配偶…)", goes_to=NEXT,
            needs_draft=True)  # fmt: skip
async def answer_relation(turn: Turn, a: st.ProxyRelation) -> bool:
    d = turn.s.draft
    assert d is not None
    relation = re.sub(r"^(?:我是|俺是)(?:他|她|它)?(?:的)?", "", turn.text.strip())[:20]  # “我是他老伴” → 老伴
    if not KINSHIP.search(relation):
        return False  # not a relation (“我想开个药店”): read afresh
    relation = KIN_NAMED.get(relation) or KIN_NAMED.get(relation.rstrip("儿"), relation)  # “妈” is 母亲
    d.proxy_relation = relation
    turn.say.text(turn.tx.PROXY_RECORDED, relation=relation)
    await turn.ask_next()
    return True
