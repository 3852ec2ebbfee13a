"""The hotline agents' console over real HTTP: accounts and login (argon2,
expiring cookie, CSRF, roles, throttling), the queue of people waiting for a
human, one claim per conversation, the conversation live both ways (WebSocket
for the agent, the mini-program's long poll and WeChat customer-service
messages for the citizen), handing back to the bot where the form stood,
lapsed claims going back into line, 好差评 of the agent, drafts started on the
phone and continued in the mini-program with an SMS code; all audited."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from bot.db.schema import audit_log, console_users, outbox
from bot.handover.sweep import AgentHours
from bot.settings import ROOT, Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from integrations.simulators.hotline import HotlineSim
from tests.conftest import MP_APPID, MP_SECRET, WECHAT_APPID, WECHAT_SECRET
from tests.console_helpers import PASSWORD, MiniCitizen, Staff, make_account

H_KEY, H_SECRET = "h-key", "h-secret"


@pytest.fixture
async def hotline(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(HotlineSim(tmp_path / "hotline.db", H_KEY, H_SECRET, pace=0, retry_base=0.05).app())
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
def configured(settings: Settings, wechat: TestServer, hotline: TestServer) -> Settings:
    return settings.model_copy(
        update={
            "miniprogram_appid": MP_APPID, "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_appid": WECHAT_APPID, "wechat_secret": SecretStr(WECHAT_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            "hotline_url": str(hotline.make_url("")).rstrip("/"), "hotline_key": SecretStr(H_KEY),
            "hotline_callback_secret": SecretStr(H_SECRET), "outbox_max_backoff_seconds": 0.01,
        }
    )  # fmt: skip


@pytest.fixture
async def app(configured: Settings) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(configured))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def staff(app: TestServer) -> AsyncIterator[list[Staff]]:
    made: list[Staff] = []
    yield made
    for s in made:
        await s.close()


@pytest.fixture
async def citizens(app: TestServer) -> AsyncIterator[list[MiniCitizen]]:
    made: list[MiniCitizen] = []
    yield made
    for c in made:
        await c.close()


async def agent(app: TestServer, staff: list[Staff], username: str, display: str = "") -> Staff:
    await make_account(app, username, "agent", display)
    s = Staff(app)
    staff.append(s)
    assert (await s.login(username)).status == 200
    return s


async def citizen(app: TestServer, citizens: list[MiniCitizen], code: str) -> MiniCitizen:
    c = MiniCitizen(app, code)
    citizens.append(c)
    await c.login()
    return c


async def audit_actions(app: TestServer) -> list[tuple[str, str]]:
    async with app.app[SERVICES].db.connect() as conn:
        return [(r.actor, r.action) for r in await conn.execute(select(audit_log).order_by(audit_log.c.id))]


# ---- accounts and login ---------------------------------------------------------------


def test_create_user_from_the_command_line(configured: Settings, tmp_path: Path) -> None:
    env = {"DATABASE_URL": configured.database_url, "REDIS_URL": configured.redis_url, "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "bot", "admin", "create-user", "--username", "zhang.wei", "--role", "admin",
           "--password-stdin"]  # fmt: skip
    done = subprocess.run(cmd, input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "zhang.wei" in done.stdout
    again = subprocess.run(cmd, input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert again.returncode == 1 and "已存在" in again.stderr
    short = subprocess.run([*cmd[:5], "--username", "li", "--password-stdin"], input="short\n",
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)  # fmt: skip
    assert short.returncode == 1 and "密码至少" in short.stderr


async def test_login_cookie_csrf_roles_and_throttling(app: TestServer, staff: list[Staff]) -> None:
    services: Services = app.app[SERVICES]
    await make_account(app, "wang.agent", "agent")
    await make_account(app, "li.admin", "admin")
    async with services.db.connect() as conn:
        stored = (await conn.execute(select(console_users.c.password_hash))).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)

    s = Staff(app)
    staff.append(s)
    assert (await s.request("GET", "/console/api/queue")).status == 401
    page = await s.http.get(app.make_url("/console/agent"), allow_redirects=False)
    assert page.status == 303 and page.headers["Location"].startswith("/console/login")
    wrong = await s.login("wang.agent", "not the password")
    assert wrong.status == 401 and (await wrong.json())["message"] == "用户名或密码不对"
    ok = await s.login("wang.agent")
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=28800" in cookie
    assert (await s.request("GET", "/console/api/queue")).status == 200
    page = await s.http.get(app.make_url("/console/agent"), allow_redirects=False)
    assert page.status == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]

    # a change without the login's CSRF token, or from another site, is refused
    assert (await s.request("POST", "/console/api/handovers/Hx/claim", csrf=False)).status == 403
    foreign = await s.http.post(
        app.make_url("/console/api/handovers/Hx/claim"),
        headers={"X-CSRF-Token": s.csrf, "Origin": "https://evil.example"},
    )
    assert foreign.status == 403
    # an agent is not an admin; the NLU admin API now needs an admin account
    assert (await s.request("GET", "/api/admin/nlu/intents")).status == 403
    admin = Staff(app)
    staff.append(admin)
    assert (await admin.login("li.admin")).status == 200
    assert (await admin.request("GET", "/api/admin/nlu/intents")).status == 200
    assert (await admin.request("GET", "/console/api/queue")).status == 200  # an admin may do what an agent may

    # the login lives in Redis for one shift, and logout ends it
    token = next(c.value for c in s.http.cookie_jar if c.key == "lnyjs_console")
    assert 0 < await services.redis.ttl(f"console:s:{hashlib.sha256(token.encode()).hexdigest()}") <= 28800
    assert (await s.request("POST", "/console/api/logout")).status == 204
    assert (await s.request("GET", "/console/api/queue")).status == 401

    # guessing is slowed down: five failures for one account from one address, then even the right password waits
    guesser = Staff(app)
    staff.append(guesser)
    for _ in range(5):
        assert (await guesser.login("li.admin", "guess-guess-guess")).status == 401
    assert (await guesser.login("li.admin")).status == 429
    actions = await audit_actions(app)
    assert ("wang.agent", "console.login") in actions and ("li.admin", "console.login_failed") in actions
    assert ("wang.agent", "console.logout") in actions


# ---- the queue, one claim, live both ways, hand back --------------------------------------


async def test_request_claim_chat_both_ways_and_hand_back_to_the_form(
    app: TestServer, staff: list[Staff], citizens: list[MiniCitizen]
) -> None:
    wang = await agent(app, staff, "wang.agent", "王丽（工号 1021）")
    zhao = await agent(app, staff, "zhao.agent")
    c = await citizen(app, citizens, "code-of-chen")
    replies = await c.say("孩子刚出生，户口咋上")
    start = next(o for o in replies[-1]["options"] if o["payload"] == "start")
    await c.say(choice=start["payload"])
    await c.say("是")  # an eligibility question: the form is under way
    await c.say("我的身份证号是210102199001011234")
    asked = await c.say("转人工")
    assert asked[-1]["kind"] == "handoff" and standard.QUEUE_NEXT in asked[-1]["text"]
    again = await c.say("转人工")
    assert "您已在等候人工客服" in again[-1]["text"]

    queue = await wang.json("GET", "/console/api/queue")
    [waiting] = queue["waiting"]
    assert (
        waiting["thing"] == "newborn" and waiting["reason"] == "requested" and waiting["reason_label"] == "主动要求人工"
    )
    assert waiting["channel"] == "miniprogram" and waiting["waited_seconds"] >= 0

    # two agents press 接入 at once: exactly one gets the conversation
    claims = await asyncio.gather(
        wang.request("POST", f"/console/api/handovers/{waiting['id']}/claim"),
        zhao.request("POST", f"/console/api/handovers/{waiting['id']}/claim"),
    )
    statuses = sorted(r.status for r in claims)
    assert statuses == [200, 409]
    holder = wang if claims[0].status == 200 else zhao
    other = zhao if holder is wang else wang
    assert (await other.request("GET", f"/console/api/handovers/{waiting['id']}")).status == 409

    detail = await holder.json("GET", f"/console/api/handovers/{waiting['id']}")
    said = "\n".join(e["text"] for e in detail["transcript"])
    assert "210102********1234" in said and "210102199001011234" not in said  # masked for the agent
    assert detail["case"]["current"] == "newborn" and detail["guide"]["thing"] == "newborn"
    joined = await c.updates()
    assert joined[0]["role"] == "system" and "为您服务" in joined[0]["text"]

    ws = await holder.ws(waiting["id"], after=detail["transcript"][-1]["id"])
    try:
        # the citizen writes: the bot stays silent, the agent sees it live
        assert await c.say("我想问一下医保卡多久能拿到") == []
        msg = await ws.receive_json(timeout=10)
        while msg["type"] != "entry" or msg["entry"]["role"] != "citizen":
            msg = await ws.receive_json(timeout=10)
        assert msg["entry"]["text"] == "我想问一下医保卡多久能拿到"
        # the agent answers through the socket: it reaches the mini-program's page
        await ws.send_json({"say": {"text": "一般 15 个工作日，会邮寄给您。"}})
        got = await c.updates()
        assert [(u["role"], u["text"]) for u in got] == [("agent", "一般 15 个工作日，会邮寄给您。")]
        assert got[0]["agent"] == ("王丽（工号 1021）" if holder is wang else "zhao.agent")
    finally:
        await ws.close()

    # handed back where the form stood: the bot asks its next question, and the answer lands
    await holder.json("POST", f"/console/api/handovers/{waiting['id']}/handback", {"point": "form"})
    resumed = await c.updates()
    text = "\n".join(u["text"] for u in resumed)
    assert standard.AGENT_LEFT in text and standard.RATE_AGENT_LATER in text
    assert (await holder.json("GET", "/console/api/queue"))["mine"] == []
    after = await c.say("否")  # answers the pending question: the bot is back
    assert after and after[-1]["kind"] in ("choices", "field")
    actions = await audit_actions(app)
    for action in ("handover.open", "handover.claim", "handover.view", "handover.say", "handover.handed_back"):
        assert action in [a for _, a in actions], action


async def test_a_wechat_follower_gets_the_agent_as_customer_service_messages(
    app: TestServer, wechat: TestServer, staff: list[Staff]
) -> None:
    services: Services = app.app[SERVICES]
    from bot.dialogue.scripted import Citizen

    user = "wechat:oFollower"
    person = Citizen(services.dialogue, user, channel="wechat")
    await person.say("转人工")
    wang = await agent(app, staff, "wang.agent")
    [waiting] = (await wang.json("GET", "/console/api/queue"))["waiting"]
    await wang.json("POST", f"/console/api/handovers/{waiting['id']}/claim")
    await wang.json(
        "POST", f"/console/api/handovers/{waiting['id']}/messages", {"text": "您好，我是 12345 客服。"}, 201
    )
    sender = services.wechat_messages()
    assert sender is not None
    await sender.deliver_due()
    async with aiohttp.ClientSession() as http, http.get(wechat.make_url("/_sim/sent")) as resp:
        sent = await resp.json()
    texts = [m["text"]["content"] for m in sent if m["kind"] == "custom"]
    assert any("为您服务" in t for t in texts) and "您好，我是 12345 客服。" in texts


async def test_close_asks_for_a_rating_and_a_bad_one_goes_to_12345(
    app: TestServer, staff: list[Staff], citizens: list[MiniCitizen], hotline: TestServer
) -> None:
    services: Services = app.app[SERVICES]
    c = await citizen(app, citizens, "code-of-sun")
    await c.say("转人工")
    wang = await agent(app, staff, "wang.agent")
    [waiting] = (await wang.json("GET", "/console/api/queue"))["waiting"]
    await wang.json("POST", f"/console/api/handovers/{waiting['id']}/claim")
    assert (await wang.request("POST", f"/console/api/handovers/{waiting['id']}/close", {"summary": ""})).status == 400
    await wang.json("POST", f"/console/api/handovers/{waiting['id']}/close", {"summary": "咨询医保卡进度，已答复"})
    updates = "\n".join(u["text"] for u in await c.updates())
    assert standard.RATE_AGENT_ASK in updates and "非常不满意" in updates
    assert await c.say("5") and (await c.say("客服态度很差"))[-1]["text"] == standard.COMPLAINT_PHONE_ASK
    done = await c.say("13812345678")
    assert done[-1]["text"].startswith(standard.RATE_BAD_TAKEN)
    orders = services.work_order_sender()
    assert orders is not None
    await orders.deliver_due()
    async with aiohttp.ClientSession() as http, http.get(hotline.make_url("/_sim/orders")) as resp:
        [order] = await resp.json()
    assert order["kind"] == "投诉" and "人工客服" in order["content"] and "客服态度很差" in order["content"]
    assert order["phone"] == "138****5678"

    # admins see the rating and its work order; an agent may not
    assert (await wang.request("GET", "/console/api/admin/ratings")).status == 403
    await make_account(app, "li.admin", "admin")
    admin = Staff(app)
    staff.append(admin)
    await admin.login("li.admin")
    [rating] = (await admin.json("GET", "/console/api/admin/ratings"))["ratings"]
    assert rating["subject"] == "conversation" and rating["level"] == "非常不满意" and rating["bad"]
    assert rating["comment"] == "客服态度很差" and rating["work_order"]["number"] == order["number"]


async def test_dead_letters_are_listed_masked_and_sent_again(app: TestServer, staff: list[Staff]) -> None:
    services: Services = app.app[SERVICES]
    vault = services.settings.vault()
    payload = {"user": "wechat:oDeadLetter1234", "channel": "wechat", "phone": "13812345678", "urgent": False,
               "notice": {"kind": "status", "thing": "newborn", "number": "SB20261130000001", "status": "已办结"}}  # fmt: skip
    now = datetime.now(UTC)
    async with services.db.begin() as conn:
        values = {"kind": "notify", "ref": "x", "payload": vault.encrypt(json.dumps(payload)), "attempts": 12,
                  "next_at": now, "dead_at": now, "last_error": "sms: 12345 SMS: HTTP 503"}  # fmt: skip
        row = await conn.execute(outbox.insert().values(**values).returning(outbox.c.id))
        dead_id = row.scalar_one()
    await make_account(app, "li.admin", "admin")
    admin = Staff(app)
    staff.append(admin)
    await admin.login("li.admin")
    [letter] = (await admin.json("GET", "/console/api/admin/dead-letters"))["dead_letters"]
    assert letter["id"] == dead_id and letter["to"] == "wechat:…1234" and letter["phone"] == "138****5678"
    assert letter["notice"]["status"] == "已办结" and "13812345678" not in json.dumps(letter)
    assert (await admin.request("POST", "/console/api/admin/dead-letters/999999/retry")).status == 404
    await admin.json("POST", f"/console/api/admin/dead-letters/{dead_id}/retry")
    assert (await admin.json("GET", "/console/api/admin/dead-letters"))["dead_letters"] == []
    async with services.db.connect() as conn:
        again = (await conn.execute(select(outbox).where(outbox.c.id == dead_id))).one()
    assert again.dead_at is None and again.attempts == 0
    assert ("li.admin", "outbox.retry") in await audit_actions(app)


# ---- lapsed claims and long waits --------------------------------------------------------


async def test_a_quiet_claim_goes_back_into_line_and_a_long_wait_is_told_once(
    app: TestServer, staff: list[Staff], citizens: list[MiniCitizen]
) -> None:
    services: Services = app.app[SERVICES]
    c = await citizen(app, citizens, "code-of-zhou")
    await c.say("转人工")
    wang = await agent(app, staff, "wang.agent")
    [waiting] = (await wang.json("GET", "/console/api/queue"))["waiting"]
    await wang.json("POST", f"/console/api/handovers/{waiting['id']}/claim")
    await c.updates()
    sweeper = services.handover_sweeper()
    later = datetime.now(UTC) + timedelta(seconds=services.settings.handover_abandon_seconds + 1)
    assert (await sweeper.sweep(later))["requeued"] == 1
    lost = await c.updates()
    assert standard.AGENT_LOST in lost[-1]["text"]
    assert [h["id"] for h in (await wang.json("GET", "/console/api/queue"))["waiting"]] == [waiting["id"]]
    assert await c.say("你好")  # the bot answers again while they wait

    # waiting past the promise: told once, in working hours or with the next opening
    much_later = datetime.now(UTC) + timedelta(minutes=services.settings.handover_promise_minutes + 1)
    assert (await sweeper.sweep(much_later))["told"] == 1
    assert (await sweeper.sweep(much_later))["told"] == 0
    told = (await c.updates())[-1]["text"]
    hours = AgentHours(services.settings.agent_hours)
    assert ("分钟内为您接入" if hours.open_at(much_later) else "上班后尽快回复您") in told
    withdrawn = await c.say("不用人工了")
    assert withdrawn[0]["text"] == standard.HANDOFF_WITHDRAWN
    assert (await wang.json("GET", "/console/api/queue"))["waiting"] == []


def test_agent_hours_know_weekends_and_evenings() -> None:
    hours = AgentHours("08:30-17:30")
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC) - timedelta(hours=8)  # 20:00 Beijing
    assert not hours.open_at(friday_evening)
    assert hours.next_open(friday_evening).strftime("%Y-%m-%d %H:%M") == "2026-11-30 08:30"  # Monday
    assert hours.open_at(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # 10:00 Beijing, Monday


# ---- a draft from the phone, continued in the mini-program ---------------------------------


async def test_phone_draft_code_by_sms_continues_in_the_mini_program(
    app: TestServer, staff: list[Staff], citizens: list[MiniCitizen], hotline: TestServer
) -> None:
    wang = await agent(app, staff, "wang.agent")
    bad = await wang.request("POST", "/console/api/phone-drafts", {"thing": "newborn", "phone": "13812345678",
                                                                   "answers": {"applicant_id_card": "210102199001011235"}})  # fmt: skip
    assert bad.status == 422 and "applicant_id_card" in (await bad.json())["problems"]
    made = await wang.json(
        "POST", "/console/api/phone-drafts",
        {"thing": "newborn", "phone": "13812345678", "answers": {"applicant_name": "陈静", "applicant_id_card": "210102199001011237"}},
        status=201,
    )  # fmt: skip
    assert made["sms"] == "sent" and len(made["code"]) == 6
    async with aiohttp.ClientSession() as http, http.get(hotline.make_url("/_sim/sms")) as resp:
        [sms] = await resp.json()
    assert made["code"] in sms["text"] and sms["phone"] == "138****5678"

    c = await citizen(app, citizens, "code-of-chen-jing")
    asked = await c.say(f"办事码 {(int(made['code']) + 1) % 10**6:06d}")
    assert asked[-1]["text"] == standard.PHONE_CODE_ASK_PHONE  # nothing told of the code before the number
    wrong = await c.say("13812345678")
    assert wrong[-1]["text"] == standard.PHONE_CODE_WRONG
    await c.say(made["code"])
    resumed = await c.say("138 1234 5678")
    assert "已接上您在 12345 电话里办的“新生儿出生”" in resumed[0]["text"] and "2 项" in resumed[0]["text"]
    assert resumed[-1]["kind"] in ("choices", "field")  # the form goes on from there
    await c.say(f"办事码{made['code']}")
    spent = await c.say("13812345678")  # a code works once
    assert spent[-1]["text"] == standard.PHONE_CODE_WRONG

    # guessing codes is locked after five wrong tries
    guesser = await citizen(app, citizens, "code-of-guesser")
    for n in range(5):
        await guesser.say(f"办事码 00000{n}")
        await guesser.say("13900001111")
    await guesser.say("办事码 000009")
    assert (await guesser.say("13900001111"))[-1]["text"] == standard.PHONE_CODE_LOCKED
    assert "phone_draft.create" in [a for _, a in await audit_actions(app)]


async def test_console_pages_and_api_refuse_malformed_input(app: TestServer, staff: list[Staff]) -> None:
    wang = await agent(app, staff, "wang.agent")
    for path, body in (
        ("/console/api/handovers/nope/claim", None),
        ("/console/api/handovers/nope/messages", {"text": "x"}),
        ("/console/api/phone-drafts", {"thing": "no-such-thing", "phone": "1", "answers": {}}),
        ("/console/api/phone-drafts", "not an object"),
    ):
        resp = await wang.request("POST", path, body)
        assert 400 <= resp.status < 500, (path, resp.status)
    raw = await wang.http.post(app.make_url("/console/api/login"), data=b"\xff\xfe{")
    assert raw.status == 400
    resp = await wang.request("GET", "/console/api/me")
    me: dict[str, Any] = await resp.json()
    assert me["username"] == "wang.agent" and me["role"] == "agent"
