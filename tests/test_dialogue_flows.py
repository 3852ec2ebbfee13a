"""The conversation's hard cases: corrections, several fields at once,
interruptions and resumption, ambiguity, not qualifying, questions in the
middle of the form, misunderstanding, elderly mode, and people writing from
two processes at once or across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.dialogue.messages import ChoicesReply, FieldPrompt, GuideCard, HandoffNotice, LinkReply, ReviewSummary
from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from bot.texts import elderly, standard
from handlers.services import Services, build_services

ID_MOTHER = "210102199003074522"
ID_FATHER = "210102198811203017"


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    yield built
    await built.close()


async def newborn_to_form(c: Citizen) -> None:
    """Opening of 新生儿出生 up to the first form field (applicant's name)."""
    replies = await c.say("我媳妇刚生了，孩子户口咋上")
    assert any(isinstance(r, GuideCard) and r.thing_id == "newborn" for r in replies), c.dump()
    await c.say("开始办理")
    await c.say("是")
    replies = await c.say("是")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_name", c.dump()


async def test_identifies_from_a_life_event_and_tells_everything_at_once(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:guide")
    replies = await c.say("老爷子走了，后面要办啥")
    guide = next(r for r in replies if isinstance(r, GuideCard))
    assert guide.thing_id == "posthumous_affairs"
    for heading in (standard.GUIDE_CONDITIONS, standard.GUIDE_MATERIALS, standard.GUIDE_TIME, standard.GUIDE_FEE):
        assert heading in guide.text
    assert standard.GUIDE_GROUP_SHARED in guide.text and standard.GUIDE_GROUP_APPLICANT in guide.text
    link = next(r for r in replies if isinstance(r, LinkReply))
    assert link.path.endswith("thing=posthumous_affairs")


async def test_a_complaint_becomes_a_12345_work_order_and_goes_to_a_human(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:complaint")
    await newborn_to_form(c)
    replies = await c.say("我要投诉，你们这个太难用了")
    assert replies[-1].text == standard.COMPLAINT_NAME  # nothing on the form yet says who they are
    assert (await c.say("王丽"))[-1].text == standard.COMPLAINT_PHONE_ASK
    assert (await c.say("138400"))[-1].text == standard.COMPLAINT_PHONE_ASK  # not a mobile number: again
    replies = await c.say("13840012345")
    assert isinstance(replies[-1], HandoffNotice) and replies[-1].reason == "complaint", c.dump()
    assert "12345" in replies[-1].text
    [order] = await services.work_orders.of("flow:complaint")
    assert order["kind"] == "投诉" and order["status"] == "待报送"  # queued for 12345 through the outbox
    _, request = await services.work_orders.request_of(order["id"])
    assert request["content"] == "我要投诉，你们这个太难用了"
    assert (request["citizen_name"], request["phone"]) == ("王丽", "13840012345")
    assert request["department"] == services.catalog.things["newborn"].lead[0]
    assert request["context"].startswith("正在办理：新生儿出生")


async def test_a_bare_complaint_is_asked_what_happened(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:complaint2")
    assert (await c.say("我要投诉"))[-1].text == standard.COMPLAINT_ASK
    await c.say("窗口让我跑了三趟还没办成")
    await c.say("李明")
    replies = await c.say("我的手机是13912345678")
    assert isinstance(replies[-1], HandoffNotice)
    [order] = await services.work_orders.of("flow:complaint2")
    _, request = await services.work_orders.request_of(order["id"])
    assert request["content"] == "窗口让我跑了三趟还没办成" and request["region"] == "辽宁省"


async def test_several_fields_in_one_message_and_specific_problems(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:fields")
    await newborn_to_form(c)
    replies = await c.say(f"我叫王丽，身份证{ID_MOTHER}，电话13840012345")
    # name, ID and phone all taken: the next question is the relation to the child
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_relation", c.dump()
    await c.say("母亲")
    await c.say("是")
    await c.say("李强")
    wrong = ID_FATHER[:-1] + ("0" if ID_FATHER[-1] != "0" else "1")
    replies = await c.say(wrong)
    assert "第 18 位校验码不对" in replies[-1].text
    replies = await c.say("21010219881120")
    assert "18 位" in replies[-1].text and "14 位" in replies[-1].text
    replies = await c.say(ID_FATHER)
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "child_name"
    await c.say("李沐阳")
    await c.say("男")
    replies = await c.say("2099年1月1日")
    assert "不能晚于今天" in replies[-1].text


async def test_correction_at_any_time_and_show_filled(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:fix")
    await newborn_to_form(c)
    await c.say("王丽")
    await c.say(ID_MOTHER)
    await c.say("13840012345")
    replies = await c.say("电话填错了")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_phone", c.dump()
    replies = await c.say("13900001111")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_relation"
    replies = await c.say("查看已填")
    shown = replies[0].text
    assert "139****1111" in shown and "138****2345" not in shown
    assert ID_MOTHER not in shown, "personal data is masked in what is shown"
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_relation"


async def test_question_mid_form_is_answered_then_the_form_resumes(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:ask")
    await newborn_to_form(c)
    for _ in ("王丽", ID_MOTHER, "13840012345", "母亲", "是", "李强", ID_FATHER, "李沐阳", "男", "2026年11月3日"):
        await c.say(_)
    replies = await c.say("要带啥材料？")
    text = "\n".join(r.text for r in replies)
    assert "需要的材料" in text and standard.GUIDE_GROUP_SHARED in text, c.dump()
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "birth_hospital", c.dump()
    replies = await c.say("收费吗")
    assert "收费" in replies[0].text
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "birth_hospital"


async def test_switch_thing_keeps_the_draft_and_resume_continues(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:switch")
    await newborn_to_form(c)
    await c.say("王丽")
    replies = await c.say("我想开个饭店")
    text = "\n".join(r.text for r in replies)
    assert "新生儿出生" in text and "草稿" in text
    assert any(isinstance(r, GuideCard) and r.thing_id == "open_restaurant" for r in replies)
    replies = await c.say("继续办理")  # the restaurant was only looked at: one draft to go back to
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_id_card", c.dump()
    # with two drafts under way, the person chooses
    await c.say("我想开个饭店")
    await c.say("开始办理")
    replies = await c.say("继续办理")
    assert isinstance(replies[-1], ChoicesReply), c.dump()
    assert {o.payload for o in replies[-1].options} == {"newborn", "open_restaurant"}
    replies = await c.say("新生儿出生")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_id_card", c.dump()


async def test_cancel_and_restart(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:cancel")
    await newborn_to_form(c)
    await c.say("王丽")
    replies = await c.say("不办了")
    assert "确定要取消“新生儿出生”" in replies[-1].text and "申请人姓名" in replies[-1].text  # what is lost
    replies = await c.say("1")
    assert "已取消“新生儿出生”" in replies[0].text
    replies = await c.say("继续办理")  # the same day, through Redis too: going on brings it back
    assert standard.RESTORED.format(name="新生儿出生") in replies[0].text
    replies = await c.say("恢复草稿")  # nothing cancelled is left to bring back
    assert replies[0].text == standard.NOTHING_TO_RESTORE


async def test_ambiguity_offers_a_short_numbered_list(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:ambiguous")
    replies = await c.say("办事清单")
    listing = replies[-1]
    assert isinstance(listing, ChoicesReply) and len(listing.options) == 35
    assert "【个人办事】" in listing.text and "【法人办事】" in listing.text
    replies = await c.say("12")
    assert any(isinstance(r, GuideCard) for r in replies)


async def test_not_qualifying_is_told_why_and_what_instead(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:ineligible")
    await c.say("孩子刚出生要上户口")
    await c.say("开始办理")
    await c.say("是")
    replies = await c.say("不是")
    text = "\n".join(r.text for r in replies)
    assert "新生婴儿出生落户" in text and "户口所在地的公安派出所" in text
    assert standard.NOT_ELIGIBLE_PARTLY in text


async def test_two_misunderstandings_offer_options_and_a_human(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:lost")
    await c.say("阿巴阿巴")
    replies = await c.say("呜啦呜啦")
    last = replies[-1]
    assert isinstance(last, ChoicesReply)
    assert "human" in [o.payload for o in last.options]
    replies = await c.say(str([o.payload for o in last.options].index("human") + 1))
    assert isinstance(replies[-1], HandoffNotice)


async def test_misunderstanding_again_and_again_keeps_the_session_the_same_size(services: Services) -> None:
    """Each offer of help kept the one before it inside itself: a person who kept writing what the
    bot could not read grew their session by a level every second message, without end."""
    c = Citizen(services.dialogue, "flow:lost-long")
    await newborn_to_form(c)
    sessions = services.dialogue.sessions

    async def largest(messages: int) -> int:  # the session's size alternates with the replies: its peak
        sizes = []
        for n in range(messages):
            await c.say(f"阿巴阿巴{n}")
            sizes.append(len((await sessions.load("flow:lost-long", "api")).model_dump_json()))
        return max(sizes)

    settled = await largest(8)
    assert await largest(20) <= settled + 16  # room for a counter's digits, not for a level a time
    for n in range(3):  # the ways out come back every few misunderstood answers
        if standard.HELP_CONTINUE in c.last_text():
            break
        await c.say(f"阿巴{n}")
    replies = await c.say("1")  # 继续办理: back to the question the person was on
    assert isinstance(replies[-1], FieldPrompt), c.dump()


async def test_tolerable_material_skipped_is_announced_and_reviewed(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:tolerable")
    thing = services.catalog.things["newborn"]
    await c.complete(thing, "新生儿出生一件事")
    review = next(r for _, rs in c.transcript for r in rs if isinstance(r, ReviewSummary))
    assert "待补交材料：新生儿彩色证件照片" in review.text
    told = "\n".join(r.text for _, rs in c.transcript for r in rs)
    assert "10 个工作日内补交" in told and "不予受理" in told


async def test_elderly_mode_one_question_numbered_readback(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:elderly")
    replies = await c.say("我年纪大了")
    assert replies[0].text.startswith(elderly.ELDERLY_ON)
    assert replies[-1].text.endswith(elderly.FOOTER)
    replies = await c.say("孙子刚出生，要上户口")
    assert "http" not in "".join(r.text for r in replies)
    await c.say("1")  # 开始办理
    await c.say("1")
    replies = await c.say("1")
    # proxy (代办) is asked of elderly users
    assert isinstance(replies[-1], ChoicesReply) and [o.payload for o in replies[-1].options] == ["self", "proxy"]
    await c.say("2")
    replies = await c.say("儿子")
    assert "由儿子代办" in replies[0].text
    await c.say("王丽")
    replies = await c.say("1")  # confirm name read back
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_id_card", c.dump()
    replies = await c.say("二一零一零二一九九零零三零七四五二二")  # spoken digits
    assert "210102 1990 0307 4522" in replies[-1].text, c.dump()
    replies = await c.say("9")  # hear it again
    assert "210102 1990 0307 4522" in replies[-1].text
    replies = await c.say("1")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_phone"
    replies = await c.say("0")
    assert isinstance(replies[-1], HandoffNotice)


async def test_messages_at_the_same_moment_on_two_instances_run_one_after_another(settings: Settings) -> None:
    a, b = await build_services(settings), await build_services(settings)
    try:
        ca, cb = Citizen(a.dialogue, "flow:race"), Citizen(b.dialogue, "flow:race")
        await newborn_to_form(ca)
        # name and ID sent at once to two processes: both must land, in order of arrival
        await asyncio.gather(ca.say("王丽"), cb.say(ID_MOTHER))
        replies = await ca.say("查看已填")
        shown = replies[0].text
        assert "申请人姓名：王*" in shown and "210102********4522" in shown, shown
    finally:
        await a.close()
        await b.close()


async def test_a_restart_mid_form_loses_nothing(settings: Settings) -> None:
    first = await build_services(settings)
    c = Citizen(first.dialogue, "flow:restart")
    await newborn_to_form(c)
    await c.say("王丽")
    await first.close()
    second = await build_services(settings)  # a new process: nothing held in memory
    try:
        c.engine = second.dialogue
        replies = await c.say(ID_MOTHER)
        assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_phone", c.dump()
    finally:
        await second.close()


async def test_sessions_are_encrypted_at_rest(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:crypt")
    await newborn_to_form(c)
    await c.say(ID_MOTHER)
    keys = await services.redis.keys("sess:*")
    raw = "".join([str(await services.redis.get(k)) for k in keys])
    assert keys and ID_MOTHER not in raw and "newborn" not in raw and "王丽" not in raw
    assert "flow:crypt" not in "".join(map(str, keys))  # keys carry a digest, not the person's id


async def test_elderly_mode_end_to_end_to_a_submission(services: Services) -> None:
    c = Citizen(services.dialogue, "flow:elderly-e2e")
    await c.say("字太小")
    await c.complete(services.catalog.things["posthumous_affairs"], "老伴走了，后事要办啥手续")
    assert standard.SUBMITTED in c.last_text(), c.dump()
    for said, replies in c.transcript:
        assert replies[-1].text.endswith(elderly.FOOTER), said
        prompts = [r for r in replies if isinstance(r, (FieldPrompt, ChoicesReply))]
        assert len(prompts) <= 1, f"one question per message: {said}"
        assert "http" not in "".join(r.text for r in replies)
    readbacks = [r for _, rs in c.transcript for r in rs if "对吗" in r.text]
    assert len(readbacks) >= 5  # every answer read back


async def test_a_credit_code_failing_its_check_character_is_flagged_not_refused(services: Services) -> None:
    wrong_check = "91210200MA10XYW8K5"  # …K4 would be right: early pilot codes look like this
    c = Citizen(services.dialogue, "flow:uscc", overrides={"uscc": wrong_check})
    await c.complete(services.catalog.things["open_restaurant"], "我要开饭店")
    told = "\n".join(r.text for _, rs in c.transcript for r in rs)
    assert standard.USCC_FLAGGED in told
    review = next(r for _, rs in c.transcript for r in rs if isinstance(r, ReviewSummary))
    assert "需人工核对" in review.text
    [app] = await services.applications.progress(c.user)
    stored = await services.applications.load_form(app["id"])
    assert stored["answers"]["uscc"] == wrong_check and stored["flags"] == ["uscc.check_char"]
    bad_chars = Citizen(services.dialogue, "flow:uscc2", overrides={"uscc": "91210200MA10XYW8KO"})
    replies = await bad_chars.say("我要开饭店")
    for _ in range(30):
        if isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "uscc":
            break
        replies = await bad_chars.say(bad_chars.answer_for(replies, services.catalog.things["open_restaurant"]) or "")
    replies = await bad_chars.say("91210200MA10XYW8KO")
    assert "不该出现的字符" in replies[-1].text  # a wrong character is refused
