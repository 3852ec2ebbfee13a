"""告知承诺: the written notice of a proof the person may promise instead of handing in, their
promise (我承诺, recorded with the time and the text signed), or the proof when they decline or are
not offered it (失信 list)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.catalog import OneThing
from bot.catalog.models import FieldType, FormField
from bot.dialogue import form as plan
from bot.dialogue import states as st
from bot.dialogue.fields import parse_value, yes_no
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.session import Commitment, Draft
from bot.dialogue.turn import Turn

flow = Flow("commitment")


def ask(turn: Turn, t: OneThing, d: Draft, m: Any) -> None:
    tx = turn.tx
    if d.false_commitment_listed or m.key in d.declined_commitments:
        turn.say.text(tx.COMMITMENT_NOT_OFFERED if d.false_commitment_listed else tx.COMMITMENT_DECLINED, name=m.name)
        turn.ask(st.Commitment(ref=m.key, value="proof"))
        return
    turn.say.text(tx.COMMITMENT_TITLE.format(name=m.name) + "\n" + text_of(turn, t, m))
    turn.say.text(tx.COMMITMENT_ASK)
    turn.ask(st.Commitment(ref=m.key))


def text_of(turn: Turn, t: OneThing, m: Any) -> str:
    items = "、".join(i.name for i in t.items if i.key in m.items)
    return str(turn.tx.COMMITMENT_BODY.format(items=items, basis=m.basis or t.name, content=m.commitment))


@flow.state("commitment", answers="我承诺 or 不承诺; declined: the proof itself",
            goes_to=NEXT, needs_draft=True)  # fmt: skip
async def answer(turn: Turn, a: st.Commitment) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    m = next((x for x in t.materials if x.key == a.ref), None)
    if m is None:
        await turn.ask_next()
        return True
    said = turn.text.replace(" ", "")
    promised = "承诺" in said and not re.search(r"不承诺|不愿意承诺|不想承诺|不同意", said)
    if a.value == "proof":
        if promised and not d.false_commitment_listed:  # “还是承诺吧”: a 不承诺 taken back
            d.declined_commitments = [k for k in d.declined_commitments if k != m.key]
            await _sign(turn, t, d, m)
            return True
        proof = FormField(id="proof", label=m.name, type=FieldType.attachment, material=m.key, help="-", example="-",
                          items=m.items)  # fmt: skip
        parsed = parse_value(proof, turn.text, turn.e.today(), turn.msg.metadata)
        if not parsed.ok:
            # the proof itself, or (when offered) the promise: never “跳过”, which would only ask again
            offer = "" if d.false_commitment_listed else turn.tx.COMMITMENT_CAN_PROMISE
            turn.say.text(turn.tx.COMMITMENT_PROOF_NEEDED, name=m.name, offer=offer)
            return True
        d.answers[plan.PROOF_PREFIX + m.key] = parsed.value
        turn.say.text(turn.tx.ATTACHMENT_RECEIVED, label=m.name)
        await turn.ask_next()
        return True
    if "不承诺" in said or said in ("2", "不"):
        d.declined_commitments.append(m.key)
        turn.say.text(turn.tx.COMMITMENT_DECLINED, name=m.name)
        turn.ask(st.Commitment(ref=m.key, value="proof"))
        return True
    if promised or said == "1":
        await _sign(turn, t, d, m)
        return True
    if yes_no(said) is not None:
        # “行”, “好”, “嗯” is not a signature: the promise is made in its own words
        turn.say.text(turn.tx.COMMITMENT_EXPLICIT)
        return True
    return False


async def _sign(turn: Turn, t: OneThing, d: Draft, m: Any) -> None:
    at = datetime.now(UTC)
    d.commitments[m.key] = Commitment(at=at, text=text_of(turn, t, m), version=t.version)
    turn.say.text(turn.tx.COMMITMENT_RECORDED, at=at.astimezone().strftime("%Y-%m-%d %H:%M"))
    await turn.ask_next()
