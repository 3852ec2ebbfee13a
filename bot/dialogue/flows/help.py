"""When the assistant did not understand twice: numbered ways out (go on with the open question,
the catalog, a person, a question for 12345 to answer later, start over)."""

from __future__ import annotations

from bot.dialogue import states as st
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.turn import Turn

flow = Flow("help")


def offer(turn: Turn) -> None:
    tx = turn.tx
    before = turn.s.awaiting
    # offered again: keep what the first offer kept, not the offer inside the offer (the session grew
    # a level each time)
    kept = before.value if isinstance(before, st.Help) else before.model_dump() if before is not None else None
    options = [("list", tx.HELP_OPTIONS["list"]), ("human", tx.HELP_OPTIONS["human"]),
               ("restart", tx.HELP_OPTIONS["restart"])]  # fmt: skip
    if turn.e.appeals is not None:  # a question the bot cannot answer: 12345 answers it later
        options.insert(2, ("ask", tx.HELP_OPTIONS["ask"]))
    if kept is not None:  # a question was open, however many offers ago: it can be taken up again
        options.insert(0, ("continue", tx.HELP_CONTINUE))
    turn.s.misunderstood = 0
    turn.ask(st.Help(options=turn.say.choices(tx.NOT_UNDERSTOOD_AGAIN, options), value=kept))


@flow.state("help", answers="one of the ways out", goes_to=("pick_thing", "complaint", "", *NEXT, "start"))
async def answer(turn: Turn, a: st.Help) -> bool:
    choice = turn.option(a)
    if choice is None and a.value is not None:
        # not a way out, maybe the answer to the question open before (an ID number typed): tried
        # there, and taken only if it answers it (else the offer stands, as if not tried)
        said, misunderstood = len(turn.say.replies), turn.s.misunderstood
        turn.s.awaiting = st.restore(a.value)
        if await turn.go.answer(turn) and not turn.failed:
            return True
        if turn.failed and isinstance(turn.s.awaiting, st.FormField):
            # an answer to the form that did not fit (an address where the ID is asked): what was wrong
            # and the question again, better than the ways out again or “not ours to do”
            return True
        del turn.say.replies[said:]
        turn.s.awaiting, turn.s.misunderstood, turn.failed = a, misunderstood, False
        return False
    if choice == "human":
        await turn.go.handoff(turn, "not_understood")
    elif choice == "ask":
        await turn.go.follow_up(turn)
    elif choice == "list":
        turn.go.show_catalog(turn)
    elif choice == "restart":
        await turn.go.command(turn, "restart")
    elif choice == "continue":
        # the draft knows what comes next; repeating "the pending question" here repeated this offer
        turn.s.awaiting = None
        if turn.thing() is None:
            turn.go.show_catalog(turn)
        else:
            await turn.ask_next(back=True)
    return choice is not None
