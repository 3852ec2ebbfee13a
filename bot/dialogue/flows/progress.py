"""查进度: the person's applications and each item's status (one, when a 申办编号 is named)."""

from __future__ import annotations

from bot.dialogue.flows.base import Flow
from bot.dialogue.turn import Turn

flow = Flow("progress")  # owns no state: it answers and the conversation goes on


async def show(turn: Turn) -> None:
    tx = turn.tx
    number = next((s["value"] for s in (await turn.nlu()).get("entities", []) if s["entity"] == "application_no"), None)
    apps = await turn.e.applications.progress(turn.s.user, number)
    if number and not apps:
        turn.say.text(tx.PROGRESS_NOT_FOUND, number=number)
        return
    named = (await turn.reading()).thing if number is None else None
    if not apps:
        thing = turn.e.catalog.get(named) if named else None
        # “之前办的新生儿落户审批完了吗”: that one-thing named back, and where else it can be asked
        turn.say.text(tx.PROGRESS_NONE_NAMED.format(name=thing.name) if thing else tx.PROGRESS_NONE)
        return
    lines = [tx.PROGRESS_TITLE]
    if named is not None:  # “新生儿落户审批完了吗”: that application, when there is one
        mine = [a for a in apps if a["thing"] == named]
        thing = turn.e.catalog.get(named)
        if mine:
            apps = mine
        elif thing is not None:
            lines = [tx.PROGRESS_NONE_FOR.format(name=thing.name)]
    for app in apps:
        thing = turn.e.catalog.get(app["thing"])
        lines.append(tx.PROGRESS_APPLICATION.format(name=thing.name if thing else app["thing"],
                                                    number=app["number"] or tx.PROGRESS_PENDING_NUMBER, at=app["at"]))  # fmt: skip
        for item in app["items"]:
            lines.append(tx.PROGRESS_ITEM.format(item=item["name"], status=item["status"]))
    turn.say.text("\n".join(lines))
