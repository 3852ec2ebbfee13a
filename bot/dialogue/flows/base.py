"""A flow declares the states it owns and how each is answered (as aiogram 3's ``Router`` with its
``StatesGroup``): ``flow = Flow("form")``, then ``@flow.state("field", answers=…, goes_to=…)`` on the
handler. The router (``bot/dialogue/router.py``) gathers every flow's states into one table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.turn import Turn

Handler = Callable[[Turn, Any], Awaitable[bool]]  # (turn, awaiting) → True when the message answered it
# whatever the draft asks next (``flows/form.py``: next_question), as a state's ``goes_to``
NEXT = ("eligibility", "proxy", "consent", "prefill_confirm", "field", "commitment", "review")


@dataclass(frozen=True)
class State:
    kind: str
    flow: str
    handler: Handler
    answers: str  # what answers it, in a few words
    goes_to: tuple[str, ...]  # the states an answer may lead to ("" : none, the question closes)
    needs_draft: bool = False  # read only with a draft in focus (else the message is understood afresh)


@dataclass
class Flow:
    name: str
    states: list[State] = field(default_factory=list)

    def state(
        self, kind: str, answers: str, goes_to: tuple[str, ...] = (), needs_draft: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.states.append(State(kind, self.name, handler, answers, goes_to, needs_draft))
            return handler

        return register
