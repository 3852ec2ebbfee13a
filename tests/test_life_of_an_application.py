"""The whole life of an application, over real HTTP between the app and every
simulator: a WeChat follower applies → the platform accepts (已受理) → asks
for 补正 → the person sends a photo in WeChat → 已办结 → each step pushed as a
template message the WeChat API simulator sees → a rating in WeChat → 差评 →
a 12345 work order. And when WeChat fails, the push goes out as an SMS."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from integrations.simulators.hotline import HotlineSim
from integrations.simulators.platform import PlatformSim
from tests.conftest import WECHAT_APPID, WECHAT_SECRET
from tests.test_progress import free_port
from tests.test_wechat import TOKEN, reply_of, signed
from tests.test_wechat_media import image_message

P_KEY, P_SECRET, H_KEY, H_SECRET = "p-key", "p-secret", "h-key", "h-secret"
OPENID = "oLifeLong"


@pytest.fixture
async def sims(tmp_path: Path) -> AsyncIterator[tuple[TestServer, TestServer]]:
    platform = TestServer(PlatformSim(tmp_path / "platform.db", P_KEY, P_SECRET, pace=0).app())
    hotline = TestServer(HotlineSim(tmp_path / "hotline.db", H_KEY, H_SECRET, pace=0, retry_base=0.05).app())
    for server in (platform, hotline):
        await server.start_server()
    yield platform, hotline
    for server in (platform, hotline):
        await server.close()


@pytest.fixture
async def app(settings: Settings, wechat: TestServer, sims: tuple[TestServer, TestServer]) -> AsyncIterator[TestServer]:
    platform, hotline = sims
    port = free_port()
    configured = settings.model_copy(
        update={
            "wechat_token": SecretStr(TOKEN), "wechat_appid": WECHAT_APPID, "wechat_secret": SecretStr(WECHAT_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            "platform_url": str(platform.make_url("")), "platform_key": SecretStr(P_KEY),
            "platform_callback_secret": SecretStr(P_SECRET),
            "hotline_url": str(hotline.make_url("")).rstrip("/"), "hotline_key": SecretStr(H_KEY),
            "hotline_callback_secret": SecretStr(H_SECRET),
            "public_base_url": f"http://127.0.0.1:{port}", "outbox_max_backoff_seconds": 0.01,
        }
    )  # fmt: skip
    server = TestServer(create_app(configured), port=port)
    await server.start_server()
    yield server
    await server.close()


async def call(server: TestServer, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(method, server.make_url(path), json=body) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


class Worker:
    """What `python -m bot worker` runs, one pass at a time."""

    def __init__(self, services: Services) -> None:
        orders = services.work_order_sender()
        delivery = services.delivery()
        assert orders is not None and delivery is not None
        self.consumers = [delivery, services.notifier(), orders]

    async def run(self, passes: int = 4) -> None:
        for _ in range(passes):
            for consumer in self.consumers:
                await consumer.deliver_due()
            await asyncio.sleep(0.05)


async def wechat_says(app: TestServer, xml: str) -> str:
    async with aiohttp.ClientSession() as http, http.post(app.make_url("/wechat"), params=signed(), data=xml) as r:
        text = await r.text()
    return text if text == "success" else str(reply_of(text)["Content"])


def text_xml(content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


async def templates(wechat: TestServer) -> list[str]:
    return [m["data"]["keyword3"]["value"] for m in await call(wechat, "GET", "/_sim/sent") if m["kind"] == "template"]


async def until(check: Any, timeout: float = 6.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not in time")


async def test_from_chat_to_a_bad_rating_at_12345(
    app: TestServer, wechat: TestServer, sims: tuple[TestServer, TestServer]
) -> None:
    platform, hotline = sims
    services: Services = app.app[SERVICES]
    worker = Worker(services)
    user = f"wechat:{OPENID}"
    citizen = Citizen(services.dialogue, user, channel="wechat")  # the form, answered as in WeChat
    await citizen.complete(services.catalog.things["newborn"], "孩子刚出生，户口咋上")
    assert standard.SUBMITTED in citizen.last_text()
    await worker.run()
    [app_] = await services.applications.progress(user)
    number = app_["number"]
    assert number and "已受理" in await templates(wechat)  # 已受理, pushed as a template message

    detail = {"missing": ["出生医学证明照片"], "reason": "照片模糊", "deadline": "2026年12月1日"}
    await call(platform, "POST", "/_sim/outcome", {"number": number, "item": "birth_certificate", "status": "需补正",
                                                   "note": "照片模糊", "detail": detail})  # fmt: skip

    async def supplement_asked() -> bool:
        await worker.run(1)
        return "需补正" in await templates(wechat)

    await until(supplement_asked)
    asked = await wechat_says(app, text_xml("补正", 8101))
    assert "出生医学证明照片" in asked
    taken = await wechat_says(app, image_message("BIRTH-CERT-PHOTO", 8102, OPENID))
    assert "已转交审批部门" in taken
    await worker.run()
    supplied = await call(platform, "GET", "/_sim/supplements")
    assert supplied[0]["attachments"] == ["wechat-media:BIRTH-CERT-PHOTO"]

    for item in ("birth_certificate", "birth_registration", "medical_insurance", "social_security_card"):
        await call(platform, "POST", "/_sim/outcome", {"number": number, "item": item, "status": "已办结",
                                                       "detail": {"delivery": {"method": "邮寄", "tracking": "SF1"}}})  # fmt: skip

    async def all_done() -> bool:
        await worker.run(1)
        return (await templates(wechat)).count("已办结") == 4

    await until(all_done)
    invited = await wechat_says(app, text_xml("你好", 8103))
    assert "回复“评价”" in invited and "SF1" in invited  # the result's delivery and the invitation

    asked = await wechat_says(app, text_xml("评价", 8104))
    assert "非常满意" in asked and "非常不满意" in asked
    assert await wechat_says(app, text_xml("5", 8105)) == standard.RATE_WHY  # 5th choice: 非常不满意
    taken = await wechat_says(app, text_xml("证件寄丢了一个，打电话也没人管", 8106))
    assert taken.startswith(standard.RATE_BAD_TAKEN)
    await worker.run()
    [order] = await call(hotline, "GET", "/_sim/orders")
    assert order["kind"] == "投诉" and order["application_number"] == number
    assert "证件寄丢了一个" in order["content"] and order["department"] == "省卫生健康委"


async def test_wechat_failing_sends_an_sms(
    app: TestServer, wechat: TestServer, sims: tuple[TestServer, TestServer]
) -> None:
    _, hotline = sims
    services: Services = app.app[SERVICES]
    user = f"wechat:{OPENID}"
    citizen = Citizen(services.dialogue, user, channel="wechat")
    await citizen.complete(services.catalog.things["newborn"], "孩子刚出生，户口咋上")
    await call(wechat, "POST", "/_sim/errors", {"path": "/cgi-bin/message/template/send", "errcode": 43004})
    await Worker(services).run()
    assert await templates(wechat) == []
    [sms] = await call(hotline, "GET", "/_sim/sms")
    assert "已被政务服务平台受理" in sms["text"] and sms["phone"] == "138****2345"
