"""A person on the line: into the agents' queue (once; asking again says where they stand), out of
it, and a draft an agent began on the phone continued here with the code of its SMS."""

from __future__ import annotations

import re

from bot.dialogue import states as st
from bot.dialogue.fields import parse_value
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.session import Draft
from bot.dialogue.turn import Turn
from bot.handover.phone import CodeLocked

flow = Flow("handover")
PHONE_CODE = re.compile(r"(办事码|验证码)?[:：\s]*(\d{6})")  # the code an agent's SMS gave


async def handoff(turn: Turn, reason: str, template: str | None = None) -> None:
    """Into the line for a hotline agent (once: asking again says where they stand)."""
    turn.s.handoff = True
    turn.events.append(f"handoff:{reason}")
    desk = turn.e.desk
    if desk is None:
        turn.say.handoff(reason, template)
        return
    t = turn.thing()
    ticket, new = await desk.open(turn.s.user, turn.msg.channel, t.id if t else None, reason)
    turn.s.handover = ticket.id
    ahead = await desk.position(ticket) - 1
    place = turn.tx.QUEUE_NEXT if ahead == 0 else turn.tx.QUEUE_AHEAD.format(ahead=ahead)  # not “前面还有 0 位”
    line = (turn.tx.HANDOFF_QUEUED if new else turn.tx.HANDOFF_STILL_QUEUED).format(place=place)
    turn.say.handoff(reason, f"{template}\n{line}" if template else line)


async def withdraw(turn: Turn) -> None:
    if turn.e.desk is not None and turn.s.handover and await turn.e.desk.withdraw(turn.s.handover):
        turn.s.handoff, turn.s.handover = False, None
        turn.say.text(turn.tx.HANDOFF_WITHDRAWN)
        await turn.ask_next(repeat=True, back=True)
        return
    turn.say.text(turn.tx.HANDOFF_NONE)


# ---- a draft an agent started on the phone, continued here with its code ----------------------


def phone_code(turn: Turn) -> str | None:
    """The six digits of an agent's SMS, when that is what the message is (not an answer that
    happens to be six digits)."""
    code = PHONE_CODE.fullmatch(turn.text)
    if code is None or turn.e.phone_drafts is None:
        return None
    if code.group(1) or turn.s.awaiting is None or not turn.s.awaiting.digits:
        return code.group(2)
    return None


async def phone_draft(turn: Turn, code: str) -> None:
    """It opens the draft only with the phone number it was sent to, which the channel may know (a
    caller's number) or the person is asked for."""
    if turn.s.phone is not None:
        await redeem(turn, code, turn.s.phone, turn.s.awaiting)
        return
    before = turn.s.awaiting.model_dump() if turn.s.awaiting is not None else None
    turn.ask(st.PhoneCodePhone(value={"code": code, "before": before}))
    turn.say.text(turn.tx.PHONE_CODE_ASK_PHONE)


@flow.state("phone_code_phone", answers="the mobile number the SMS went to",
            goes_to=(*NEXT, "start", ""))  # fmt: skip
async def answer_phone(turn: Turn, a: st.PhoneCodePhone) -> bool:
    phone = turn.mobile()
    if not re.search(r"\d", turn.text):
        return False  # no number at all: perhaps a question, or another need
    if phone is None:
        turn.failed = True
        turn.say.text(turn.tx.PHONE_CODE_PHONE_AGAIN)
        return True
    await redeem(turn, a.value["code"], phone, st.restore(a.value.get("before")))
    return True


async def redeem(turn: Turn, code: str, phone: str, before: st.Awaiting | None) -> None:
    assert turn.e.phone_drafts is not None
    turn.s.awaiting = before  # what was asked before the code came, should it not open a draft
    try:
        found = await turn.e.phone_drafts.redeem(code, turn.s.user, phone)
    except CodeLocked:
        turn.say.text(turn.tx.PHONE_CODE_LOCKED)
        return
    thing = turn.e.catalog.get(found[0]) if found is not None else None
    if found is None or thing is None:
        turn.say.text(turn.tx.PHONE_CODE_WRONG)
        return
    answers = found[1]
    d = turn.s.drafts.setdefault(thing.id, Draft(thing=thing.id, catalog_version=thing.version))
    d.started = True
    for f in thing.form.fields:  # what the caller said, read with the chat's own validators
        if f.id in answers and f.id not in d.answers:
            parsed = parse_value(f, str(answers[f.id]), turn.e.today())
            if parsed.ok:
                d.answers[f.id] = parsed.value
    turn.s.current, turn.s.awaiting = thing.id, None
    turn.say.text(turn.tx.PHONE_DRAFT_RESUMED, name=thing.name, count=len(d.answers))
    await turn.ask_next()
