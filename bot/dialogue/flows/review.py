"""The whole form once more before it goes (review), then submit, edit or cancel."""

from __future__ import annotations

import logging

from bot.catalog import OneThing
from bot.catalog.models import FieldType
from bot.dialogue import form as plan
from bot.dialogue import states as st
from bot.dialogue.fields import yes_no
from bot.dialogue.flows.base import Flow
from bot.dialogue.session import Draft
from bot.dialogue.turn import Turn

log = logging.getLogger(__name__)
flow = Flow("review")


def review(turn: Turn, t: OneThing, d: Draft) -> None:
    tx = turn.tx
    # names in full, so that a name typed wrong is seen (the person typed or was verified for them);
    # numbers and addresses masked, as everywhere they are shown back
    lines = [
        (f.label, turn.show(f, d.answers[f.id], masked=f.type is not FieldType.name))
        for f in plan.fields_in_play(t, d)
        if f.id in d.answers
    ]
    notes = []
    shared = plan.shared_names(t, d)
    if shared:
        notes.append(tx.REVIEW_MATERIALS_SHARED.format(names="、".join(shared)))
    later = plan.missing_tolerable(t, d)
    if later:
        notes.append(tx.REVIEW_MATERIALS_LATER.format(names="、".join(m.name for m in later)))
    if d.commitments:
        names = [m.name for m in t.materials if m.key in d.commitments]
        notes.append(tx.REVIEW_COMMITMENTS.format(names="、".join(names)))
    if d.flags:
        notes.append(tx.REVIEW_FLAGS.format(notes="、".join(tx.USCC_FLAGGED for _ in d.flags[:1])))
    turn.say.review(t, lines, notes)
    turn.ask(st.Review(options=turn.say.choices(tx.REVIEW_ASK, list(tx.REVIEW_OPTIONS.items()))))


@flow.state("review", answers="submit, edit or cancel", goes_to=("", "pick_field"), needs_draft=True)
async def answer(turn: Turn, a: st.Review) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    choice = turn.option(a)
    if choice is None:
        choice = "submit" if yes_no(turn.text) else None
    if choice == "submit":
        await submit(turn)
    elif choice == "edit":
        turn.go.ask_which_field(turn, t, d, None)
    elif choice == "cancel":
        turn.go.cancel(turn)
    return choice is not None


async def submit(turn: Turn) -> None:
    t, d = turn.thing(), turn.s.draft
    if t is None or d is None:
        return
    try:
        await turn.e.applications.submit(turn.s, t, d)
    except Exception:
        log.exception("could not store an application")
        turn.say.text(turn.tx.SUBMIT_FAILED)
        return
    turn.s.drafts.pop(t.id, None)
    turn.s.current, turn.s.awaiting = None, None
    turn.say.text(turn.tx.SUBMITTED)
    if turn.s.pending:  # the other need said at the start, now in turn
        following = turn.s.pending.pop(0)
        if following in turn.e.catalog.things:
            turn.say.text(turn.tx.NEXT_NEED, name=turn.e.catalog.things[following].name)
            await turn.go.start_thing(turn, following)
