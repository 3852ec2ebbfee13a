"""What a person may say at any point, whatever was asked (``bot/dialogue/commands.py`` tells them
from the words): the catalog, go on, a person, cancel, start over, progress, 补正, rating, 长辈模式,
what is filled, say it again, skip, submit. Each hands over to the flow that does it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.dialogue import states as st
from bot.dialogue.flows import cancel, complaint, form, handover, identify, progress, rating, review, supplement
from bot.dialogue.turn import Turn
from bot.nlu.cues import asked_act

Command = Callable[[Turn], Awaitable[bool]]


async def run(turn: Turn, name: str) -> bool:
    """True when the command was done (``skip`` and ``submit`` only make sense in places)."""
    command = COMMANDS.get(name)
    return command is not None and await command(turn)


def _done(action: Callable[[Turn], Awaitable[None] | None]) -> Command:
    async def run_it(turn: Turn) -> bool:
        result = action(turn)
        if result is not None:
            await result
        return True

    return run_it


async def _calls(turn: Turn, wanted: bool) -> bool:
    if turn.e.contacts is None:
        return False
    await turn.e.contacts.set_wants_calls(turn.s.user, wanted)
    turn.say.text(turn.tx.CALLS_ON if wanted else turn.tx.CALLS_OFF)
    await turn.ask_next(repeat=True, back=True)
    return True


async def _restart(turn: Turn) -> bool:
    """重新开始: from the welcome again; a draft with answers is kept, for “继续办理”, not erased."""
    d, t = turn.s.draft, turn.thing()
    if d is not None and not (d.answers or d.commitments):
        turn.s.drafts.pop(d.thing, None)
    turn.s.current, turn.s.awaiting, turn.s.misunderstood = None, None, 0
    turn.say.text(turn.tx.RESTARTED)
    if t is not None and d is not None and d.thing in turn.s.drafts:
        turn.say.text(turn.tx.RESTART_KEPT, name=t.name)
    turn.say.text(turn.tx.WELCOME)
    return True


async def _style(turn: Turn, style: str, said: str) -> bool:
    turn.set_style(style)
    turn.say.text(getattr(turn.tx, said))
    if turn.s.awaiting is None and len(turn.text) > SAID_MORE:
        # “字太小了看不清 能不能找个人给我打个电话”: the switch, and what else was asked
        reading = await turn.reading()
        besides = asked_act(turn.text) or ("apply" if reading.thing else None)
        if besides is not None:
            turn.settle_act(besides)  # what is asked beside the switch (the classifier heard only the switch)
            await identify.understand(turn)
            return True
    await turn.ask_next(repeat=True)
    return True


SAID_MORE = 12  # characters: a message this long says more than “长辈模式”


async def _show_filled(turn: Turn) -> bool:
    form.show_filled(turn)
    await turn.ask_next(repeat=True)
    return True


async def _repeat(turn: Turn) -> bool:
    """“再说一遍”, 9: what was said last, without the “没听明白” before the question (said again, it
    would answer a request to repeat with a misunderstanding)."""
    tx = turn.tx
    noise = tuple(x[:8] for x in (tx.NOT_UNDERSTOOD, tx.NOT_UNDERSTOOD_ABOUT, tx.NOT_ANSWERED))
    kept = [r for r in turn.s.last_replies if not str(r.get("text", "")).startswith((*noise, tx.BACK_TO))]
    for r in kept or turn.s.last_replies:
        turn.say.replies.append(form.without_footer(r, tx.FOOTER))
    return True


async def _submit(turn: Turn) -> bool:
    if not isinstance(turn.s.awaiting, st.Review):
        return False
    await review.submit(turn)
    return True


async def _handoff(turn: Turn) -> bool:
    await handover.handoff(turn, "requested")
    return True


COMMANDS: dict[str, Command] = {
    "catalog": _done(identify.show_catalog),
    "resume": _done(identify.resume),
    "handoff": _handoff,
    "handoff_cancel": _done(handover.withdraw),
    "follow_up": _done(complaint.follow_up),
    "complaint": _done(complaint.start),  # from the NLU only: a complaint has no fixed words
    "calls_on": lambda turn: _calls(turn, True),
    "calls_off": lambda turn: _calls(turn, False),
    "cancel": _done(cancel.ask),
    "restore": _done(cancel.restore),
    "restart": _restart,
    "progress": _done(progress.show),
    "supplement": _done(supplement.start),
    "rate": _done(rating.prompt),
    "elderly_on": lambda turn: _style(turn, "elderly", "ELDERLY_ON"),
    "elderly_off": lambda turn: _style(turn, "standard", "ELDERLY_OFF"),
    "show_filled": _show_filled,
    "repeat": _repeat,
    "skip": form.skip,
    "submit": _submit,
}
