"""Where a message goes: the state table (every state, the flow that owns it, what answers it,
where it can go) and the order in which a message is read — a command first, an agent's code, then
the answer to what was asked, else what the person wants (``identify``).

It is also the one place that knows every flow, so it carries the flows' calls to each other
(``Flows``): a flow imports none of the flows it hands over to."""

from __future__ import annotations

from bot.catalog import OneThing
from bot.dialogue import states as st
from bot.dialogue.commands import command_of
from bot.dialogue.flows import (
    cancel,
    commands,
    commitment,
    complaint,
    eligibility,
    form,
    guide,
    handover,
    help,
    identify,
    progress,
    rating,
    review,
    shared,
    supplement,
)
from bot.dialogue.flows.base import NEXT, Flow, State
from bot.dialogue.session import Draft
from bot.dialogue.turn import WISH, Turn
from bot.nlu.cues import LEAVING, NOT_A_COMPLAINT

FLOWS: tuple[Flow, ...] = (
    identify.flow, guide.flow, eligibility.flow, shared.flow, form.flow, commitment.flow, review.flow, cancel.flow,
    progress.flow, supplement.flow, rating.flow, complaint.flow, handover.flow, help.flow,
)  # fmt: skip
TABLE: dict[str, State] = {s.kind: s for f in FLOWS for s in f.states}
if set(TABLE) != set(st.KINDS):  # a state without a handler, or a handler of no declared state
    raise RuntimeError(f"state table and states differ: {sorted(set(TABLE) ^ set(st.KINDS))}")


async def route(turn: Turn) -> None:
    """One message, read in order: the guide's changes told, then a command, an agent's SMS code,
    the answer to the open question, and else what the person wants."""
    guide.follow_changes(turn)
    if not turn.text and not turn.msg.metadata.get("attachments"):
        turn.say.text(turn.tx.WELCOME)
        return
    name = command_of(turn.text, turn.elderly)
    if name and await commands.run(turn, name):
        return
    if form.correct_named(turn):  # “申请情形填错了” while a condition is asked: that answer asked again
        return
    code = handover.phone_code(turn)
    if code is not None:
        await handover.phone_draft(turn, code)
        return
    a = turn.s.awaiting
    if a is not None and await way_out(turn, a):
        if not turn.text:  # “我不投诉！” and nothing else: what can be done for them, then
            turn.say.text(turn.tx.ANYTHING_ELSE)
            return
    elif a is not None and await answer(turn, a):
        if not turn.failed:
            turn.s.misunderstood = 0
        return
    await identify.understand(turn)


LEAVING_ALONE = 10  # “好的谢谢 再见”: a goodbye this short is not an answer to anything


async def way_out(turn: Turn, a: st.Awaiting) -> bool:
    """The message leaves the open question instead of answering it: a goodbye, “不是投诉”, or a
    clear wish for a one-thing while a complaint or a rating takes free words (which would take
    anything). True when the open question was let go (the message is then read afresh)."""
    if LEAVING.search(turn.text) and len(turn.text) <= LEAVING_ALONE:
        return True  # the goodbye is said by ``identify``; the question stays for when they come back
    if not a.aside:
        return False
    denied = NOT_A_COMPLAINT.search(turn.text) if a.kind.startswith("complaint") else None
    if denied:
        turn.s.awaiting = None
        turn.say.text(turn.tx.COMPLAINT_DROPPED)
        rest = (turn.text[: denied.start()] + turn.text[denied.end() :]).strip()
        turn.reread(rest)
        return True
    if len(turn.text) <= LEAVING_ALONE and (await turn.reading()).act in ("thanks", "goodbye"):
        turn.s.awaiting = None  # “谢谢啊” is not what happened, nor a name
        return True
    if WISH.search(turn.text):
        reading = await turn.reading()
        if reading.act == "apply" and reading.thing is not None:
            turn.s.awaiting = None
            return True
    return False


async def answer(turn: Turn, a: st.Awaiting) -> bool:
    """True when the message answered the open question (its state's handler took it)."""
    state = TABLE[a.kind]
    if state.needs_draft and (turn.s.draft is None or turn.thing() is None):
        return False
    return await state.handler(turn, a)


class Hub:
    """The flows' calls to each other (``bot.dialogue.turn.Flows``)."""

    async def answer(self, turn: Turn) -> bool:
        return turn.s.awaiting is not None and await answer(turn, turn.s.awaiting)

    async def ask_next(self, turn: Turn, repeat: bool = False, back: bool = False) -> None:
        await form.ask_next(turn, repeat, back)

    async def command(self, turn: Turn, name: str) -> bool:
        return await commands.run(turn, name)

    async def handoff(self, turn: Turn, reason: str, template: str | None = None) -> None:
        await handover.handoff(turn, reason, template)

    async def follow_up(self, turn: Turn) -> None:
        await complaint.follow_up(turn)

    async def progress(self, turn: Turn) -> None:
        await progress.show(turn)

    async def start_thing(self, turn: Turn, thing_id: str) -> None:
        await identify.start_thing(turn, thing_id)

    async def submit(self, turn: Turn) -> None:
        await review.submit(turn)

    def show_catalog(self, turn: Turn) -> None:
        identify.show_catalog(turn)

    def offer_help(self, turn: Turn) -> None:
        help.offer(turn)

    def cancel(self, turn: Turn) -> None:
        cancel.ask(turn)

    def ask_which_field(self, turn: Turn, t: OneThing, d: Draft, only: list[str] | None) -> None:
        form.ask_which_field(turn, t, d, only)


HUB = Hub()


def rows() -> list[tuple[str, str, str, str]]:
    """The table as (state, owner flow, what answers it, where it can go), in the flows' order."""
    return [(s.kind, s.flow, s.answers, _targets(s.goes_to)) for s in TABLE.values()]


def _targets(goes_to: tuple[str, ...]) -> str:
    shown = [k for k in goes_to if k not in NEXT]
    if set(NEXT) <= set(goes_to):
        shown.insert(0, "(the draft's next question)")
    else:
        shown = [k for k in goes_to]
    return ", ".join(k or "(closes)" for k in shown)
