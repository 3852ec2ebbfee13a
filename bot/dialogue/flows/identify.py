"""Which one-thing the person needs: a free message understood (a thing, a question about it,
progress, a person, a complaint…), the catalog or the few things a message could mean, starting a
one-thing (its guide), and going back to a draft."""

from __future__ import annotations

from bot.dialogue import states as st
from bot.dialogue.flows import guide
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.messages import Choice, ChoicesReply
from bot.dialogue.session import Draft
from bot.dialogue.turn import ASK_INTENTS, FALLBACK_INTENT, THING_PREFIX, Turn

flow = Flow("identify")


async def understand(turn: Turn) -> None:
    """A message that answers no pending question: what does the person want, and of what?"""
    result = await turn.nlu()
    reading = await turn.reading()
    name = result["intent"]["name"]
    thing = reading.thing if reading.thing in turn.e.catalog.things else None
    tx = turn.tx
    if name == FALLBACK_INTENT:
        turn.events.append("fallback")
    if any(e["entity"] == "application_no" for e in result.get("entities", [])) or reading.act == "progress":
        await turn.go.progress(turn)  # a 申办编号 on its own asks for that application; a thing, for its own
        turn.s.misunderstood = 0
        return
    if reading.act == "apply" and thing is not None:
        ambiguous = result.get("ambiguous")
        if ambiguous and all(x.startswith(THING_PREFIX) for x in ambiguous):
            offer_things(turn, [x[len(THING_PREFIX) :] for x in ambiguous])
        else:
            await start_thing(turn, thing)
        turn.s.misunderstood = 0
        return
    if reading.act in ASK_INTENTS:
        turn.s.misunderstood = 0
        busy = turn.s.draft is not None and turn.s.draft.started
        if thing is not None and thing != turn.s.current and not busy:
            # “孩子上户口要带啥”: that guide's answer, and the thing in focus for “那要多久”
            focus(turn, thing)
            guide.answer_question(turn, reading.act)
            guide.ask_start(turn)
            return
        # about the thing in focus, or (in the middle of a form) about another: answered, the form goes on
        guide.answer_question(turn, reading.act, thing)
        await turn.ask_next(repeat=True, back=True)
        return
    simple = {"greet": tx.GREET_BACK, "thanks": tx.THANKS, "goodbye": tx.GOODBYE}
    if reading.act in simple:
        turn.say.text(simple[reading.act])
        turn.s.misunderstood = 0
        if reading.act != "goodbye":
            await turn.ask_next(repeat=True, back=True)
        else:
            turn.ended = True
        return
    commands = {"human": "handoff", "complaint": "complaint", "elderly_mode": "elderly_on", "cancel": "cancel"}
    if reading.act in commands:
        await turn.go.command(turn, commands[reading.act])
        return
    candidates = [
        r["name"][len(THING_PREFIX) :]
        for r in result.get("intent_ranking", [])[:5]
        if r["name"].startswith(THING_PREFIX) and r["confidence"] >= 0.1
    ][:3]
    turn.s.misunderstood += 1
    if turn.s.misunderstood >= 2:
        turn.go.offer_help(turn)
    elif candidates and turn.s.awaiting is None:
        offer_things(turn, candidates)
    else:
        focused = turn.thing()  # the example fits the conversation: not 上户口 to someone burying a parent
        turn.say.text(tx.NOT_UNDERSTOOD_ABOUT.format(name=focused.name) if focused else tx.NOT_UNDERSTOOD)
        await turn.ask_next(repeat=True, back=True)


def offer_things(turn: Turn, ids: list[str]) -> None:
    options = [(i, turn.e.catalog.things[i].name) for i in ids] + [("none", turn.tx.NONE_OF_THESE)]
    turn.ask(st.PickThing(options=turn.say.choices(turn.tx.WHICH_THING, options)))


def show_catalog(turn: Turn) -> None:
    tx = turn.tx
    things = list(turn.e.catalog)
    lines = [tx.CATALOG_TITLE.format(count=len(things))]
    options: list[str] = []
    for category in ("个人", "法人"):
        lines.append(tx.CATALOG_CATEGORY.format(category=category))
        for t in turn.e.catalog.by_category(category):
            options.append(t.id)
            lines.append(tx.CHOICE_LINE.format(n=len(options), label=t.name))
    lines.append(tx.CATALOG_PICK)
    choices = [Choice(n=n, label=turn.e.catalog.things[i].name, payload=i) for n, i in enumerate(options, 1)]
    turn.say.replies.append(ChoicesReply(text="\n".join(lines), prompt=lines[0], options=choices))
    turn.ask(st.PickThing(options=options))


@flow.state("pick_thing", answers="the number or name of a one-thing (or none of these)", goes_to=("start", ""))
async def answer_pick(turn: Turn, a: st.PickThing) -> bool:
    choice = turn.option(a)
    if choice is None:
        return False
    if choice == "none":
        turn.s.awaiting = None
        turn.say.text(turn.tx.WELCOME)
        return True
    await start_thing(turn, choice)
    return True


def focus(turn: Turn, thing_id: str) -> None:
    """The one-thing a question was about, in focus (its draft kept, or begun, not started)."""
    t = turn.e.catalog.things[thing_id]
    if thing_id not in turn.s.drafts:
        turn.events += [f"identified:{thing_id}"]
    turn.s.drafts.setdefault(thing_id, Draft(thing=thing_id, catalog_version=t.version))
    turn.s.current = thing_id


async def start_thing(turn: Turn, thing_id: str) -> None:
    t = turn.e.catalog.things[thing_id]
    old = turn.s.draft
    if old is not None and old.thing != thing_id and (old.started or old.answers):
        turn.say.text(turn.tx.SWITCHED, old=turn.e.catalog.things[old.thing].name)
    turn.s.current = thing_id
    if thing_id not in turn.s.drafts:  # the funnel counts drafts: a person coming back is not new
        turn.events += [f"identified:{thing_id}", f"guide:{thing_id}"]
    d = turn.s.drafts.setdefault(thing_id, Draft(thing=thing_id, catalog_version=t.version))
    if d.started:
        turn.say.text(turn.tx.RESUMED, name=t.name)
        await turn.ask_next()
        return
    turn.say.text(turn.tx.THING_PICKED, name=t.name)
    turn.say.guide(t, d.answers)
    turn.say.form_link(t)
    guide.ask_start(turn)


async def resume(turn: Turn) -> None:
    """继续办理: back to the draft begun (or the choice of them)."""
    open_drafts = [d for d in turn.s.drafts.values() if d.started or d.answers]
    if not open_drafts:
        turn.say.text(turn.tx.RESUME_NONE)
        return
    if len(open_drafts) == 1:
        turn.s.current = open_drafts[0].thing
        turn.say.text(turn.tx.RESUMED, name=turn.e.catalog.things[turn.s.current].name)
        turn.s.awaiting = None
        await turn.ask_next()
        return
    options = [(d.thing, turn.e.catalog.things[d.thing].name) for d in open_drafts]
    turn.ask(st.Resume(options=turn.say.choices(turn.tx.RESUME_WHICH, options)))


@flow.state("resume", answers="which draft to go on with", goes_to=(*NEXT, "start"))
async def answer_resume(turn: Turn, a: st.Resume) -> bool:
    choice = turn.option(a)
    if choice is None:
        return False
    turn.s.current = choice
    turn.say.text(turn.tx.RESUMED, name=turn.e.catalog.things[choice].name)
    await turn.ask_next()
    return True
