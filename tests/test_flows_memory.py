"""The dialogue's flows with nothing outside this process (memory storage, no Redis, no SQL): fast
enough to walk every flow in every test run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.dialogue.messages import ChoicesReply, FieldPrompt, GuideCard
from bot.dialogue.scripted import Citizen
from bot.texts import standard
from tests.memory_engine import MemoryApplications, catalog, memory_engine


async def test_a_whole_application_without_redis_or_sql() -> None:
    applications = MemoryApplications()
    engine = memory_engine(applications=applications)
    c = Citizen(engine, "mem:dog")
    await c.complete(catalog().things["dog_license"], "我想给狗办证")
    [app] = applications.submitted
    assert app["thing"] == "dog_license" and app["answers"]
    replies = await c.say("查进度")
    assert app["number"] in "\n".join(r.text for r in replies)


async def test_one_persons_messages_run_one_at_a_time() -> None:
    engine = memory_engine()
    first, second = await asyncio.gather(
        engine.handle(Citizen(engine, "mem:twice").inbound("孩子刚出生，户口咋上")),
        engine.handle(Citizen(engine, "mem:twice").inbound("开始办理")),
    )
    assert any(standard.START_OR_ASK in r.text for r in first)  # the guide, then the start
    assert isinstance(second[-1], ChoicesReply | FieldPrompt)  # the form began after it


def test_the_state_table_and_its_document_agree_with_the_code() -> None:
    import re

    from bot.dialogue import states as st
    from bot.dialogue.diagram import mermaid
    from bot.dialogue.router import TABLE
    from bot.settings import ROOT

    assert set(TABLE) == set(st.KINDS)
    for s in TABLE.values():
        assert set(s.goes_to) <= set(st.KINDS) | {""}, s.kind
    doc = (ROOT / "docs" / "dialogue.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- states:begin -->\n```mermaid\n(.*?)```\n<!-- states:end -->", doc, re.S)
    assert shown is not None and shown.group(1) == mermaid(), (
        "run: python -m bot dialogue diagram, into docs/dialogue.md"
    )


# ---- each flow on its own, in memory ---------------------------------------------------------------------


async def talk(engine: Any, user: str, *said: str) -> str:
    c = Citizen(engine, user)
    replies: list[Any] = []
    for text in said:
        replies = await c.say(text)
    return "\n".join(r.text for r in replies)


async def test_identify_lists_the_catalog_and_takes_a_pick() -> None:
    engine = memory_engine()
    told = await talk(engine, "mem:catalog", "办事清单")
    assert standard.CATALOG_TITLE.format(count=35) in told
    told = await talk(engine, "mem:catalog", catalog().things["dog_license"].name)
    assert catalog().things["dog_license"].name in told and standard.START_OR_ASK in told


async def test_guide_answers_a_question_about_the_thing_in_focus_then_asks_again() -> None:
    engine = memory_engine()
    told = await talk(engine, "mem:guide", "孩子刚出生，户口咋上", "要带啥材料")
    assert "需要的材料" in told and standard.START_OR_ASK in told


async def test_eligibility_no_says_why_and_what_instead() -> None:
    engine = memory_engine()
    told = await talk(engine, "mem:eligible", "孩子刚出生，户口咋上", "开始办理", "不是")
    assert "暂时不能在这里办理" in told and "建议" in told


async def test_form_refuses_a_bad_value_skips_and_corrects() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:form")
    replies = await c.say("孩子刚出生，户口咋上")
    thing = catalog().things["newborn"]
    while not (isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_id_card"):
        replies = await c.say(c.answer_for(replies, thing) or "")
    replies = await c.say("210102199003074520")  # a wrong check digit
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].problem, c.dump()
    replies = await c.say("210102199003074522")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id != "applicant_id_card"
    replies = await c.say("身份证号填错了")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_id_card"


async def test_elders_hear_their_answer_read_back() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:elder")
    await c.say("长辈模式")
    replies = await c.say("孩子刚出生，户口咋上")
    thing = catalog().things["newborn"]
    for _ in range(12):
        if isinstance(replies[-1], FieldPrompt):
            break
        replies = await c.say(c.answer_for(replies, thing) or "1")
    replies = await c.say("王丽")
    assert "您说的是：王丽，对吗？" in replies[-1].text, c.dump()


async def test_commitment_promised_or_declined_for_the_proof() -> None:
    applications = MemoryApplications()
    engine = memory_engine(applications=applications)
    c = Citizen(engine, "mem:promise", overrides={"big_sign": "是"})  # a big sign needs a landlord's consent
    thing = catalog().things["open_restaurant"]
    replies = await c.say(thing.name)
    for _ in range(80):
        if replies[-1].text == standard.COMMITMENT_ASK:
            break
        replies = await c.say(c.answer_for(replies, thing) or "")
    else:
        raise AssertionError(c.dump())
    replies = await c.say("不承诺")
    assert "上传" in "\n".join(r.text for r in replies), c.dump()
    replies = await c.say("已上传 物业同意书.jpg")
    assert "已收到" in replies[0].text, c.dump()


async def test_review_can_cancel_and_nothing_is_submitted() -> None:
    applications = MemoryApplications()
    engine = memory_engine(applications=applications)
    c = Citizen(engine, "mem:review")
    thing = catalog().things["dog_license"]
    replies = await c.say("我想给狗办证")
    for _ in range(60):
        if isinstance(replies[-1], ChoicesReply) and "submit" in [o.payload for o in replies[-1].options]:
            break
        replies = await c.say(c.answer_for(replies, thing) or "")
    review = replies[-1]
    replies = await c.say(str([o.payload for o in review.options].index("cancel") + 1))  # type: ignore[union-attr]
    asked = replies[-1]
    assert isinstance(asked, ChoicesReply) and "会一并清除" in asked.text  # what will be lost, and a yes asked
    assert thing.form.fields[0].label in asked.text
    replies = await c.say("不取消")
    assert standard.CANCEL_KEPT in replies[0].text and replies[-1].text == review.text  # back where it was
    await c.say("取消")
    replies = await c.say("确定取消")
    assert "已取消" in replies[0].text and "恢复草稿" in replies[0].text and applications.submitted == []
    replies = await c.say("恢复草稿")  # the same day: back, with what was filled
    assert standard.RESTORED.format(name=thing.name) in replies[0].text
    assert isinstance(replies[-1], ChoicesReply) and "submit" in [o.payload for o in replies[-1].options]
    replies = await c.say("恢复草稿")
    assert standard.NOTHING_TO_RESTORE in replies[0].text


async def _dog_draft_with_a_name(user: str) -> tuple[Any, Citizen]:
    engine = memory_engine()
    c = Citizen(engine, user)
    await c.say("我想给狗办证")
    await c.say("开始办理")
    s = await engine.sessions.load(c.user, "test")
    s.drafts["dog_license"].answers["applicant_name"] = "王淑芬"
    await engine.sessions.save(s)
    return engine, c


async def test_a_draft_cancelled_yesterday_is_not_restored() -> None:
    engine, c = await _dog_draft_with_a_name("mem:yesterday")
    await c.say("取消")
    await c.say("1")
    s = await engine.sessions.load(c.user, "test")
    assert s.cancelled is not None and "dog_license" not in s.drafts
    s.cancelled.on = s.cancelled.on.replace(year=s.cancelled.on.year - 1)
    await engine.sessions.save(s)
    replies = await c.say("恢复草稿")
    assert standard.NOTHING_TO_RESTORE in replies[0].text


async def test_starting_over_keeps_the_draft_for_later() -> None:
    engine, c = await _dog_draft_with_a_name("mem:restart")
    replies = await c.say("重新开始")
    assert "继续办理" in "\n".join(r.text for r in replies)
    replies = await c.say("继续办理")
    s = await engine.sessions.load(c.user, "test")
    assert s.drafts["dog_license"].answers["applicant_name"] == "王淑芬"


async def test_progress_supplement_and_rating_after_submission() -> None:
    applications = MemoryApplications()
    engine = memory_engine(applications=applications, ratings=MemoryRatings())
    c = Citizen(engine, "mem:after")
    await c.complete(catalog().things["dog_license"], "我想给狗办证")
    [app] = applications.submitted
    assert app["number"] in "\n".join(r.text for r in await c.say("查进度"))
    app["items"][0]["status"] = "需补正"
    app["items"][0]["detail"] = {"missing": ["狂犬病免疫证明"]}
    assert "狂犬病免疫证明" in "\n".join(r.text for r in await c.say("补交材料"))
    assert "已转交审批部门" in (await c.say("已经拍照上传了"))[0].text
    assert applications.supplements[0][1] == app["number"]
    for item in app["items"]:
        item["status"] = "已办结"
    await c.say("评价")
    assert standard.RATE_THANKS in (await c.say("非常满意"))[-1].text


async def test_complaint_collects_what_a_work_order_needs() -> None:
    appeals = MemoryAppeals()
    engine = memory_engine(appeals=appeals)
    told = await talk(engine, "mem:complain", "我要投诉", "窗口让我跑了三次还没办好", "王丽", "13840012345")
    [appeal] = appeals.opened
    assert appeal.kind == "投诉" and appeal.phone == "13840012345" and "跑了三次" in appeal.content
    assert standard.COMPLAINT_TAKEN.split("。")[0] in told


async def test_help_after_two_misunderstandings_and_a_person_on_request() -> None:
    engine = memory_engine()
    told = await talk(engine, "mem:help", "啊啊啊", "呜呜呜")
    assert standard.NOT_UNDERSTOOD_AGAIN in told
    told = await talk(engine, "mem:human", "转人工")
    assert "人工" in told


@dataclass
class MemoryRatings:
    rated: list[tuple[str, int]] = field(default_factory=list)

    async def rate(self, user: str, application_id: str, score: int, comment: str = "") -> Any:
        self.rated.append((application_id, score))
        return type("Rating", (), {"work_order": None})()

    async def rate_conversation(self, *args: Any, **kw: Any) -> Any:
        return type("Rating", (), {"work_order": None})()


@dataclass
class MemoryAppeals:
    opened: list[Any] = field(default_factory=list)

    async def open(self, appeal: Any) -> str:
        self.opened.append(appeal)
        return f"W{len(self.opened)}"


async def test_a_question_naming_a_thing_answers_it_and_puts_it_in_focus() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:asks")
    replies = await c.say("孩子户口咋上要带啥材料")
    said = "\n".join(r.text for r in replies)
    assert "“新生儿出生”需要的材料" in said and standard.START_OR_ASK in said, c.dump()
    said = "\n".join(r.text for r in await c.say("那要多久"))
    assert "“新生儿出生”的办理时限" in said, c.dump()


async def test_progress_about_a_thing_shows_that_application() -> None:
    applications = MemoryApplications()
    engine = memory_engine(applications=applications)
    c = Citizen(engine, "mem:progress-of")
    await c.complete(catalog().things["dog_license"], "我想给狗办证")
    said = "\n".join(r.text for r in await c.say("之前办的新生儿落户审批完了吗"))
    assert "没有查到您办理“新生儿出生”的申请" in said and applications.submitted[0]["number"] in said, c.dump()
    said = "\n".join(r.text for r in await c.say("狗证办到哪了"))
    assert applications.submitted[0]["number"] in said and "没有查到" not in said, c.dump()


@pytest.mark.parametrize(
    ("options", "said", "meant"),
    [
        (["母亲", "父亲"], "我是他爸", "父亲"),
        (["母亲", "父亲", "其他法定监护人"], "我是孩子妈妈", "母亲"),
        (["母亲", "父亲", "其他法定监护人"], "我是他姥姥", "其他法定监护人"),
        (["随父亲", "随母亲"], "随爸爸", "随父亲"),
        (["首次申领", "丢失补领", "损坏换领"], "第一次办", "首次申领"),
        (["未婚", "已婚", "离异或丧偶"], "没结过婚", "未婚"),
        (["自有住房", "租住房屋"], "租的房子", "租住房屋"),
        (["母亲", "父亲"], "不是他爸", None),  # denied: asked again, with the options
    ],
)
def test_options_in_the_persons_own_words(options: list[str], said: str, meant: str | None) -> None:
    from bot.dialogue.fields import pick_option

    assert pick_option(said, options) == meant


@pytest.mark.parametrize(
    ("question", "said", "yes"),
    [
        ("企业没有欠别人的钱（或者已经全部还清）吗？", "没有 都还清了", True),
        ("您目前没有在停止执业处罚期间，对吗？", "没有", True),
        ("您目前没有在停止执业处罚期间，对吗？", "有", False),
        ("您目前没有在停止执业处罚期间，对吗？", "不对", False),
        ("孩子是在辽宁省内的医院出生的吗？", "没有", False),
    ],
)
def test_a_no_to_a_negatively_worded_condition_agrees_with_it(question: str, said: str, yes: bool) -> None:
    from bot.dialogue.fields import yes_to

    assert yes_to(question, said) is yes


async def test_a_question_in_the_middle_of_a_choice_is_answered_not_refused() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:choice-question")
    thing = catalog().things["residence_permit"]
    replies = await c.say(thing.name)
    for _ in range(20):
        if isinstance(replies[-1], FieldPrompt) and replies[-1].options:
            break
        replies = await c.say(c.answer_for(replies, thing) or "")
    said = "\n".join(r.text for r in await c.say("这个要钱不"))
    assert "收费" in said and "请从这几项中选一个" not in said, c.dump()


async def test_thanks_on_the_way_out_ends_and_the_example_fits_the_conversation() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:leaving")
    await c.say("老伴走了，后事要办啥手续")
    said = "\n".join(r.text for r in await c.say("啊啊啊啊"))
    assert "上户口" not in said  # not to someone whose spouse just died
    result = await engine.turn(c.inbound("谢谢啊 再见"))
    assert result.ended and result.replies[0].text == standard.GOODBYE


async def _at_commitment(user: str) -> tuple[Any, Citizen, str]:
    from bot.dialogue import states as st
    from bot.dialogue.session import Draft

    engine = memory_engine()
    t = catalog().things["newborn"]
    m = next(x for x in t.materials if x.commitment)
    s = await engine.sessions.load(user, "test")
    s.drafts[t.id] = Draft(thing=t.id, catalog_version=t.version, started=True)
    s.current, s.awaiting = t.id, st.Commitment(ref=m.key)
    await engine.sessions.save(s)
    return engine, Citizen(engine, user), m.key


async def test_a_commitment_is_signed_in_its_own_words_not_by_an_ok() -> None:
    engine, c, key = await _at_commitment("mem:promise")
    replies = await c.say("行")
    assert standard.COMMITMENT_EXPLICIT in replies[0].text
    assert not (await engine.sessions.load(c.user, "test")).drafts["newborn"].commitments
    await c.say("我承诺")
    assert key in (await engine.sessions.load(c.user, "test")).drafts["newborn"].commitments


async def test_a_declined_commitment_can_be_taken_back_and_skipping_never_loops() -> None:
    engine, c, key = await _at_commitment("mem:declined")
    await c.say("不承诺")
    replies = await c.say("跳过")
    told = "\n".join(r.text for r in replies)
    assert "不能跳过" in told and "回复“跳过”" not in told  # no way out that leads back here
    await c.say("还是承诺吧")
    d = (await engine.sessions.load(c.user, "test")).drafts["newborn"]
    assert key in d.commitments and key not in d.declined_commitments


async def test_two_needs_in_one_message_are_taken_up_one_after_the_other() -> None:
    applications = MemoryApplications()
    engine = memory_engine(applications=applications)
    c = Citizen(engine, "mem:two-needs")
    await c.complete(catalog().things["employee_retirement"], "下月退休了 退休手续和提取公积金能一起办吗")
    first_turn = "\n".join(r.text for r in c.transcript[0][1])
    assert standard.TWO_NEEDS.format(first="企业职工退休", second="公积金提取") in first_turn
    [app] = applications.submitted
    assert app["thing"] == "employee_retirement"
    last = c.transcript[-1][1]
    assert standard.NEXT_NEED.format(name="公积金提取") in "\n".join(r.text for r in last)
    assert any(isinstance(r, GuideCard) and r.thing_id == "housing_fund_withdrawal" for r in last)


async def test_what_a_material_is_can_be_asked_in_the_middle_of_the_form() -> None:
    engine = memory_engine()
    told = await talk(engine, "mem:what-is", "老伴走了 后事咋办", "开始办理", "是", "是", "1", "啥叫死亡证明")
    assert "死亡证明”：" in told and standard.OUT_OF_SCOPE not in told
    assert "申请人姓名" in told  # and the question again


async def test_after_the_offer_of_help_the_answer_to_the_open_question_is_still_taken() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:help-then-answer")
    await c.say("我想给狗办证")
    replies = await c.say("开始办理")
    for _ in range(6):  # to the first field asked
        if isinstance(replies[-1], FieldPrompt):
            break
        replies = await c.say("1")
    field = replies[-1]
    assert isinstance(field, FieldPrompt) and field.field_id == "applicant_name"
    for noise in ("啊啊啊", "呜呜呜"):
        await c.say(noise)
    replies = await c.say("？？？")
    assert standard.NOT_UNDERSTOOD_AGAIN in replies[-1].text
    replies = await c.say("王淑芬")  # not a way out: the answer to the name, asked before the offer
    s = await engine.sessions.load(c.user, "test")
    assert s.drafts["dog_license"].answers["applicant_name"] == "王淑芬"


async def test_a_no_in_the_persons_own_words_is_confirmed_before_it_refuses() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:refusal")
    await c.say("跑外卖的能自己交社保不")
    await c.say("开始办理")
    replies = await c.say("有 以前办过")  # to “您已年满16周岁，而且还没有到法定退休年龄吗？”
    assert "想跟您确认一下" in replies[-1].text and "根据您的回答" not in replies[0].text
    replies = await c.say("不是，我符合")
    assert "根据您的回答" not in "\n".join(r.text for r in replies)
    s = await engine.sessions.load(c.user, "test")
    assert all(s.drafts["flexible_employment"].eligibility.values())
    c2 = Citizen(engine, "mem:refusal-plain")
    await c2.say("跑外卖的能自己交社保不")
    await c2.say("开始办理")
    replies = await c2.say("不是")  # a plain no needs no confirming
    assert replies[0].text.startswith("根据您的回答")


async def test_a_no_that_agrees_with_a_negatively_worded_condition_is_not_a_refusal() -> None:
    c = Citizen(memory_engine(), "mem:kin")
    await c.say("我俩想领结婚证")
    await c.say("开始办理")
    await c.say("是")  # of age, neither married
    replies = await c.say("没有 不是亲戚")  # to “你们双方之间没有直系血亲和三代以内旁系血亲关系吗？”
    told = "\n".join(r.text for r in replies)
    assert "根据您的回答" not in told and "想跟您确认一下" not in told, c.dump()


def test_a_photo_a_channel_received_still_answers_its_question_when_the_draft_is_checked() -> None:
    from bot.catalog.models import FormField
    from bot.dialogue.fields import parse_value

    f = FormField(id="x", label="证件照片", type="attachment", material="m", help="h", example="e", items=["i"])
    assert parse_value(f, "wechat-media:MEDIA-1").ok  # as form.problems reads the stored answer again
    assert not parse_value(f, "wechat-media:../../etc").ok


async def test_an_age_the_id_number_gives_outweighs_a_yes_to_the_condition() -> None:
    """A 21-year-old groom says 是 to 法定婚龄 (he did not know it is 22 for men): his ID says otherwise."""
    from bot.dialogue.scripted import cooperative_answer

    engine = memory_engine()
    c = Citizen(engine, "mem:too-young", overrides={"applicant_id_card": "210702200509151538"})
    thing = engine.catalog.things["marriage_childbirth"]
    replies = await c.say("我俩想领结婚证")
    for _ in range(30):
        told = "\n".join(r.text for r in replies)
        if "暂时不能在这里办理" in told:
            break
        answer = cooperative_answer(replies, thing, c.overrides)
        assert answer is not None, c.dump()  # submitted: the age was never checked
        replies = await c.say(answer)
    assert "现在是 21 周岁，还不满 22 周岁" in told and "婚姻登记" in told, c.dump()
    s = await engine.sessions.load(c.user, "test")
    assert s.drafts["marriage_childbirth"].eligibility["legal_age_unmarried"] is False


async def test_in_the_form_an_item_of_this_thing_is_explained_and_a_progress_question_goes_back() -> None:
    c = Citizen(memory_engine(), "mem:item-asked")
    await c.say("孩子明年上一年级 想报名")
    await c.say("开始办理")
    await c.say("高静")
    replies = await c.say("居住证信息核验是啥意思")  # an item of 义务教育入学, not the one-thing 居住证
    told = "\n".join(r.text for r in replies)
    assert "“居住证信息核验”是这件事里一并办理的一项" in told and "“居住证”的办理条件" not in told, c.dump()
    assert isinstance(replies[-1], FieldPrompt), c.dump()
    replies = await c.say("我之前办的那个到哪一步了")  # progress, then the open question again
    assert isinstance(replies[-1], FieldPrompt) and standard.BACK_TO in "\n".join(r.text for r in replies), c.dump()


async def test_going_on_after_cancelling_today_brings_the_draft_back() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:changed-mind")
    await c.say("给孩子上户口")
    await c.say("开始办理")
    await c.say("是")
    await c.say("是")
    await c.say("赵宏伟")
    await c.say("那先不办了 等我问问媳妇")
    await c.say("确定取消")
    replies = await c.say("算了还是接着办吧")
    assert "已恢复" in replies[0].text and isinstance(replies[-1], FieldPrompt), c.dump()
    s = await engine.sessions.load(c.user, "test")
    assert s.drafts["newborn"].answers["applicant_name"] == "赵宏伟"


async def test_an_elder_asks_again_in_their_words_and_nothing_heard_is_lost() -> None:
    engine = memory_engine()
    c = Citizen(engine, "mem:elder-again")
    await c.say("我岁数大了 眼神不好")
    await c.say("我儿子残疾了 想申请那个补贴 咋办")
    await c.say("开始办理")
    asked = await c.say("是")
    again = await c.say("啊？你说啥？")  # “please say it again”, not a question to answer
    assert again[-1].text == asked[-1].text, c.dump()
    await c.say("是")
    await c.say("替家人代办")
    told = "\n".join(r.text for r in await c.say("我是他妈"))
    assert "由母亲代办" in told, c.dump()
    await c.say("刘淑芬")
    replies = await c.say("她都68了")  # neither yes nor no: the name heard is asked about again, not dropped
    assert "刘淑芬，对吗" in replies[-1].text, c.dump()
    replies = await c.say("再说一遍")
    assert "刘淑芬，对吗" in replies[-1].text and "没听明白" not in "\n".join(r.text for r in replies), c.dump()
    await c.say("对")
    s = await engine.sessions.load(c.user, "test")
    assert s.drafts["disability_assistance"].answers["applicant_name"] == "刘淑芬"


async def test_what_was_said_before_the_form_is_not_asked_again_and_can_be_put_right() -> None:
    from bot.dialogue.scripted import cooperative_answer

    engine = memory_engine()
    c = Citizen(engine, "mem:said-before")
    thing = engine.catalog.things["forensic_appraiser_practice"]
    replies = await c.say("我的司法鉴定人执业证快到期了，要延续得怎么弄")
    for _ in range(12):
        if "已记下“申请情形：延续执业”" in "\n".join(r.text for r in replies):
            break
        replies = await c.say(cooperative_answer(replies, thing) or "")
    else:
        raise AssertionError(c.dump())
    s = await engine.sessions.load(c.user, "test")
    assert s.drafts[thing.id].answers["apply_type"] == "延续执业", s.drafts[thing.id].answers
    replies = await c.say("申请情形填错了")  # whatever is asked now (a condition): that answer again, no cancel
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "apply_type", c.dump()


def test_who_someone_is_is_never_taken_from_words_said_before() -> None:
    from bot.dialogue.flows.form import said_before

    relation = next(f for f in catalog().things["posthumous_affairs"].form.fields if f.type == "enum"
                    and "子女" in (f.options or []))  # fmt: skip
    assert said_before("我爸上礼拜走了 要办啥", relation) is None  # “爸” would be 父母: he is the child
    sex = next(f for f in catalog().things["newborn"].form.fields if f.type == "enum" and "女" in (f.options or []))
    assert said_before("我闺女刚生完孩子 我替她给孩子上户口", sex) is None  # the mother, not a girl


async def test_progress_of_a_thing_never_applied_for_names_it_and_a_begun_draft_cancelled_comes_back() -> None:
    c = Citizen(memory_engine(), "mem:never-applied")
    replies = await c.say("之前办的新生儿落户审批完了吗")
    assert "没有查到您在这里提交的“新生儿出生”申请" in replies[0].text, c.dump()
    await c.say("我想开个药店")
    await c.say("开始办理")
    await c.say("是")  # a condition answered, nothing typed yet
    replies = await c.say("算了我先不办了")
    assert "恢复草稿" in replies[0].text, c.dump()
    replies = await c.say("接着填")
    assert "已恢复" in replies[0].text, c.dump()


async def test_a_short_greeting_before_a_need_does_not_hide_the_need() -> None:
    c = Citizen(memory_engine(), "mem:hello-first")
    replies = await c.say("你好 我要开饭店 得办啥证")
    assert any(isinstance(r, GuideCard) and r.thing_id == "open_restaurant" for r in replies), c.dump()
    replies = await c.say("你好")  # a greeting alone is greeted back
    assert not any(isinstance(r, GuideCard) for r in replies)
