"""The merged form (一表申请): what to ask next, each field's answer (read with the chat's
validators, several said at once, elders' read-back), skipping, corrections and what is filled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from bot.catalog import OneThing
from bot.catalog.conditions import holds
from bot.catalog.models import FieldType, FormField
from bot.dialogue import form as plan
from bot.dialogue import states as st
from bot.dialogue.commands import correction_target
from bot.dialogue.fields import Parsed, corrected_values, extra_values, later, parse_value, yes_no
from bot.dialogue.flows import commitment, eligibility, guide, review, shared
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.messages import Reply
from bot.dialogue.options import meant
from bot.dialogue.say import spoken_groups
from bot.dialogue.session import Draft
from bot.dialogue.turn import CONFIDENT, Turn
from bot.nlu.cues import UNSURE, asked_act, asks_meaning

flow = Flow("form")
# answers a question cannot pass for: digits, and files (whose names may say “材料”)
# elders hear back what they typed or said (a number, a name), not a choice they made (是, 随母亲)
_NOT_READ_BACK = (FieldType.attachment, FieldType.boolean, FieldType.enum)
# what the words say instead of an answer (“那先不办了，等我照完相再说” is not a dog's name)
_NOT_ANSWERS = ("cancel", "human", "complaint", "progress")
# options about who someone is: words said before the form may be of another person (“我闺女刚生完孩子”
# is the mother, not a girl; “我爸走了” is the father's death, not the person's widowhood)
_KIN = ("父亲", "母亲", "配偶", "子女", "父母", "兄弟姐妹", "其他亲属", "其他法定监护人", "本人", "男", "女", "丧偶",
        "离异或丧偶")  # fmt: skip
_NOT_WORDS = (FieldType.id_card, FieldType.phone, FieldType.uscc, FieldType.attachment)
_REPLY: TypeAdapter[Reply] = TypeAdapter(Reply)


async def ask_next(turn: Turn, repeat: bool = False, back: bool = False) -> None:
    """Ask the next open question of the draft in focus (or repeat the pending one)."""
    t, d = turn.thing(), turn.s.draft
    a = turn.s.awaiting
    if repeat and a is not None and not a.from_draft:
        again = reissue(turn)
        if again is not None:
            if back:
                turn.say.text(turn.tx.BACK_TO)
            turn.say.replies.append(again)
            return
        repeat = False  # its question is no longer on screen (an agent's turn came between): go on afresh
    if t is None or d is None:
        if not repeat:
            turn.s.awaiting = None
        return
    if back:
        turn.say.text(turn.tx.BACK_TO)
    if not d.started:
        guide.ask_start(turn)
        return
    await next_question(turn, t, d)


def reissue(turn: Turn) -> Reply | None:
    """The pending question again, as it was last shown (its footer once, at the end); None when the
    last turn did not show it."""
    for r in turn.s.last_replies:
        if r.get("kind") in ("choices", "field"):
            return without_footer(r, turn.tx.FOOTER)
    return None


def without_footer(stored: dict[str, Any], footer: str) -> Reply:
    """A reply of an earlier turn, to say again: its footer (“回复 0 转人工…”) comes once, at the end."""
    reply = _REPLY.validate_python(stored)
    text = reply.text
    while footer and text.endswith(footer):
        text = text[: -len(footer)].rstrip()
    return reply.model_copy(update={"text": text}) if text != reply.text else reply


async def next_question(turn: Turn, t: OneThing, d: Draft) -> None:
    tx = turn.tx
    if eligibility.ask(turn, t, d):
        return
    if await shared.ask(turn, t, d):
        return
    f = plan.next_field(t, d)
    chosen = said_before(d.said, f) if f is not None and f.id not in d.from_words else None
    if f is not None and chosen is not None:  # “我的执业证快到期了，要延续”: 延续执业, not asked
        d.from_words.append(f.id)
        store(t, d, f, chosen)
        turn.say.text(tx.NOTED_FROM_WORDS, label=f.label, value=chosen)
        await next_question(turn, t, d)
        return
    if f is not None:
        if f.id not in d.reached:  # where people give up: the last question they reached
            d.reached.append(f.id)
            turn.events.append(f"reached:{t.id}:{f.id}")
        turn.ask(st.FormField(ref=f.id, options=turn.say.field(f)))
        return
    m = plan.open_commitment(t, d)
    if m is not None:
        commitment.ask(turn, t, d, m)
        return
    if not plan.items_in_play(t, d):
        # every item answered away (“不转” to each insurance): nothing to hand in, so no review
        turn.say.text(tx.NOTHING_LEFT, name=t.name)
        turn.s.awaiting = None
        return
    missing = plan.missing_tolerable(t, d)
    if missing and not d.tolerable_told:
        d.tolerable_told = True
        days = max(m.supply_within_days or 0 for m in missing)
        turn.say.text(tx.TOLERABLE_NOTICE, names="、".join(m.name for m in missing), days=days)
    review.review(turn, t, d)


@flow.state("field", answers="the field's value (or several fields said at once)",
            goes_to=(*NEXT, "readback", "help"), needs_draft=True)  # fmt: skip
async def answer_field(turn: Turn, a: st.FormField) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    f = plan.field_of(t, a.ref)
    if f is None:
        return False
    answered = [x for x in plan.fields_in_play(t, d) if x.id in d.answers and x.id != f.id]
    fixed = corrected_values(turn.text, answered, turn.e.today())
    if fixed:  # “刚才手机号整错了 是176…”: the earlier answer put right, this question asked again
        for fid, value in fixed.items():
            other = plan.field_of(t, fid)
            if other is not None:
                store(t, d, other, value)
                turn.say.text(turn.tx.FIELD_CORRECTED, label=other.label, value=turn.show(other, value, masked=True))
        turn.ask(st.FormField(ref=f.id, options=turn.say.field(f)))
        return True
    target = correction_target(turn.text)
    if target and find_field(turn, t, target):
        reask(turn, t, find_field(turn, t, target))  # type: ignore[arg-type]
        return True
    if asks_meaning(turn.text) and _about(f, turn.text):  # “啥叫居住登记”: what it means, then it again
        turn.say.text(turn.tx.FIELD_EXPLAINED, label=f.label, help=f.help)
        turn.ask(st.FormField(ref=f.id, options=turn.say.field(f)))
        return True
    if f.type not in _NOT_WORDS and (
        asked_act(turn.text) in _NOT_ANSWERS
        or await turn.is_question()
        or await turn.interrupts(0.8)
        or await turn.other_thing()
    ):
        return False  # “要带啥材料？” is not a hospital's name, nor “这个要花钱不” a child's
    # other fields said in the same breath (“我叫张三，电话138…”), this one maybe among them
    others = [x for x in plan.fields_in_play(t, d) if x.id not in d.answers and x.id != f.id]
    today = turn.e.today()
    extras = extra_values(turn.text, [f, *others], today)
    if f.id in extras and f.type is not FieldType.name:  # a name is read from all that was said
        parsed = parse_value(f, str(extras.pop(f.id)), today)
    else:
        parsed = parse_value(f, turn.text, today, turn.msg.metadata)
        extras = {k: v for k, v in extras.items() if v != parsed.value and k != f.id}
    if f.type is FieldType.enum and turn.msg.choice and turn.msg.choice in (f.options or []):
        parsed = Parsed(value=turn.msg.choice)
    if parsed.problem == "name.unusual" and parsed.params["name"] == a.doubted:
        parsed = Parsed(value=a.doubted)  # said again: their name, however rare
    if not parsed.ok and f.type is FieldType.attachment and not f.required and later(turn.text):
        return await skip(turn)  # “照片还没照呢，以后再补”: a material that may come later
    if parsed.problem == "text.unknown" and not f.required:
        return await skip(turn)  # “不知道账号” for what may be left out
    if not parsed.ok and UNSURE.search(turn.text) and f.type in (FieldType.boolean, FieldType.enum):
        # “好像有吧 说不准”: not a misunderstanding — they do not know yet
        turn.say.field(f, problem=turn.tx.UNSURE_ANSWER)
        return True
    if not parsed.ok:
        if await turn.is_question() or await turn.other_thing() or await turn.interrupts(CONFIDENT):
            return False
        turn.failed = True
        turn.s.misunderstood += 1
        if turn.s.misunderstood >= 3:
            turn.go.offer_help(turn)
            return True
        problem = turn.tx.PROBLEM[parsed.problem].format(**parsed.params)
        turn.ask(st.FormField(ref=f.id, options=turn.say.field(f, problem=problem),
                              doubted=parsed.params.get("name", "")))  # fmt: skip
        return True
    if parsed.flag:
        d.flags.append(parsed.flag)
        turn.say.text(turn.tx.USCC_FLAGGED)
    if turn.elderly and f.type not in _NOT_READ_BACK:
        read_back(turn, f, parsed.value)
        return True
    store(t, d, f, parsed.value)
    for fid, value in extras.items():
        extra = plan.field_of(t, fid)
        if extra is not None:
            store(t, d, extra, value)
    if age_not_met(turn, t, d):
        return True
    await turn.ask_next()
    return True


def age_not_met(turn: Turn, t: OneThing, d: Draft) -> bool:
    """An ID number that says a condition on age is not met, though the person said it was: what
    it shows, and the items it gates left out. True when nothing is left to apply for."""
    found = eligibility.too_young(t, d, turn.e.today())
    if found is None:
        return False
    e, f, age, need = found
    turn.say.text(turn.tx.AGE_NOT_MET, label=f.label, age=age, need=need)
    return eligibility.refuse(turn, t, d, e)


def said_before(said: str, f: FormField) -> str | None:
    """The option of ``f`` that what the person said before the form names (the option's words, or
    everyday words for them, one option only); never who someone is to whom (“我爸走了” makes the
    person a child, though “爸” is 父亲 in “我是他爸”)."""
    options = list(f.options or [])
    if f.type is not FieldType.enum or not said or any(o in _KIN for o in options):
        return None
    inside = [o for o in options if len(o) >= 2 and o in said]
    if len(inside) == 1:
        return inside[0]
    return meant(said, options) if not inside else None


def read_back(turn: Turn, f: FormField, value: Any, again: bool = False) -> None:
    """“您说的是：刘淑芬，对吗？” (elders hear what will be kept before it is)."""
    shown = spoken_groups(str(value)) if f.type is FieldType.id_card else turn.show(f, value)
    prompt = turn.tx.READBACK.format(value=shown)
    options = turn.say.yes_no(turn.tx.READBACK_AGAIN + prompt if again else prompt, turn.tx.READBACK_OPTIONS)
    turn.ask(st.Readback(ref=f.id, value=value, options=options))


@flow.state("readback", answers="yes (store it) or no (say it again)", goes_to=NEXT, needs_draft=True)  # fmt: skip
async def answer_readback(turn: Turn, a: st.Readback) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    answer = yes_no(turn.text)
    f = plan.field_of(t, a.ref)
    if f is None:
        return False
    if answer is None:
        if await turn.is_question() or await turn.interrupts(CONFIDENT) or await turn.other_thing():
            return False
        parsed = parse_value(f, turn.text, turn.e.today(), turn.msg.metadata)
        if parsed.ok and parsed.value != a.value:  # said anew (“不对 是刘淑华”): that, read back
            read_back(turn, f, parsed.value)
        else:  # “她都68了”: the answer heard is still the one to confirm, not lost
            read_back(turn, f, a.value, again=True)
        return True
    if answer:
        store(t, d, f, a.value)
        if age_not_met(turn, t, d):
            return True
        await turn.ask_next()
    else:
        turn.ask(st.FormField(ref=f.id))
        turn.say.field(f)
    return True


@flow.state("pick_field", answers="the number or name of a filled field", goes_to=("field",), needs_draft=True)
async def answer_pick_field(turn: Turn, a: st.PickField) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    choice = turn.option(a)
    if choice is None:
        return False
    reask(turn, t, choice)
    return True


def _about(f: FormField, text: str) -> bool:
    """A question about this question: short (“啥意思？”), or naming it or one of its options."""
    words = [f.label, *(f.options or [])]
    return len(text) <= 4 or any(w in text for w in words)


def store(t: OneThing, d: Draft, f: FormField, value: Any) -> None:
    d.answers[f.id] = value
    if f.id in d.skipped:
        d.skipped.remove(f.id)
    if f.id in d.prefilled:
        d.prefilled.remove(f.id)  # the person's own answer overrides shared data
    d.updated_at = datetime.now(UTC)
    # answers that close a branch drop what was given inside it
    for other in t.form.fields:
        if other.id in d.answers and other.when and holds(other.when, d.answers) is False:
            d.answers.pop(other.id)


async def skip(turn: Turn) -> bool:
    """“跳过” an optional field (a required one says so)."""
    t, d, a = turn.thing(), turn.s.draft, turn.s.awaiting
    if t is None or d is None or not isinstance(a, st.FormField):
        return False
    f = plan.field_of(t, a.ref)
    if f is None:
        return False
    if f.required:
        turn.say.field(f, problem=turn.tx.FIELD_NOT_SKIPPABLE.format(label=f.label))
        return True
    d.skipped.append(f.id)
    turn.say.text(turn.tx.FIELD_SKIPPED, label=f.label)
    await turn.ask_next()
    return True


_FIELD_WORDS = {"电话": "phone", "手机": "phone", "身份证": "id_card", "名字": "name", "姓名": "name",
                "地址": "address", "日期": "date"}  # fmt: skip


def find_field(turn: Turn, t: OneThing, words: str) -> str | None:
    d = turn.s.draft
    fields = plan.fields_in_play(t, d) if d else t.form.fields
    exact = [f for f in fields if words in f.label or f.label in words]
    if exact:
        return exact[0].id
    kind = next((k for w, k in _FIELD_WORDS.items() if w in words), None)
    typed = [f for f in fields if f.type.value == kind]
    return typed[0].id if typed else None


def correct_named(turn: Turn) -> bool:
    """“电话填错了”, “申请情形填错了” in any state of a draft begun: the answer it names asked again."""
    t, d = turn.thing(), turn.s.draft
    target = correction_target(turn.text)
    if not target or t is None or d is None or not d.started:
        return False
    field_id = find_field(turn, t, target)
    if field_id is None or field_id not in d.answers:
        return False
    reask(turn, t, field_id)
    return True


def reask(turn: Turn, t: OneThing, field_id: str) -> None:
    f = plan.field_of(t, field_id)
    if f is None:
        return
    turn.say.text(turn.tx.FIELD_REASK, label=f.label)
    turn.ask(st.FormField(ref=f.id, options=turn.say.field(f)))


def ask_which_field(turn: Turn, t: OneThing, d: Draft, only: list[str] | None) -> None:
    fields = [f for f in plan.fields_in_play(t, d) if f.id in d.answers and (only is None or f.id in only)]
    if not fields:
        fields = [f for f in plan.fields_in_play(t, d) if f.id in d.answers]
    turn.ask(st.PickField(options=turn.say.choices(turn.tx.WHICH_FIELD, [(f.id, f.label) for f in fields])))


def show_filled(turn: Turn) -> None:
    t, d = turn.thing(), turn.s.draft
    tx = turn.tx
    if t is None or d is None or not d.answers:
        turn.say.text(tx.FILLED_EMPTY)
        return
    lines = [tx.FILLED_TITLE]
    for f in plan.fields_in_play(t, d):
        if f.id in d.answers:
            mark = tx.PREFILLED_MARK if f.id in d.prefilled else ""
            lines.append(tx.FILLED_LINE.format(label=f.label, value=turn.show(f, d.answers[f.id], masked=True)) + mark)
    turn.say.text("\n".join(lines))
