"""Outbound WeChat against the WeChat API simulator over real HTTP: one token
shared by all processes (refreshed under a lock), expired tokens refreshed
once, rate limits retried, refusals falling back to the person's inbox, and
the overflow of a passive reply delivered as customer-service messages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.dialogue.scripted import Citizen
from bot.messaging import SendRefused, WeChatMessages
from bot.outbox import RetryLater
from bot.settings import Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from integrations.wechat import WeChatApi
from tests.conftest import MP_APPID, MP_SECRET
from tests.conftest import WECHAT_APPID as APPID
from tests.conftest import WECHAT_SECRET as SECRET
from tests.test_wechat import TOKEN, reply_of, signed, text_message


async def sim(server: TestServer, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(method, server.make_url(path), json=body) as resp:
        return await resp.json()


def api(redis_url: str, server: TestServer) -> tuple[WeChatApi, Redis]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    return WeChatApi(redis, APPID, SECRET, str(server.make_url("")).rstrip("/")), redis


async def test_one_token_for_all_processes_and_a_refresh_when_expired(redis_url: str, wechat: TestServer) -> None:
    (a, ra), (b, rb) = api(redis_url, wechat), api(redis_url, wechat)  # two processes
    try:
        tokens = await asyncio.gather(*(x.token() for x in (a, b, a, b)))
        assert len(set(tokens)) == 1
        assert (await sim(wechat, "GET", "/_sim/tokens"))["issued"] == 1
        await sim(wechat, "POST", "/_sim/expire_tokens")
        await asyncio.gather(a.send_text("oA", "你好"), b.send_text("oB", "您好"))
        assert (await sim(wechat, "GET", "/_sim/tokens"))["issued"] == 2  # refreshed once, under the lock
        sent = await sim(wechat, "GET", "/_sim/sent")
        assert {(m["touser"], m["text"]["content"]) for m in sent} == {("oA", "你好"), ("oB", "您好")}
    finally:
        await ra.aclose()
        await rb.aclose()


async def test_errors_are_classified(redis_url: str, wechat: TestServer) -> None:
    client, redis = api(redis_url, wechat)
    try:
        path = "/cgi-bin/message/custom/send"
        for code, expected in ((45009, RetryLater), (45015, SendRefused), (43004, SendRefused), (40003, SendRefused)):
            await sim(wechat, "POST", "/_sim/errors", {"path": path, "errcode": code})
            with pytest.raises(expected) as raised:
                await client.send_text("oX", "测试")
            if isinstance(raised.value, SendRefused):
                assert raised.value.fallback == (code in (45015, 43004))
        await client.send_text("oX", "测试")  # and then it works
        down = WeChatApi(redis, APPID, SECRET, "http://127.0.0.1:9")  # nothing listens there
        with pytest.raises(RetryLater):
            await down.send_text("oX", "测试")
    finally:
        await redis.aclose()


@pytest.fixture
async def wx_app(aiohttp_client: Any, settings: Settings, wechat: TestServer) -> AsyncIterator[TestClient]:
    configured = settings.model_copy(
        update={
            "wechat_token": SecretStr(TOKEN),
            "wechat_appid": APPID,
            "wechat_secret": SecretStr(SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            "outbox_max_backoff_seconds": 0.05,
            # what these tests check is the outbox, not the 3-s passive budget (a busy CI machine can
            # take longer over a first turn; tests/test_wechat.py covers a late reply)
            "wechat_reply_budget_seconds": 30.0,
        }
    )
    yield await aiohttp_client(create_app(configured))


def consumer(services: Services) -> WeChatMessages:
    messages = services.wechat_messages()
    assert messages is not None
    return messages


async def test_the_overflow_of_a_passive_reply_arrives_as_customer_service_messages(
    wx_app: TestClient, wechat: TestServer
) -> None:
    resp = await wx_app.post("/wechat", params=signed(), data=text_message("孩子刚出生，户口咋上", 5001, "oLong"))
    first = reply_of(await resp.text())["Content"]
    services: Services = wx_app.app[SERVICES]
    assert await consumer(services).deliver_due() >= 1
    sent = await sim(wechat, "GET", "/_sim/sent")
    assert sent and all(m["touser"] == "oLong" and m["msgtype"] == "text" for m in sent)
    rest = "\n".join(m["text"]["content"] for m in sent)
    assert "二、申请材料" in first + rest and "开始办理" in rest


async def test_when_wechat_refuses_the_message_waits_in_the_inbox(wx_app: TestClient, wechat: TestServer) -> None:
    await sim(wechat, "POST", "/_sim/errors", {"path": "/cgi-bin/message/custom/send", "errcode": 45015, "times": 20})
    await wx_app.post("/wechat", params=signed(), data=text_message("孩子刚出生，户口咋上", 6001, "oGone"))
    services: Services = wx_app.app[SERVICES]
    await consumer(services).deliver_due()
    assert await sim(wechat, "GET", "/_sim/sent") == []
    # the person comes back (here through the terminal engine with the same user key)
    c = Citizen(services.dialogue, "wechat:oGone", channel="wechat")
    replies = await c.say("你好")
    assert "开始办理" in "\n".join(r.text for r in replies[:3])


async def test_a_rate_limit_is_retried_later(wx_app: TestClient, wechat: TestServer) -> None:
    await sim(wechat, "POST", "/_sim/errors", {"path": "/cgi-bin/message/custom/send", "errcode": 45009})
    await wx_app.post("/wechat", params=signed(), data=text_message("孩子刚出生，户口咋上", 7001, "oBusy"))
    services: Services = wx_app.app[SERVICES]
    messages = consumer(services)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not await sim(wechat, "GET", "/_sim/sent"):
        await messages.deliver_due()
        await asyncio.sleep(0.06)
    assert await sim(wechat, "GET", "/_sim/sent")


async def test_template_and_subscribe_messages_go_out_from_the_right_app(redis_url: str, wechat: TestServer) -> None:
    official, redis = api(redis_url, wechat)
    mini = WeChatApi(redis, MP_APPID, MP_SECRET, str(wechat.make_url("")).rstrip("/"))
    data = {"thing1": {"value": "新生儿出生一件事"}, "phrase2": {"value": "已受理"}}
    try:
        await official.send_template("oFollower", "tpl-progress", data, url="https://example.gov.cn/p")
        await official.send_subscription_notice("oFollower", "biz-progress", data, page="pages/progress")
        await mini.send_subscribe_message("oMini", "mp-progress", data, page="pages/progress/index")
        sent = await sim(wechat, "GET", "/_sim/sent")
        got = [(m["app"], m["kind"], m["touser"], m["template_id"]) for m in sent]
        assert got == [
            (APPID, "template", "oFollower", "tpl-progress"),
            (APPID, "bizsend", "oFollower", "biz-progress"),
            (MP_APPID, "subscribe", "oMini", "mp-progress"),
        ]
        assert all(m["data"] == data for m in sent)
        # no grant left (43101) and not following (43004): another channel must carry it
        for path, code in (("/cgi-bin/message/subscribe/send", 43101), ("/cgi-bin/message/template/send", 43004)):
            await sim(wechat, "POST", "/_sim/errors", {"path": path, "errcode": code})
        with pytest.raises(SendRefused) as refused:
            await mini.send_subscribe_message("oMini", "mp-progress", data)
        assert refused.value.fallback
        with pytest.raises(SendRefused) as refused:
            await official.send_template("oGone", "tpl-progress", data)
        assert refused.value.fallback
    finally:
        await redis.aclose()


async def test_media_is_fetched_with_the_shared_token(redis_url: str, wechat: TestServer) -> None:
    client, redis = api(redis_url, wechat)
    try:
        await sim(wechat, "POST", "/_sim/media", {"media_id": "M1", "base64": "aGVsbG8=", "content_type": "audio/amr"})
        assert await client.download_media("M1") == (b"hello", "audio/amr")
        with pytest.raises(SendRefused) as refused:
            await client.download_media("EXPIRED")  # temporary media lives 3 days
        assert refused.value.errcode == 40007 and not refused.value.fallback
    finally:
        await redis.aclose()
