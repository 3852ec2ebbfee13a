"""好差评: rating a finished application, or a conversation with an agent, on the five national
levels; a 差评 asks what went wrong and goes to 12345 (nobody is pressed to rate)."""

from __future__ import annotations

from bot.appeals.region import region_of
from bot.applications.ratings import BAD, FINISHED, LEVELS
from bot.dialogue import states as st
from bot.dialogue.flows.base import Flow
from bot.dialogue.turn import Turn
from bot.masking import mask_text

flow = Flow("rating")
HANDOVER = "handover:"  # a rating's subject: an agent conversation, not an application


def _levels(turn: Turn) -> list[str]:
    return turn.say.choices(turn.tx.RATE_CHOOSE, [(str(score), label) for score, label in LEVELS.items()])


async def prompt(turn: Turn) -> None:
    tx = turn.tx
    if turn.s.rate_handover and turn.e.ratings is not None:  # an agent conversation just ended
        turn.say.text(tx.RATE_AGENT_ASK)
        turn.ask(st.Rating(ref=HANDOVER + turn.s.rate_handover, options=_levels(turn)))
        return
    finished = [
        a
        for a in await turn.e.applications.progress(turn.s.user)
        if a["items"] and all(i["status"] in FINISHED for i in a["items"])
    ]
    if turn.e.ratings is None or not finished:
        turn.say.text(tx.RATE_NONE)
        return
    app = finished[0]  # the newest
    thing = turn.e.catalog.get(app["thing"])
    turn.say.text(tx.RATE_ASK, name=thing.name if thing else app["thing"])
    turn.ask(st.Rating(ref=app["id"], options=_levels(turn)))


@flow.state("rating", answers="one of the five levels", goes_to=("rating_comment", ""))
async def answer(turn: Turn, a: st.Rating) -> bool:
    choice = turn.option(a)
    if choice is None:
        return False
    score = int(choice)
    if score <= BAD:
        turn.say.text(turn.tx.RATE_WHY)
        turn.ask(st.RatingComment(ref=a.ref, value=score))
        return True
    await record(turn, a.ref, score, "")
    return True


@flow.state("rating_comment", answers="what went wrong, in the person's words", goes_to=("rating_phone", ""))
async def answer_comment(turn: Turn, a: st.RatingComment) -> bool:
    if a.ref.startswith(HANDOVER) and turn.contact()[1] is None:
        # 12345 calls the person back: it needs a number (applications carry theirs)
        turn.say.text(turn.tx.COMPLAINT_PHONE_ASK)
        turn.ask(st.RatingPhone(ref=a.ref, value={"score": a.value, "comment": turn.text}))
        return True
    await record(turn, a.ref, a.value, turn.text)
    return True


@flow.state("rating_phone", answers="a mobile number for 12345 to call back", goes_to=("",))
async def answer_phone(turn: Turn, a: st.RatingPhone) -> bool:
    phone = turn.mobile()
    if phone is None:
        turn.failed = True
        turn.say.text(turn.tx.COMPLAINT_PHONE_ASK)
        return True
    await record(turn, a.ref, int(a.value["score"]), str(a.value["comment"]), phone)
    return True


async def record(turn: Turn, subject: str, score: int, comment: str, phone: str | None = None) -> None:
    assert turn.e.ratings is not None
    turn.s.awaiting = None
    if subject.startswith(HANDOVER):
        turn.s.rate_handover = None
        name, known_phone = turn.contact()
        context = "\n".join(mask_text(str(r.get("text", ""))) for r in turn.s.last_replies[-3:])
        rating = await turn.e.ratings.rate_conversation(
            turn.s.user, turn.msg.channel, subject.removeprefix(HANDOVER), score, comment, context,
            name=name or "", phone=phone or known_phone or "", region=region_of(turn.known_id()),
        )  # fmt: skip
    else:
        rating = await turn.e.ratings.rate(turn.s.user, subject, score, comment)
    turn.say.text(turn.tx.RATE_BAD_TAKEN if rating.work_order is not None else turn.tx.RATE_THANKS)
