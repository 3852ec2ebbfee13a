"""What people send the official account besides text, and whether they still
follow it: voice without WeChat's transcript goes through our ASR service
(FunASR's HTTP contract, simulated) and fails kindly; an image answers a form
that waits for a photo; unfollowing stops WeChat pushes until they follow again.
All over real HTTP: callback → app → WeChat API simulator and ASR simulator."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.dialogue.messages import FieldPrompt
from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from handlers.wechat import _queue_customer_service
from integrations.asr import AsrClient, AsrUnavailable
from integrations.simulators.asr import AsrSim
from tests.conftest import WECHAT_APPID as APPID
from tests.conftest import WECHAT_SECRET as SECRET
from tests.test_wechat import TOKEN, reply_of, signed

AMR = b"#!AMR\n" + bytes(range(256)) * 8  # an AMR header and some frames: the bytes are what matters


def voice_message(media_id: str, msg_id: int, sender: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_lnyjs]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>{msg_id}</MsgId></xml>"
    )


def image_message(media_id: str, msg_id: int, sender: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_lnyjs]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[{media_id}]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_message(event: str, sender: str, at: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_lnyjs]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>"
    )


async def call(server: TestServer, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(method, server.make_url(path), json=body) as resp:
        return await resp.json()


@pytest.fixture
async def asr() -> AsyncIterator[TestServer]:
    server = TestServer(AsrSim(slow_seconds=3.0).app())
    await server.start_server()
    yield server
    await server.close()


def configured(settings: Settings, wechat: TestServer, asr_url: str | None) -> Settings:
    return settings.model_copy(
        update={
            "wechat_token": SecretStr(TOKEN),
            "wechat_appid": APPID,
            "wechat_secret": SecretStr(SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            "asr_url": asr_url,
            "asr_timeout_seconds": 1.0,
        }
    )


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, wechat: TestServer, asr: TestServer) -> TestClient:
    return await aiohttp_client(create_app(configured(settings, wechat, str(asr.make_url("")).rstrip("/"))))  # type: ignore[no-any-return]


async def send(client: TestClient, xml: str) -> str:
    resp = await client.post("/wechat", params=signed(), data=xml)
    assert resp.status == 200
    text = await resp.text()
    return text if text == "success" else str(reply_of(text)["Content"])


async def test_voice_without_a_transcript_is_recognised_and_understood(
    client: TestClient, wechat: TestServer, asr: TestServer
) -> None:
    await call(wechat, "POST", "/_sim/media", {"media_id": "VOICE1", "base64": base64.b64encode(AMR).decode(),
                                               "content_type": "audio/amr"})  # fmt: skip
    await call(asr, "POST", "/_sim/clips", {"base64": base64.b64encode(AMR).decode(), "text": "孩子刚出生户口咋上"})
    reply = await send(client, voice_message("VOICE1", 9101, "oVoice"))
    assert reply != standard.WECHAT_VOICE_UNHEARD and "出生" in reply
    assert (await call(asr, "GET", "/_sim/heard"))["heard"] == 1


@pytest.mark.parametrize("failure", ["error", "undecodable", "slow", "unknown media", "silence"])
async def test_voice_that_cannot_be_recognised_gets_a_kind_way_forward(
    client: TestClient, wechat: TestServer, asr: TestServer, failure: str
) -> None:
    media = "NOPE" if failure == "unknown media" else "VOICE2"
    await call(wechat, "POST", "/_sim/media", {"media_id": "VOICE2", "base64": base64.b64encode(AMR).decode(),
                                               "content_type": "audio/amr"})  # fmt: skip
    if failure in ("error", "undecodable", "slow"):
        await call(asr, "POST", "/_sim/fail", {"mode": failure})
    reply = await send(client, voice_message(media, 9200, "oVoice2"))
    assert reply == standard.WECHAT_VOICE_UNHEARD
    assert "打字" in reply and "12345" in reply


async def test_voice_without_an_asr_service(aiohttp_client: Any, settings: Settings, wechat: TestServer) -> None:
    client: TestClient = await aiohttp_client(create_app(configured(settings, wechat, None)))
    assert await send(client, voice_message("VOICE3", 9301, "oVoice3")) == standard.WECHAT_VOICE_UNHEARD


async def test_the_asr_client_refuses_what_it_cannot_use(asr: TestServer) -> None:
    client = AsrClient(str(asr.make_url("")).rstrip("/"), timeout=1.0)
    try:
        assert await client.transcribe(AMR, "voice.amr") == ""  # silence: heard, nothing said
        with pytest.raises(AsrUnavailable):
            await client.transcribe(b"", "voice.amr")  # the server cannot decode nothing
        with pytest.raises(AsrUnavailable, match="too long"):
            await client.transcribe(b"\0" * (3 * 1024 * 1024), "voice.amr")
    finally:
        await client.close()
    down = AsrClient("http://127.0.0.1:9", timeout=1.0)
    with pytest.raises(AsrUnavailable):
        await down.transcribe(AMR, "voice.amr")
    await down.close()


async def test_an_image_answers_the_form_question_that_waits_for_a_photo(client: TestClient) -> None:
    services: Services = client.app[SERVICES]
    thing = services.catalog.things["dog_license"]
    citizen = Citizen(services.dialogue, "wechat:oDog", channel="wechat")
    replies = await citizen.say("我想给狗办证")
    for _ in range(60):
        last = replies[-1]
        if isinstance(last, FieldPrompt) and last.field_id == "rabies_certificate":
            break
        answer = citizen.answer_for(replies, thing)
        assert answer is not None, citizen.dump()
        replies = await citizen.say(answer)
    else:
        raise AssertionError(f"never asked for the rabies certificate:\n{citizen.dump()}")
    reply = await send(client, image_message("PHOTO-RABIES-1", 9401, "oDog"))
    state = await services.dialogue.form_state("wechat:oDog", "wechat", "dog_license")
    assert state["answers"]["rabies_certificate"] == "wechat-media:PHOTO-RABIES-1"
    assert "狂犬病免疫证明" not in reply.split("\n")[-1]  # the next question, not the same one again


async def test_unfollowing_stops_wechat_pushes_until_they_follow_again(client: TestClient, wechat: TestServer) -> None:
    services: Services = client.app[SERVICES]
    messages = services.wechat_messages()
    assert messages is not None
    now = int(time.time())
    welcome = await send(client, event_message("subscribe", "oLeaving", now))
    assert welcome != "success"
    assert await send(client, event_message("unsubscribe", "oLeaving", now + 1)) == "success"
    assert not await services.contacts.follows("wechat:oLeaving")

    await _queue_customer_service(services, "wechat:oLeaving", ["您的申请已受理"])
    await messages.deliver_due()
    assert await call(wechat, "GET", "/_sim/sent") == []  # not pushed to someone who left
    kept = await services.inbox.take("wechat:oLeaving")
    assert [n["text"] for n in kept] == ["您的申请已受理"]  # but kept for their return

    await send(client, event_message("subscribe", "oLeaving", now + 2))
    assert await services.contacts.follows("wechat:oLeaving")
    await _queue_customer_service(services, "wechat:oLeaving", ["欢迎回来"])
    await messages.deliver_due()
    sent = await call(wechat, "GET", "/_sim/sent")
    assert [(m["touser"], m["text"]["content"]) for m in sent] == [("oLeaving", "欢迎回来")]
