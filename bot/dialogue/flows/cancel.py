"""Cancelling a draft: with answers in it, only after a yes that follows what will be lost; the
cancelled draft kept until the day ends, so that “恢复草稿” brings it back."""

from __future__ import annotations

from bot.dialogue import form as plan
from bot.dialogue import states as st
from bot.dialogue.fields import yes_no
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.session import Cancelled
from bot.dialogue.turn import Turn

flow = Flow("cancel")


def ask(turn: Turn) -> None:
    """“取消”: what would be lost, and a yes asked for (nothing typed yet: cancelled at once)."""
    t, d, a = turn.thing(), turn.s.draft, turn.s.awaiting
    if a is not None and a.aside:  # the complaint (or rating…) under way is what is cancelled
        turn.s.awaiting = None
        turn.say.text(turn.tx.ASIDE_DROPPED)
        return
    if t is None or d is None:
        turn.say.text(turn.tx.NOTHING_TO_CANCEL)
        return
    filled = [f.label for f in plan.fields_in_play(t, d) if f.id in d.answers]
    if (not filled and not d.commitments) or isinstance(turn.s.awaiting, st.CancelConfirm):
        # nothing typed, or “取消” / “确定取消” said again when asked: that is the yes
        _forget(turn)
        return
    before = turn.s.awaiting.model_dump() if turn.s.awaiting is not None else None
    shown = "、".join(filled[:4]) + ("等" if len(filled) > 4 else "")
    prompt = turn.tx.CANCEL_CONFIRM.format(name=t.name, count=len(filled), labels=shown)
    options = turn.say.choices(prompt, list(turn.tx.CANCEL_OPTIONS.items()))
    turn.ask(st.CancelConfirm(options=options, value=before))


@flow.state("cancel_confirm", answers="yes (cancel, restorable today) or no (back to the question)",
            goes_to=("", *NEXT), needs_draft=True)  # fmt: skip
async def answer(turn: Turn, a: st.CancelConfirm) -> bool:
    choice = turn.option(a)
    if choice is None:
        said = yes_no(turn.text)
        choice = None if said is None else "yes" if said else "no"
    if choice is None:
        return False
    if choice == "yes":
        _forget(turn)
        return True
    turn.s.awaiting = st.restore(a.value)
    turn.say.text(turn.tx.CANCEL_KEPT)
    await turn.ask_next(repeat=True)
    return True


def _forget(turn: Turn) -> None:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    turn.s.drafts.pop(t.id, None)
    turn.s.current, turn.s.awaiting = None, None
    if d.started or d.answers or d.commitments:  # begun (conditions answered, say): brought back on a word
        turn.s.cancelled = Cancelled(draft=d, on=turn.e.today())
        turn.say.text(turn.tx.CANCELLED_RESTORABLE, name=t.name)
    else:
        turn.say.text(turn.tx.CANCELLED, name=t.name)


async def restore(turn: Turn) -> None:
    """“恢复草稿”: the draft cancelled today, back in focus where it was left."""
    kept = turn.s.cancelled
    if kept is None or kept.on != turn.e.today() or turn.e.catalog.get(kept.draft.thing) is None:
        turn.s.cancelled = None
        turn.say.text(turn.tx.NOTHING_TO_RESTORE)
        return
    d = kept.draft
    turn.s.cancelled = None
    turn.s.drafts[d.thing] = d
    turn.s.current, turn.s.awaiting = d.thing, None
    turn.say.text(turn.tx.RESTORED, name=turn.e.catalog.things[d.thing].name)
    await turn.ask_next()
