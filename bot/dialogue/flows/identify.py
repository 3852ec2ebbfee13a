"""Which one-thing the person needs: a free message understood (a thing, a question about it,
progress, a person, a complaint…), the catalog or the few things a message could mean, starting a
one-thing (its guide), and going back to a draft."""

from __future__ import annotations

import re

from bot.dialogue import states as st
from bot.dialogue.flows import cancel, guide
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.messages import Choice, ChoicesReply
from bot.dialogue.session import Draft
from bot.dialogue.turn import ASK_INTENTS, ASKING_END, FALLBACK_INTENT, THING_PREFIX, WISH, Turn
from bot.nlu.cues import NOT_A_COMPLAINT, asks_meaning

flow = Flow("identify")


async def understand(turn: Turn) -> None:
    """A message that answers no pending question: what does the person want, and of what?"""
    denied = NOT_A_COMPLAINT.search(turn.text)
    if denied:  # “不是投诉，我是想开个店”: what follows the denial is what they want
        turn.reread((turn.text[: denied.start()] + turn.text[denied.end() :]).strip())
        if not turn.text:
            turn.say.text(turn.tx.ANYTHING_ELSE)
            return
    result = await turn.nlu()
    reading = await turn.reading()
    name = result["intent"]["name"]
    thing = reading.thing if reading.thing in turn.e.catalog.things else None
    tx = turn.tx
    if name == FALLBACK_INTENT or reading.act == "out_of_scope":
        turn.events.append("fallback")  # the dashboard's 未识别率: not understood, or not ours to do
    busy = turn.s.draft is not None and turn.s.draft.started
    if any(e["entity"] == "application_no" for e in result.get("entities", [])) or reading.act == "progress":
        await turn.go.progress(turn)  # a 申办编号 on its own asks for that application; a thing, for its own
        turn.s.misunderstood = 0
        if busy and turn.s.awaiting is not None:  # asked in the middle of the form: then back to it
            await turn.ask_next(repeat=True, back=True)
        return
    if (
        reading.act in ("apply", "unclear", "out_of_scope")
        and busy
        and ASKING_END.search(turn.text)
        and (thing in (None, turn.s.current))
    ):
        # a question in the middle of the form the acts do not tell (“挂自己家门口还得批？”): the
        # guide's 常见问题, or an honest “not sure” with 12345 offered — never “欢迎回来”
        turn.s.misunderstood = 0
        if not guide.faq_answer(turn, turn.text):
            turn.say.text(tx.NOT_ANSWERED)
        await turn.ask_next(repeat=True, back=True)
        return
    current = turn.thing()
    if current is not None and thing != turn.s.current and any(i.name in turn.text for i in current.items):
        thing = None  # “居住证信息核验是啥意思”: an item of the one-thing in hand, not the one-thing 居住证
    if reading.act in ("apply", *ASK_INTENTS) and thing is not None:
        keep_second_need(turn, thing)
    if (
        reading.act == "apply"
        and thing is not None
        and busy
        and thing != turn.s.current
        and not _switch_meant(turn, thing)
    ):
        thing = None  # “合法稳定就业” while an ID is asked for: an answer gone astray, not 失业再就业 wished for
    if reading.act == "apply" and thing is not None:
        ambiguous = result.get("ambiguous")
        if ambiguous and all(x.startswith(THING_PREFIX) for x in ambiguous):
            offer_things(turn, [x[len(THING_PREFIX) :] for x in ambiguous])
        else:
            await start_thing(turn, thing)
        turn.s.misunderstood = 0
        return
    if reading.act in ASK_INTENTS and not (asks_meaning(turn.text) and thing is None and current is not None):
        top = (result.get("thing_ranking") or [{"name": "none", "confidence": 1.0}])[0]
        if thing is None and turn.thing() is None and top["name"] == "none" and _names_something(turn.text):
            not_ours(turn, tx.OUT_OF_SCOPE_ASKED)  # “护照咋办 要去哪”: something, but none of ours
            return
        turn.s.misunderstood = 0
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
    if asks_meaning(turn.text) and current is not None and thing in (None, turn.s.current):
        turn.s.misunderstood = 0  # “啥叫死亡证明”: the guide's own words for it
        if not guide.explain(turn, turn.text):
            turn.say.text(tx.NOT_ANSWERED)
        await turn.ask_next(repeat=True, back=True)
        return
    if (
        reading.act == "out_of_scope"
        and thing is None
        and reading.act_confidence >= OUT_OF_SCOPE_SURE
        and _worded(turn.text)
    ):
        # “今天天气咋样”: what the assistant does, and that 12345 answers the rest
        if not_ours(turn, tx.OUT_OF_SCOPE):
            await turn.ask_next(repeat=True, back=True)
        return
    top = (result.get("thing_ranking") or [{"name": "none", "confidence": 1.0}])[0]
    if thing is None and turn.thing() is None and top["name"] == "none" and _names_something(turn.text):
        not_ours(turn, tx.OUT_OF_SCOPE_ASKED)  # “低保咋申请啊”, “老年优待证咋办”: something, but none of ours
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


OUT_OF_SCOPE_SURE = 0.5


def _worded(text: str) -> bool:
    """Words, not keyboard noise (“啊啊啊啊”, “asdf”): four Chinese characters, three of them different."""
    han = re.findall(r"[\u4e00-\u9fff]", text)
    return len(han) >= 4 and len(set(han)) >= 3


# the words of any question, whatever it is about
_ASKING_WORDS = re.compile(
    r"请问|你好|您好|咋|怎么|怎样|如何|办理|办|要|去|到|在|哪儿?|我|想|的|了|吗|呢|啊|呀|需要|什么|啥|这个|那个|一下|能|可以|"
    r"不|多少|钱|时间|多久|几天|材料|带|准备|手续|上|网|线|地方|部门|窗口|收费|费|条件|得|还|是|有|和|跟|给|吧"
)


def _names_something(text: str) -> bool:
    """A question about something besides its asking words (“护照咋办”, not “在哪办”)."""
    rest = set(re.findall(r"[\u4e00-\u9fff]", _ASKING_WORDS.sub("", text)))
    return _worded(text) and len(rest) >= 2


TWO_NEEDS_SAID = re.compile(r"和|跟|还|也|另外|顺便|再|以及|同时|一块|一起|两样|俩")  # how a second need is added
SECOND_NEED = 0.9  # how surely the catalog's own words must name a second one-thing (a long, unshared word)


def keep_second_need(turn: Turn, first: str) -> None:
    """A second one-thing named in the same breath (“退休了，公积金也想提出来”), by the catalog's own
    words and surely: said back, kept, and taken up when the first is handed in."""
    if not TWO_NEEDS_SAID.search(turn.text):
        return  # one need, in several words (“企业名下的房产过户” is not also 二手房)
    named = turn.e.thing_words().named_in(turn.text)
    second = next((t for t, weight in named if t != first and weight >= SECOND_NEED), None)
    if second is None or second in turn.s.pending or second in turn.s.drafts:
        return
    turn.s.pending.append(second)
    names = turn.e.catalog.things
    turn.say.text(turn.tx.TWO_NEEDS, first=names[first].name, second=names[second].name)


def not_ours(turn: Turn, said: str) -> bool:
    """Not one of ours, said politely; the second time running, the ways out (留言 to 12345 among
    them) rather than the same words again. True when the polite answer was given."""
    turn.s.misunderstood += 1
    if turn.s.misunderstood >= 2:
        turn.go.offer_help(turn)
        return False
    turn.say.text(said)
    return True


SWITCH_SAID = 8  # characters: a message this short that names a one-thing as written asks for it


def _switch_meant(turn: Turn, thing: str) -> bool:
    """In the middle of another one-thing's form, a wish for this one said clearly: in words
    (“我还想办个居住证”), or its name alone (“公积金提取”)."""
    if WISH.search(turn.text):
        return True
    named = turn.e.thing_words().named_in(turn.text, strict=True)
    return len(turn.text.strip()) <= SWITCH_SAID and bool(named) and named[0][0] == thing


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
    d = turn.s.drafts.setdefault(thing_id, Draft(thing=thing_id, catalog_version=t.version))
    remember_words(turn, d)
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
    remember_words(turn, d)
    if d.started:
        turn.say.text(turn.tx.RESUMED, name=t.name)
        await turn.ask_next()
        return
    turn.say.text(turn.tx.THING_PICKED, name=t.name)
    turn.say.guide(t, d.answers)
    turn.say.form_link(t)
    guide.ask_start(turn)


SAID_KEPT = 200  # characters of what was said before the form, kept with the draft


def remember_words(turn: Turn, d: Draft) -> None:
    """What the person said of the one-thing before its form, for the form to use (nothing asked twice)."""
    if not d.started and turn.text and turn.text not in d.said:
        d.said = (d.said + " " + turn.text).strip()[-SAID_KEPT:]


async def resume(turn: Turn) -> None:
    """继续办理: back to the draft begun (or the choice of them)."""
    open_drafts = [d for d in turn.s.drafts.values() if d.started or d.answers]
    kept = turn.s.cancelled
    if not open_drafts and kept is not None and kept.on == turn.e.today():
        await cancel.restore(turn)  # “算了还是接着办吧” after cancelling today: that draft, back
        return
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
