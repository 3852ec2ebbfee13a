"""The 12345 IVR's turn API over real HTTP, every request signed as the platform signs it:
a whole call by voice and keys on the dialogue engine, keys mapped to options, 0 and “人工” to
an agent with a handover in the agents' queue, 9 and “再说一遍” to the last prompt, silences
re-prompted twice then an agent offered (the count in Redis, shared by two app processes), callers
of 65 and over offered an agent first, numbers read one digit at a time, long replies said in part
then whole on 9, and the refusals: bad signature 401, malformed 400, oversized 413."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.people.keys import user_key
from bot.settings import Settings
from bot.texts import voice
from bot.validators import id_card_check_char
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from integrations.hotline import sign

SECRET = "ivr-secret"
MOBILE = "13812345678"
ID_1990 = "210102199003074522"  # the catalog's own example: valid, born 1990
UNSPEAKABLE = re.compile("[【】■#＃]|https?://|www\\.|/pages/|[\U0001f000-\U0001faff\u2600-\u27bf]")


def id_number(born: date) -> str:
    first17 = f"210102{born:%Y%m%d}123"
    return first17 + id_card_check_char(first17)


def aged(years: int) -> str:
    today = date.today()
    return id_number(date(today.year - years, today.month, min(today.day, 28)))  # birthday passed this year


@pytest.fixture
def configured(settings: Settings) -> Settings:
    return settings.model_copy(update={"hotline_callback_secret": SecretStr(SECRET)})


@pytest.fixture
async def app(configured: Settings) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(configured))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession, server: TestServer, body: bytes, secret: str = SECRET, stamp: str | None = None
) -> tuple[int, Any]:
    stamp = stamp or str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Hotline-Timestamp": stamp,
        "X-Hotline-Signature": sign(secret, stamp, body),
    }
    async with http.post(server.make_url("/ivr/turn"), data=body, headers=headers) as resp:
        return resp.status, await resp.json()


class Phone:
    """One call from one number, as the 12345 IVR drives it."""

    def __init__(self, http: aiohttp.ClientSession, server: TestServer, caller: str = MOBILE, **extra: Any) -> None:
        self.http = http
        self.servers = [server]
        self.caller = caller
        self.call_id = "CALL-" + uuid.uuid4().hex[:12]
        self.extra = extra
        self.prompts: list[str] = []
        self.turns = 0

    async def send(self, **fields: Any) -> dict[str, Any]:
        server = self.servers[self.turns % len(self.servers)]  # several processes: round robin
        self.turns += 1
        body = {"call_id": self.call_id, "caller": self.caller, "turn": self.turns, **self.extra, **fields}
        status, answer = await post(self.http, server, json.dumps(body, ensure_ascii=False).encode())
        assert status == 200, answer
        assert answer["action"] in ("continue", "transfer", "hangup")
        assert answer["expect"] == ("speech_or_dtmf" if answer["action"] == "continue" else "none")
        assert not UNSPEAKABLE.search(answer["prompt"]), answer["prompt"]
        self.prompts.append(answer["prompt"])
        return answer  # type: ignore[no-any-return]

    async def start(self) -> dict[str, Any]:
        return await self.send(event="start")

    async def say(self, text: str) -> dict[str, Any]:
        return await self.send(asr_text=text)

    async def press(self, keys: str) -> dict[str, Any]:
        return await self.send(dtmf=keys)


def services_of(server: TestServer) -> Services:
    return server.app[SERVICES]


def short(answer: dict[str, Any]) -> dict[str, Any]:
    assert len(answer["prompt"]) <= 120, answer["prompt"]
    return answer


# ---- a whole call -------------------------------------------------------------------------


async def test_a_whole_call_by_voice_and_keys(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    hello = short(await phone.start())
    assert hello["action"] == "continue" and "请说您要办什么事" in hello["prompt"]
    assert hello["prompt"].endswith(voice.FOOTER)  # the keys told once, at the start
    assert hello["dtmf_map"] == {"0": "转人工", "9": "再听一遍"}

    picked = short(await phone.say("孩子刚出生，想给孩子上户口"))
    assert "新生儿出生" in picked["prompt"] and "开始办理请按1" in picked["prompt"]
    assert picked["dtmf_map"] == {"1": "开始办理", "2": "再听一遍材料", "3": "换一件事", "0": "转人工", "9": "再听一遍"}
    assert voice.FOOTER not in picked["prompt"]

    asked = short(await phone.press("1"))  # key 1 → the option's payload: 开始办理
    assert "辽宁省内的医院出生" in asked["prompt"] and asked["dtmf_map"]["1"] == "是"
    assert "辽宁户口" in short(await phone.say("是的"))["prompt"]
    assert "替家里人办理" in short(await phone.press("1"))["prompt"]
    assert "申请人姓名" in short(await phone.say("给自己办"))["prompt"]
    readback = short(await phone.say("我叫王丽"))
    assert "王丽" in readback["prompt"] and readback["dtmf_map"]["1"] == "对"
    ask_id = short(await phone.press("1"))
    assert "申请人身份证号" in ask_id["prompt"]
    assert "二幺零幺零二，幺九九零，零三零七，四五二二" in ask_id["prompt"]  # the example, digit by digit

    id_back = short(await phone.say("二幺零幺零二幺九九零零三零七四五二二"))
    assert "您说的是：二幺零幺零二，幺九九零，零三零七，四五二二，对吗？" in id_back["prompt"]
    assert not re.search(r"\d{3}", id_back["prompt"])
    assert "联系电话" in short(await phone.press("1"))["prompt"]
    phone_back = short(await phone.press(MOBILE + "#"))  # typed on the keypad, # ends the entry
    assert "幺三八，幺二三四，五六七八" in phone_back["prompt"]
    relation = short(await phone.press("1"))
    assert relation["dtmf_map"] == {"1": "母亲", "2": "父亲", "0": "转人工", "9": "再听一遍"}
    # a choice made by key is not read back (a typed or spoken value is): the next question comes
    assert "结婚登记" in short(await phone.press("1"))["prompt"]

    case = await services_of(app).dialogue.case_file(f"ivr:{MOBILE}")
    assert case["current"] == "newborn" and case["style"] == "voice" and case["channel"] == "ivr"
    filled = {f["label"]: f["value"] for f in case["drafts"][0]["fields"]}
    assert filled["申请人姓名"] == "王*" and filled["申请人身份证号"] == "210102********4522"
    assert filled["联系电话"] == "138****5678" and filled["您是孩子的"] == "母亲"

    shown = await phone.say("查看已填")  # masked values, read for the ear
    assert "王某" in shown["prompt"] and "幺三八，中间几位略过，五六七八" in shown["prompt"]

    bye = await phone.send(event="hangup")
    assert bye == {"prompt": "", "expect": "none", "action": "hangup"}
    assert not await services_of(app).redis.exists(f"ivr:call:{phone.call_id}")

    again = Phone(http, app)  # the same number calls again: its draft is still there
    await again.start()
    resumed = await again.say("继续办理")
    assert "新生儿出生" in resumed["prompt"] and "父母是否已办理结婚登记" in resumed["prompt"]


async def test_goodbye_ends_the_call(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    await phone.start()
    bye = await phone.say("好的，再见")
    assert bye["action"] == "hangup" and bye["expect"] == "none" and "祝您办事顺利" in bye["prompt"]


async def test_a_landline_caller(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app, caller="024-23456789")
    await phone.start()
    await phone.say("孩子刚出生要上户口")
    assert (await services_of(app).dialogue.case_file("ivr:02423456789"))["current"] == "newborn"


# ---- keys -----------------------------------------------------------------------------------


async def test_a_key_is_the_option_it_names(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    await phone.start()
    await phone.say("孩子刚出生要上户口")
    other = await phone.press("3")  # 换一件事: the catalog, a list too long for keys
    assert "共 35 件" in other["prompt"] and voice.IVR_SAY_ONE in other["prompt"]
    assert other["dtmf_map"] == {"0": "转人工", "9": "再听一遍"}
    session = await services_of(app).dialogue.sessions.load(f"ivr:{MOBILE}", "ivr")
    assert session.current is None and session.awaiting is not None and session.awaiting.kind == "pick_thing"
    picked = await phone.say("开饭店")
    assert "开饭店" in picked["prompt"] or "准营" in picked["prompt"]
    nothing = await phone.press("*#")  # keys that mean nothing: a no-match
    assert nothing["prompt"].startswith(voice.IVR_NOMATCH)


async def test_zero_transfers_to_an_agent_with_the_context(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    await phone.start()
    await phone.say("孩子刚出生要上户口")
    await phone.press("1")
    answer = await phone.press("0")
    assert answer["action"] == "transfer" and answer["expect"] == "none" and "dtmf_map" not in answer
    assert "人工客服" in answer["prompt"]
    waiting = await services_of(app).desk.waiting()
    assert [h.id for h in waiting] == [answer["handover"]]
    assert waiting[0].channel == "ivr" and waiting[0].thing_id == "newborn" and waiting[0].user == f"ivr:{MOBILE}"
    context = answer["context"]
    assert "138****5678" in context and MOBILE not in context
    assert "新生儿出生" in context and "主动要求人工" in context and "辽宁省内的医院" in context
    # the caller hangs up before an agent answers: nobody is left to take the conversation
    await phone.send(event="hangup")
    assert await services_of(app).desk.waiting() == []


async def test_saying_rengong_transfers_even_where_a_name_is_asked(
    app: TestServer, http: aiohttp.ClientSession
) -> None:
    phone = Phone(http, app, caller="13900001111")
    await phone.start()
    for step in ("孩子刚出生要上户口", "开始办理", "是", "是", "给自己办"):
        await phone.say(step)
    assert "申请人姓名" in phone.prompts[-1]
    answer = await phone.say("人工。")  # a two-character name, to a form: but here it means an agent
    assert answer["action"] == "transfer" and answer["handover"]
    assert [h.id for h in await services_of(app).desk.waiting()] == [answer["handover"]]
    case = await services_of(app).dialogue.case_file("ivr:13900001111")
    assert not case["drafts"][0]["fields"]


async def test_nine_and_zaishuoyibian_repeat_the_last_prompt(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    await phone.start()
    await phone.say("孩子刚出生要上户口")
    asked = await phone.press("1")
    assert (await phone.press("9"))["prompt"] == asked["prompt"]
    again = await phone.say("再说一遍")
    assert again["prompt"] == asked["prompt"] and again["dtmf_map"] == asked["dtmf_map"]
    assert "辽宁户口" in (await phone.press("1"))["prompt"]  # and the question still takes its answer


async def test_a_long_reply_is_said_in_part_then_whole_on_nine(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    await phone.start()
    first = short(await phone.say("典当行变更注销"))
    assert voice.IVR_MORE in first["prompt"] and "开始办理请按1" in first["prompt"]  # the question always whole
    assert "解散（注销）公告证明" not in first["prompt"]
    whole = await phone.press("9")
    assert voice.IVR_MORE not in whole["prompt"] and "解散（注销）公告证明" in whole["prompt"]
    assert "开始办理请按1" in whole["prompt"] and len(whole["prompt"]) > 120
    materials = await phone.press("2")  # 再听一遍材料: the guide once more, whole again
    assert "解散（注销）公告证明" in materials["prompt"]


async def test_symbols_tts_cannot_read_are_left_out(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    await phone.start()
    await phone.say("孩子刚出生要上户口")
    asked = short(await phone.say("要带什么材料"))  # the engine answers with a section of the written guide
    session = await services_of(app).dialogue.sessions.load(f"ivr:{MOBILE}", "ivr")
    written = "\n".join(r["text"] for r in session.last_replies)
    assert "■" in written and "〔" in written  # what the engine wrote for screens…
    assert voice.IVR_MORE in asked["prompt"]
    whole = await phone.press("9")
    assert "无需提交（部门间共享获取）" in whole["prompt"] and "仅当" in whole["prompt"]
    assert not re.search("[■〔〕]", whole["prompt"])  # …and what the caller hears


# ---- silence and no-match -------------------------------------------------------------------


async def test_silence_twice_reprompts_then_an_agent_is_offered(
    configured: Settings, app: TestServer, http: aiohttp.ClientSession
) -> None:
    other = TestServer(create_app(configured))  # a second process: the count must be shared
    await other.start_server()
    try:
        phone = Phone(http, app)
        phone.servers.append(other)
        await phone.start()
        asked = await phone.say("孩子刚出生要上户口")
        question = "下一步您可以：开始办理请按1，再听一遍材料请按2，换一件事请按3"

        first = await phone.send(event="silence")
        assert first["prompt"].startswith(voice.IVR_SILENCE) and question in first["prompt"]
        assert first["prompt"].endswith(voice.FOOTER) and first["dtmf_map"] == asked["dtmf_map"]
        second = await phone.send(event="nomatch")
        assert second["prompt"].startswith(voice.IVR_NOMATCH) and question in second["prompt"]
        third = await phone.send(event="silence")
        assert third["prompt"] == voice.IVR_OFFER_AGENT and third["dtmf_map"] == {"0": "转人工"}
        assert third["action"] == "continue"

        redis = services_of(app).redis
        key = f"ivr:call:{phone.call_id}"
        assert await redis.hget(key, "misses") == "3" and 3000 < await redis.ttl(key) <= 3600

        resumed = await phone.press("1")  # heard: the count starts again
        assert "辽宁省内的医院" in resumed["prompt"]
        assert await redis.hget(key, "misses") == "0"
        assert (await phone.send(event="silence"))["prompt"].startswith(voice.IVR_SILENCE)
        assert (await phone.send(event="silence"))["prompt"].startswith(voice.IVR_SILENCE)
        assert (await phone.send(event="nomatch"))["prompt"] == voice.IVR_OFFER_AGENT
        assert not await services_of(app).desk.waiting()

        gone = await phone.send(event="silence")  # nothing heard after the offer: a person takes the call
        assert gone["action"] == "transfer" and gone["prompt"] == voice.IVR_GIVE_UP
        waiting = await services_of(app).desk.waiting()
        assert [h.id for h in waiting] == [gone["handover"]] and waiting[0].reason == "ivr"
        assert "多次没有听到" in gone["context"]
    finally:
        await other.close()


async def test_empty_asr_text_is_a_silence(app: TestServer, http: aiohttp.ClientSession) -> None:
    phone = Phone(http, app)
    hello = await phone.start()
    answer = await phone.say("  ")
    assert answer["prompt"].startswith(voice.IVR_SILENCE) and "请说您要办什么事" in answer["prompt"]
    assert hello["prompt"] in answer["prompt"]


# ---- callers of 65 and over ---------------------------------------------------------------


@pytest.mark.parametrize(("years", "offered"), [(78, True), (65, True), (40, False)])
async def test_older_callers_are_offered_an_agent_first(
    app: TestServer, http: aiohttp.ClientSession, years: int, offered: bool
) -> None:
    phone = Phone(http, app, caller_id_number=aged(years))
    hello = await phone.start()
    assert ("按0转人工，或者直接说您要办的事" in hello["prompt"]) is offered
    if not offered:
        assert "请说您要办什么事" in hello["prompt"]
        return
    assert hello["dtmf_map"] == {"0": "转人工"}
    answer = await phone.press("0")
    assert answer["action"] == "transfer" and f"来电人 {years} 岁" in answer["context"]
    assert [h.id for h in await services_of(app).desk.waiting()] == [answer["handover"]]


async def test_the_age_may_come_from_the_callers_session(app: TestServer, http: aiohttp.ClientSession) -> None:
    services = services_of(app)
    await services.dialogue.fill("ivr:13700002222", "ivr", "newborn", {"applicant_id_card": aged(70)})
    elder = await Phone(http, app, caller="13700002222").start()
    assert voice.IVR_ELDER_WELCOME in elder["prompt"]
    young = await Phone(http, app, caller="13700003333", caller_id_number=ID_1990).start()
    assert voice.IVR_ELDER_WELCOME not in young["prompt"]


async def test_a_failure_inside_still_puts_the_caller_through(app: TestServer, http: aiohttp.ClientSession) -> None:
    services = services_of(app)
    await services.redis.set(f"sess:{user_key('ivr:13600004444')}", "not a session this key can open")
    answer = await Phone(http, app, caller="13600004444").start()
    assert answer["action"] == "transfer" and answer["handover"] is None
    assert answer["prompt"] == voice.IVR_TROUBLE and "136****4444" in answer["context"]


# ---- refusals -------------------------------------------------------------------------------


def turn_body(**fields: Any) -> bytes:
    return json.dumps({"call_id": "C-1", "caller": MOBILE, "event": "start", **fields}).encode()


async def test_a_bad_or_stale_signature_is_401(app: TestServer, http: aiohttp.ClientSession) -> None:
    body = turn_body()
    status, answer = await post(http, app, body, secret="not the secret")
    assert status == 401 and answer["error"] == "bad_signature"
    status, _ = await post(http, app, body, stamp=str(int(time.time()) - 3600))
    assert status == 401
    async with http.post(app.make_url("/ivr/turn"), data=body) as resp:  # unsigned
        assert resp.status == 401
    stamp = str(int(time.time()))
    headers = {"X-Hotline-Timestamp": stamp, "X-Hotline-Signature": sign(SECRET, stamp, body)}
    async with http.post(app.make_url("/ivr/turn"), data=body + b" ", headers=headers) as resp:  # altered
        assert resp.status == 401
    assert not await services_of(app).dialogue.sessions.redis.keys("sess:*")  # nothing reached the engine


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"{not json", "JSON"),
        (b"[1, 2]", "body"),
        (turn_body(caller="12345"), "caller"),
        (turn_body(caller="+8613812345678"), "caller"),
        (turn_body(call_id=""), "call_id"),
        (turn_body(call_id="x" * 65), "call_id"),
        (turn_body(event="ringing"), "event"),
        (turn_body(event=None, dtmf="12a"), "dtmf"),
        (turn_body(event=None, asr_text="说" * 501), "asr_text"),
        (turn_body(event=None, asr_text="新生儿\x00出生"), "NUL"),  # PostgreSQL can neither store nor compare it
        (turn_body(caller_id_number="2101021950"), "caller_id_number"),
        (json.dumps({"call_id": "C-1", "caller": MOBILE}).encode(), "event, asr_text or dtmf"),
    ],
)
async def test_malformed_turns_are_400(app: TestServer, http: aiohttp.ClientSession, body: bytes, names: str) -> None:
    status, answer = await post(http, app, body)
    assert status == 400 and answer["error"] == "malformed"
    assert names in answer["message"], answer["message"]


async def test_an_oversized_body_is_413(app: TestServer, http: aiohttp.ClientSession) -> None:
    body = turn_body(padding="x" * 20_000)
    status, answer = await post(http, app, body)
    assert status == 413 and answer["error"] == "too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is found by reading
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    stamp = str(int(time.time()))
    headers = {"X-Hotline-Timestamp": stamp, "X-Hotline-Signature": sign(SECRET, stamp, body)}
    async with http.post(app.make_url("/ivr/turn"), data=chunks(), headers=headers) as resp:
        assert resp.status == 413


async def test_a_complaint_by_phone_does_not_ask_for_the_number_it_rings_from(
    app: TestServer, http: aiohttp.ClientSession
) -> None:
    phone = Phone(http, app)
    await phone.start()
    await phone.say("我要投诉")
    await phone.say("社保卡申领交了材料两个月没有消息")
    done = await phone.say("王丽")  # the name; the number is the line's own
    assert done["action"] == "transfer"  # the complaint is taken, and a person follows it up
    session = await services_of(app).dialogue.sessions.load(f"ivr:{MOBILE}", "ivr")
    assert session.phone == MOBILE
    assert all("手机号" not in p for p in phone.prompts)


async def test_a_step_sent_again_is_answered_once(app: TestServer, http: aiohttp.ClientSession) -> None:
    """The review's finding: a signed turn replayed within its window ran twice. The same step again (by
    its number, or the very same signed request) gets the first answer and runs nothing."""
    services = services_of(app)
    phone = Phone(http, app)
    await phone.start()
    numbered = json.dumps({"call_id": phone.call_id, "caller": MOBILE, "turn": 2, "asr_text": "办事清单"}).encode()
    unnumbered = json.dumps({"call_id": phone.call_id, "caller": MOBILE, "asr_text": "查进度"}).encode()
    answers = []
    for body in (numbered, unnumbered):
        stamp = str(int(time.time()))
        first = await post(http, app, body, stamp=stamp)
        again = await post(http, app, body, stamp=stamp)  # the captured request, played back
        assert first == again and first[0] == 200
        answers.append(first)
    said = [e.text for e in await services.conversation_log.history(f"ivr:{MOBILE}") if e.role == "citizen"]
    assert said.count("办事清单") == 1 and said.count("查进度") == 1, said
    # step 2 resent later (the platform lost its answer): the same answer, whatever the copy says
    resent = json.dumps({"call_id": phone.call_id, "caller": MOBILE, "turn": 2, "asr_text": "别的"}).encode()
    assert await post(http, app, resent) == answers[0]
