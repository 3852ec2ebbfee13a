"""补正: what an item in 需补正 asked for, handed in here (a photo or a few words)."""

from __future__ import annotations

from typing import Any

from bot.dialogue import states as st
from bot.dialogue.flows.base import Flow
from bot.dialogue.turn import Turn

flow = Flow("supplement")
Pending = dict[str, tuple[str, str, dict[str, Any]]]  # "number|item" → (thing name, item name, detail)


async def pending(turn: Turn) -> Pending:
    """Every item of the person's applications waiting for 补正."""
    out: Pending = {}
    for app in await turn.e.applications.progress(turn.s.user):
        thing = turn.e.catalog.get(app["thing"])
        for item in app["items"]:
            if item["status"] == "需补正" and app["number"]:
                name = thing.name if thing else app["thing"]
                out[f"{app['number']}|{item['key']}"] = (name, item["name"], item.get("detail") or {})
    return out


async def start(turn: Turn) -> None:
    waiting = await pending(turn)
    if not waiting:
        turn.say.text(turn.tx.SUPPLEMENT_NONE)
        return
    if len(waiting) == 1:
        await ask(turn, next(iter(waiting)), waiting)
        return
    options = [(ref, f"{thing}·{item}") for ref, (thing, item, _) in waiting.items()]
    turn.ask(st.SupplementPick(options=turn.say.choices(turn.tx.SUPPLEMENT_PICK, options)))


async def ask(turn: Turn, ref: str, waiting: Pending | None = None) -> None:
    waiting = waiting if waiting is not None else await pending(turn)
    if ref not in waiting:
        turn.say.text(turn.tx.SUPPLEMENT_GONE)
        return
    _, item, detail = waiting[ref]
    missing = "、".join(detail.get("missing") or []) or detail.get("reason") or item
    turn.say.text(turn.tx.SUPPLEMENT_ASK, item=item, missing=missing)
    turn.ask(st.Supplement(ref=ref))


@flow.state("supplement_pick", answers="which item to hand in for", goes_to=("supplement",))
async def answer_pick(turn: Turn, a: st.SupplementPick) -> bool:
    choice = turn.option(a)
    if choice is None:
        return False
    await ask(turn, choice)
    return True


@flow.state("supplement", answers="a photo or file, or the words asked for", goes_to=("",))
async def answer(turn: Turn, a: st.Supplement) -> bool:
    files = [str(f) for f in turn.msg.metadata.get("attachments") or []]
    if not files and not turn.text:
        turn.say.text(turn.tx.SUPPLEMENT_EMPTY)
        return True
    number, item_key = a.ref.split("|", 1) if "|" in a.ref else (a.ref, "")
    waiting = await pending(turn)
    if a.ref not in waiting:
        turn.s.awaiting = None
        turn.say.text(turn.tx.SUPPLEMENT_GONE)
        return True
    await turn.e.applications.supplement(turn.s.user, number, item_key, turn.text, files)
    turn.s.awaiting = None
    turn.say.text(turn.tx.SUPPLEMENT_TAKEN, item=waiting[a.ref][1])
    return True
