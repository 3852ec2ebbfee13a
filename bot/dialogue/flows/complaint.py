"""A complaint (投诉), or a question the assistant could not answer (留言咨询): a 12345 work order
with the conversation's context, once what it needs is known (what happened, a name, a phone)."""

from __future__ import annotations

import re

from bot.appeals.orders import DEFAULT_DEPARTMENT, Appeal
from bot.appeals.region import region_of
from bot.dialogue import states as st
from bot.dialogue.fields import person_name
from bot.dialogue.flows.base import Flow
from bot.dialogue.turn import Turn
from bot.masking import mask_text

flow = Flow("complaint")
COMPLAINT_WORDS = re.compile(r"我要|我想|投诉|举报|你们|这个|[，。！!,. ]")


async def start(turn: Turn) -> None:
    tx = turn.tx
    if turn.e.appeals is None:
        await turn.go.handoff(turn, "complaint", tx.COMPLAINT.format(supervise=tx.COMPLAINT_PHONE))
        return
    told = turn.text if len(COMPLAINT_WORDS.sub("", turn.text)) >= 4 else ""
    await next_step(turn, {"content": told} if told else {})


async def follow_up(turn: Turn) -> None:
    """A question the bot could not answer, left for 12345 to answer (a 咨询 work order)."""
    if turn.e.appeals is None:
        await turn.go.handoff(turn, "not_understood")
        return
    await next_step(turn, {"kind": "咨询"})


async def next_step(turn: Turn, known: dict[str, str]) -> None:
    """Ask for what the work order still lacks, or open it (a 投诉, or a 咨询 to follow up)."""
    tx = turn.tx
    name, phone = turn.contact()
    known.setdefault("name", name or "")
    known.setdefault("phone", phone or "")
    question = known.get("kind") == "咨询"
    asks: list[tuple[str, type[st.Complaint | st.ComplaintName | st.ComplaintPhone], str]] = [
        ("content", st.Complaint, tx.FOLLOW_UP_ASK if question else tx.COMPLAINT_ASK),
        ("name", st.ComplaintName, tx.COMPLAINT_NAME),
        ("phone", st.ComplaintPhone, tx.COMPLAINT_PHONE_ASK),
    ]
    for key, state, ask in asks:
        if not known.get(key):
            turn.say.text(ask)
            turn.ask(state(value=known))
            return
    assert turn.e.appeals is not None
    t = turn.thing()
    context = "\n".join(mask_text(str(r.get("text", ""))) for r in turn.s.last_replies[-3:])
    await turn.e.appeals.open(
        Appeal(
            user=turn.s.user,
            channel=turn.msg.channel,
            kind="咨询" if question else "投诉",
            content=mask_text(known["content"])[:2000],
            name=known["name"],
            phone=known["phone"],
            region=region_of(turn.known_id()),
            department=t.lead[0] if t else DEFAULT_DEPARTMENT,
            context=(f"正在办理：{t.name}\n" if t else "") + context,
            thing_id=t.id if t else None,
        )
    )
    turn.s.awaiting = None
    if question:
        turn.say.text(tx.FOLLOW_UP_TAKEN)
        return
    await turn.go.handoff(turn, "complaint", tx.COMPLAINT_TAKEN)


@flow.state("complaint", answers="what happened (or the question for 12345)",
            goes_to=("complaint_name", "complaint_phone", ""))  # fmt: skip
async def answer_content(turn: Turn, a: st.Complaint) -> bool:
    if not turn.text:
        return False
    await next_step(turn, {**a.value, "content": turn.text})
    return True


@flow.state("complaint_name", answers="a person's name", goes_to=("complaint_phone", ""))
async def answer_name(turn: Turn, a: st.ComplaintName) -> bool:
    said = person_name(turn.text)
    if not said.ok:
        return False  # “饭店”, “开始办理”: read afresh
    await next_step(turn, {**a.value, "name": str(said.value)})
    return True


@flow.state("complaint_phone", answers="a mobile number", goes_to=("",))
async def answer_phone(turn: Turn, a: st.ComplaintPhone) -> bool:
    phone = turn.mobile()
    if phone is None:
        turn.failed = True
        turn.say.text(turn.tx.COMPLAINT_PHONE_ASK)
        return True
    await next_step(turn, {**a.value, "phone": phone})
    return True
