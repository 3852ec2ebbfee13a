"""Answers to the form in people's own words: names said in a sentence, yes and no said with the
question's own verb, options by order or by the words they share, materials promised for later —
and what is not an answer (a question, “不知道” for a name) never stored."""

from __future__ import annotations

import pytest

from bot.catalog.models import FormField
from bot.dialogue import states as st
from bot.dialogue.engine import Engine
from bot.dialogue.fields import parse_value, pick_option, sharing, yes_no
from bot.dialogue.messages import Inbound
from bot.dialogue.say import Say
from bot.dialogue.session import Draft
from bot.texts import standard
from tests.memory_engine import memory_engine
from tests.outside_answers import load, measure

NAME = FormField(id="n", label="孩子的姓名", type="name", help="按出生医学证明填写", example="王小明", items=["x"])


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("他爸叫刘洋", "刘洋"),
        ("我是孩子妈，叫 刘 丹", "刘丹"),
        ("本人 孙 浩", "孙浩"),
        ("会计 白雪", "白雪"),
        ("我叫赵桂芝 今年七十三了", "赵桂芝"),
        ("职工叫热依拉.艾买提", "热依拉·艾买提"),
        ("刘淑珍，电话13804001234", "刘淑珍"),
        ("那英", "那英"),
        ("王有才", "王有才"),
    ],
)
def test_a_name_said_in_a_sentence_is_the_name(said: str, name: str) -> None:
    assert parse_value(NAME, said).value == name


@pytest.mark.parametrize(
    "said", ["不知道", "还没起名呢", "这个要花钱不", "小名叫豆豆 大名还没定", "卖家姓吴", "没有", "叫我老张就行"]
)
def test_what_is_said_instead_of_a_name_is_refused(said: str) -> None:
    assert parse_value(NAME, said).problem == "name.not_a_name"


def test_a_name_has_two_to_fifteen_characters_its_dots_not_counted() -> None:
    assert parse_value(NAME, "王").problem == "name.format"
    assert parse_value(NAME, "阿依古丽买买提艾尔肯阿卜杜热合曼").problem == "name.format"  # 16
    assert parse_value(NAME, "呜呜呜").problem == "name.not_a_name"
    assert parse_value(NAME, "阿依古丽·买买提·艾尔肯").value == "阿依古丽·买买提·艾尔肯"


def test_yes_and_no_in_the_persons_words() -> None:
    married = "父母是否已办理结婚登记（已领结婚证的回答“是”）"
    assert yes_no("领了", married) is True and yes_no("还没领", married) is False
    assert yes_no("那必须的") is True and yes_no("木有") is False and yes_no("还没") is False
    for unsure in ("好像交过又好像没有 我也说不准", "不知道有没有", "看情况吧"):
        assert yes_no(unsure) is None  # asked again, never guessed
    assert yes_no("早还清了", "是否还有没还完的房贷") is None  # a negatively worded question: not read by echo


def test_options_by_order_and_by_the_words_they_share() -> None:
    assert pick_option("第二个", ["父母本人户", "其他亲属户"]) == "其他亲属户"
    assert pick_option("跟他妈姓 户口也跟他妈", ["随父亲", "随母亲"]) == "随母亲"
    assert pick_option("我儿子没了 我是他妈", ["配偶", "子女", "父母"]) == "父母"  # who they say they are decides
    assert pick_option("哪个都行", ["职工医保", "城乡居民医保"]) is None
    assert sharing("油寄到家吧", ["邮寄到家", "网点自取"]) == "邮寄到家"
    assert sharing("不要邮寄 我去派出所拿", ["邮寄到家", "派出所自取"]) == "派出所自取"
    assert sharing("邮寄", ["邮寄到家", "邮寄到单位"]) is None  # as likely one as the other


_ENGINE_OF_LAST_ANSWER: list[Engine] = []  # to say one more thing after an _answer


async def _answer(thing: str, field: str, said: str, **answers: str) -> tuple[Draft, str]:
    engine = memory_engine()
    _ENGINE_OF_LAST_ANSWER[:] = [engine]
    s = await engine.sessions.load("u", "test")
    t = engine.catalog.things[thing]
    s.drafts[thing] = Draft(
        thing=thing,
        catalog_version=t.version,
        started=True,
        prefill_confirmed=True,
        eligibility={e.id: True for e in t.eligibility},
        answers=answers,
    )
    say = Say(s)  # the question on screen, as the turn before left it
    s.current, s.awaiting = (
        thing,
        st.FormField(ref=field, options=say.field(next(f for f in t.form.fields if f.id == field))),
    )
    s.last_replies = [r.model_dump() for r in say.replies]
    await engine.sessions.save(s)
    replies = await engine.handle(Inbound(user="u", channel="test", text=said))
    after = await engine.sessions.load("u", "test")
    return after.drafts[thing], "\n".join(r.text for r in replies)


async def test_words_no_surname_begins_are_doubted_and_taken_when_said_again() -> None:
    draft, told = await _answer("newborn", "applicant_name", "接着在盘锦 转退休那种")
    assert "applicant_name" not in draft.answers and "不太像姓名" in told
    draft, told = await _answer("newborn", "applicant_name", "有为民")  # a rare surname…
    assert "applicant_name" not in draft.answers and "再发一次“有为民”" in told
    engine = _ENGINE_OF_LAST_ANSWER[0]
    replies = await engine.handle(Inbound(user="u", channel="test", text="有为民"))  # …said again: taken
    after = await engine.sessions.load("u", "test")
    assert after.drafts["newborn"].answers["applicant_name"] == "有为民", [r.text for r in replies]


async def test_a_question_asked_for_a_name_is_answered_and_the_name_asked_again() -> None:
    draft, told = await _answer("newborn", "applicant_name", "这个要花钱不")
    assert "applicant_name" not in draft.answers
    assert "不收费" in told  # the fee answered
    assert told.rstrip().endswith("例如：王丽") and "申请人姓名" in told  # and the question again


async def test_what_the_question_means_is_told_then_it_is_asked_again() -> None:
    draft, told = await _answer("posthumous_affairs", "death_type", "宣告死亡是啥意思")
    assert "death_type" not in draft.answers
    f = next(f for f in memory_engine().catalog.things["posthumous_affairs"].form.fields if f.id == "death_type")
    assert f.help in told


async def test_a_material_promised_for_later_is_skipped() -> None:
    draft, _ = await _answer("newborn", "child_photo", "照片还没照呢，以后再补")
    assert "child_photo" in draft.skipped


async def test_an_answer_mentioning_another_thing_is_not_a_switch() -> None:
    _, told = await _answer("posthumous_affairs", "has_pension", "俺家老头子退休了 月月领退休金")
    assert "企业职工退休" not in told  # no switch to another one-thing without a wish for it


async def test_the_outside_authors_answers_are_taken_as_meant() -> None:
    """The outside set (tests/data/outside/batch2/answers_own_words.yaml): a ratchet, not a target.
    ``python -m tests.outside_answers`` prints it all."""
    result = await measure(memory_engine(), load())
    caught = {k: tuple(map(int, v.split("/"))) for k, v in result["by_kind"].items()}
    assert caught["question"][0] == caught["question"][1]  # every question caught
    assert caught["refuse"][0] == caught["refuse"][1]  # every non-answer refused
    assert result["accepted_right"] >= 0.69
    assert result["outcomes"].get("wrong", 0) <= 0.02 * result["n"]


async def test_letting_go_said_for_a_free_text_field_is_not_stored() -> None:
    draft, told = await _answer("dog_license", "dog_name", "那先不办了，等我照完相再说", applicant_name="王淑芬")
    assert "dog_name" not in draft.answers and "确定要取消" in told  # asked first, nothing erased
    draft, told = await _answer("dog_license", "dog_name", "2")
    assert "dog_name" not in draft.answers  # a number from an earlier list is not a dog's name


async def test_not_knowing_is_not_a_misunderstanding() -> None:
    draft, told = await _answer("posthumous_affairs", "has_housing_fund", "好像交过又好像没有 我也说不准")
    assert "has_housing_fund" not in draft.answers
    assert standard.UNSURE_ANSWER in told and "1. 是" in told  # asked again, with the options


async def test_with_every_item_answered_away_nothing_is_offered_for_submission() -> None:
    from bot.dialogue.scripted import Citizen

    engine = memory_engine()
    t = engine.catalog.things["social_insurance_transfer"]
    moving_nothing = {f.id: "否" for f in t.form.fields if f.type == "boolean" and f.id.startswith("transfer_")}
    c = Citizen(engine, "u:nothing", overrides=moving_nothing)
    replies = await c.say("社保关系转移接续")
    for _ in range(60):
        answer = c.answer_for(replies, t)
        if answer is None:
            break
        replies = await c.say(answer)
    told = "\n".join(r.text for _, rs in c.transcript[-2:] for r in rs)
    assert standard.NOTHING_LEFT.format(name=t.name) in told, c.dump()
    assert standard.SUBMIT_FAILED not in told


async def test_a_number_said_again_as_a_correction_puts_the_earlier_answer_right() -> None:
    draft, told = await _answer("dog_license", "dog_name", "哎 刚才手机号整错了 是17640218835 最后俩数反了",
                                applicant_name="王淑芬", applicant_phone="13840012345")  # fmt: skip
    assert draft.answers["applicant_phone"] == "17640218835" and "dog_name" not in draft.answers
    assert "已改为" in told and "犬只名字" in told  # said back, and the open question again


async def test_a_required_material_is_never_offered_as_skippable() -> None:
    parse = parse_value(
        FormField(id="x", label="退出现役证照片", type="attachment", material="m", help="h", example="e", items=["i"]),
        "退出现役证有",
    )
    assert parse.problem == "attachment.required" and "跳过" not in standard.PROBLEM["attachment.required"]


def test_a_no_to_a_negative_question_agrees_only_when_it_echoes_it() -> None:
    from bot.dialogue.fields import yes_to

    houses = "您和配偶在缴存公积金的城市都没有自己名下的住房吗？"
    assert yes_to(houses, "没有，我还没结婚呢") is True
    assert yes_to(houses, "没结婚") is None  # about something else: asked again, no fact stated back
    assert yes_to("企业没有欠别人的钱吗？", "没欠") is True


async def test_not_knowing_a_free_text_answer_is_not_stored() -> None:
    draft, told = await _answer("dog_license", "dog_name", "不知道", applicant_name="王淑芬")
    assert "dog_name" not in draft.answers and standard.PROBLEM["text.unknown"] in told


def test_a_date_said_in_part_asks_for_what_is_missing_unless_a_month_will_do() -> None:
    from datetime import date

    day = FormField(id="d", label="接种日期", type="date", material=None, help="可以说“2026年3月5日”",
                    example="2026年3月5日", items=["i"], not_future=True)  # fmt: skip
    month = day.model_copy(update={"help": "用于计算工龄，可以说“1978年9月”"})
    today = date(2026, 12, 5)
    assert parse_value(day, "打了 今年10月打的", today).problem == "date.day"
    assert parse_value(month, "86年7月", today).value == "1986-07-01"
    assert parse_value(month, "1986年参加工作的", today).problem == "date.month"


def test_a_number_field_wants_the_number_and_an_address_a_place() -> None:
    card = FormField(id="c", label="收款银行卡号", type="text", material=None, help="h",
                     example="6217000190001234567", items=["i"])  # fmt: skip
    assert parse_value(card, "招商银行的卡").problem == "text.number"
    assert parse_value(card, "6217 0001 9000 1234 567").ok
    where = FormField(id="a", label="住址", type="address", material=None, help="h", example="e", items=["i"])
    assert parse_value(where, "租的 签了两年合同").problem == "address.place"
    assert parse_value(where, "立山区深沟寺街道").ok


async def test_a_question_without_a_question_word_is_still_a_question() -> None:
    draft, told = await _answer("dog_license", "dog_breed", "那个狗牌子还用去派出所取不 我腿不好",
                                applicant_name="王秀兰")  # fmt: skip
    assert "dog_breed" not in draft.answers, told
    draft, told = await _answer("law_firm_establishment", "premises_type", "场地租赁合同和房产证复印件是不是都要")
    assert "premises_type" not in draft.answers and "请从这几项中选一个" not in told, told


def test_words_said_apart_name_a_thing() -> None:
    from bot.catalog.words import ThingWords

    words = ThingWords(memory_engine().catalog.things.values())
    said = "同志你好 我老伴上礼拜在家走了 人家说户口要销 还有她那个养老金"
    assert words.named_in(said)[0][0] == "posthumous_affairs"
    # heard, not spelled: a homophone, pinyin typed for a word (whole syllables only)
    assert words.named_in("姑娘我问一下 推修手续都得准备啥材料啊")[0][0] == "employee_retirement"
    assert words.named_in("chusheng证明在哪开")[0][0] == "newborn"
    assert not words.named_in("有活人没 我要跟人说", strict=True)  # no word a character off, then


def test_a_no_after_an_adverb_is_a_no_and_a_lone_yes_inside_a_sentence_says_nothing() -> None:
    said = "都没有，我户口在河北老家，他妈是吉林的"
    assert yes_no(said, "孩子的父亲或母亲，至少有一方是辽宁户口吗？") is False
    assert pick_option(said, ["是", "不是"]) is None  # the 是 of “他妈是吉林的” chooses nothing


def test_a_number_said_is_read_against_the_number_the_condition_sets() -> None:
    from bot.dialogue.fields import yes_to

    years = "您的养老保险累计缴费年限（含视同缴费年限）是否已经达到最低缴费年限（目前为 15 年）？"
    assert yes_to(years, "交了三十多年了") is True
    assert yes_to(years, "才交了10年") is False
    assert yes_to("残疾人本人年满 16 周岁、不满 60 周岁，而且还没有领取养老金吗？", "他30岁") is None  # a range
