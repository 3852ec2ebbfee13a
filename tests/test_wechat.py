"""The official account's callback: WeChat's wire format, plain and safe mode
(checked against wechatpy's published sample), refusals as 4xx, passive
replies within the budget, the overflow queued, and retries answered once."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from typing import Any

import pytest
import xmltodict
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from bot.db.schema import outbox
from bot.settings import Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.wechat import _cdata_safe

TOKEN = "wx-test-token"
APPID = "wx0123456789abcdef"
# wechatpy's published safe-mode sample (tests/test_crypto.py): token, key, id and one message
SAMPLE_TOKEN = "123456"
SAMPLE_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
SAMPLE_ID = "wx49f0ab532d5d035a"
SAMPLE_XML = """<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>
<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>
<AgentID><![CDATA[1]]></AgentID>
</xml>"""
SAMPLE_QUERY = {"msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d", "timestamp": "1411525903",
                "nonce": "461056294", "encrypt_type": "aes"}  # fmt: skip
SAMPLE_AGE = 2 * 10**9  # the sample was signed in 2014: its test widens the timestamp window to take it


def signed(token: str = TOKEN, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
    """The query WeChat signs a callback with: now, and a fresh nonce (as WeChat draws one per request)."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(random.randrange(10**9))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def text_message(content: str, msg_id: int, sender: str = "oCitizen001") -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_lnyjs]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def reply_of(xml: str) -> dict[str, Any]:
    return dict(xmltodict.parse(xml)["xml"])


@pytest.fixture
def wx_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"wechat_token": SecretStr(TOKEN), "wechat_appid": APPID})


async def test_url_verification(aiohttp_client: Any, wx_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(wx_settings))
    ok = await client.get("/wechat", params={**signed(), "echostr": "hello123"})
    assert ok.status == 200 and await ok.text() == "hello123"
    bad = await client.get("/wechat", params={**signed(token="other"), "echostr": "x"})
    assert bad.status == 403
    assert (await client.get("/wechat", params={"echostr": "x"})).status == 400


async def test_plain_text_gets_a_passive_reply_and_long_answers_are_queued(
    aiohttp_client: Any, wx_settings: Settings
) -> None:
    app = create_app(wx_settings)
    client: TestClient = await aiohttp_client(app)
    resp = await client.post("/wechat", params=signed(), data=text_message("办事清单", 1001))
    assert resp.status == 200
    reply = reply_of(await resp.text())
    assert reply["ToUserName"] == "oCitizen001" and reply["MsgType"] == "text"
    assert "可以在线办理的“一件事”" in reply["Content"]

    resp = await client.post("/wechat", params=signed(), data=text_message("孩子刚出生，户口咋上", 1002))
    content = reply_of(await resp.text())["Content"]
    assert content.endswith(standard.WECHAT_MORE_FOLLOWS)  # the guide is long: the rest follows
    services = app[SERVICES]
    async with services.db.connect() as conn:
        rows = list(await conn.execute(select(outbox).where(outbox.c.kind == "wechat_cs")))
    assert rows and all("oCitizen001" not in r.payload for r in rows)  # encrypted at rest


async def test_retries_of_one_message_are_handled_once(aiohttp_client: Any, wx_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(wx_settings))
    await client.post("/wechat", params=signed(), data=text_message("办事清单", 2001, "oRetry"))
    await client.post("/wechat", params=signed(), data=text_message("12", 2002, "oRetry"))
    first, second = await asyncio.gather(
        client.post("/wechat", params=signed(), data=text_message("开始办理", 2003, "oRetry")),
        client.post("/wechat", params=signed(), data=text_message("开始办理", 2003, "oRetry")),
    )
    a, b = await first.text(), await second.text()
    assert a == b and "先确认一下办理条件" in reply_of(a)["Content"]
    await asyncio.sleep(1.1)  # a later retry still gets the same reply, CreateTime included
    third = await client.post("/wechat", params=signed(), data=text_message("开始办理", 2003, "oRetry"))
    assert await third.text() == a


async def test_safe_mode_with_the_published_sample(aiohttp_client: Any, settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "wechat_token": SecretStr(SAMPLE_TOKEN),
            "wechat_aes_key": SecretStr(SAMPLE_KEY),
            "wechat_appid": SAMPLE_ID,
            "wechat_timestamp_window_seconds": SAMPLE_AGE,
        }
    )
    client: TestClient = await aiohttp_client(create_app(configured))
    resp = await client.post("/wechat", params=SAMPLE_QUERY, data=SAMPLE_XML)
    assert resp.status == 200, await resp.text()
    wrapped = reply_of(await resp.text())
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_ID)
    plain = crypto.decrypt_message(await resp.text(), wrapped["MsgSignature"], wrapped["TimeStamp"], wrapped["Nonce"])
    reply = reply_of(plain)
    assert reply["ToUserName"] == "messense" and reply["Content"]  # the sample's sender, answered

    wrong_sig = {**SAMPLE_QUERY, "msg_signature": "0" * 40}
    assert (await client.post("/wechat", params=wrong_sig, data=SAMPLE_XML)).status == 403
    other_app = configured.model_copy(update={"wechat_appid": "wxother"})
    other: TestClient = await aiohttp_client(create_app(other_app))
    assert (await other.post("/wechat", params=SAMPLE_QUERY, data=SAMPLE_XML)).status == 403


@pytest.mark.parametrize(
    "body",
    [
        "not xml at all",
        "<xml><MsgType>text</MsgType>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
        "<xml><ToUserName>x</ToUserName></xml>",
        "",
    ],
)
async def test_garbage_gets_a_4xx_never_a_500(aiohttp_client: Any, wx_settings: Settings, body: str) -> None:
    client: TestClient = await aiohttp_client(create_app(wx_settings))
    resp = await client.post("/wechat", params=signed(), data=body)
    assert 400 <= resp.status < 500


async def test_bad_signature_and_oversize_body(aiohttp_client: Any, wx_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(wx_settings))
    resp = await client.post("/wechat", params=signed(token="nope"), data=text_message("你好", 3001))
    assert resp.status == 403
    huge = text_message("长" * 70_000, 3002)
    assert (await client.post("/wechat", params=signed(), data=huge)).status == 413
    safe_unconfigured = {**signed(), "encrypt_type": "aes", "msg_signature": "x"}
    assert (await client.post("/wechat", params=safe_unconfigured, data=SAMPLE_XML)).status == 400


def test_replies_survive_cdata_terminators() -> None:
    rendered = TextReply(content=_cdata_safe("a]]>b<x>"), source="gh", target="o").render()
    assert reply_of(rendered)["Content"] == "a]]>b<x>"


async def test_an_engine_slower_than_the_budget_answers_success_and_sends_later(
    aiohttp_client: Any, wx_settings: Settings
) -> None:
    app = create_app(wx_settings.model_copy(update={"wechat_reply_budget_seconds": 0.0}))
    client: TestClient = await aiohttp_client(app)
    resp = await client.post("/wechat", params=signed(), data=text_message("你好", 4001, "oSlow"))
    assert await resp.text() == "success"
    services = app[SERVICES]
    for _ in range(100):
        async with services.db.connect() as conn:
            rows = list(await conn.execute(select(outbox).where(outbox.c.kind == "wechat_cs")))
        if rows:
            break
        await asyncio.sleep(0.05)
    assert rows, "the late answer was queued for a customer-service message"
    payload = services.settings.vault().decrypt(rows[0].payload)
    assert "wechat:oSlow" in payload


def _xml(kind: str, extra: str) -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_lnyjs]]></ToUserName><FromUserName><![CDATA[oKind]]></FromUserName>"
        f"<CreateTime>1763880000</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{extra}</xml>"
    )


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (_xml("image", "<PicUrl>http://x/y.jpg</PicUrl><MediaId>MEDIA1</MediaId><MsgId>1</MsgId>"),
         {"text": "", "metadata": {"attachments": ["wechat-media:MEDIA1"]}}),
        (_xml("voice", "<MediaId>V1</MediaId><Format>amr</Format><Recognition>孩子户口咋上</Recognition><MsgId>2</MsgId>"),
         {"text": "孩子户口咋上", "voice": True}),
        (_xml("voice", "<MediaId>V2</MediaId><Format>amr</Format><MsgId>3</MsgId>"),
         {"text": "", "voice": True, "metadata": {"voice_media": "V2", "voice_format": "amr"}}),
        (_xml("event", "<Event><![CDATA[subscribe]]></Event>"), {"text": ""}),
        (_xml("event", "<Event><![CDATA[unsubscribe]]></Event>"), "success"),
        (_xml("event", "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[PROGRESS]]></EventKey>"), {"text": "查进度"}),
        (_xml("event", "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[NOPE]]></EventKey>"), "success"),
        (_xml("location", "<Location_X>41.8</Location_X><Location_Y>123.4</Location_Y><Scale>15</Scale>"
              "<Label>沈阳</Label><MsgId>4</MsgId>"), standard.WECHAT_UNSUPPORTED),
    ],
)  # fmt: skip
def test_each_kind_of_message_becomes_the_right_inbound(xml: str, expected: Any) -> None:
    from wechatpy import parse_message

    from handlers.wechat import _inbound

    got = _inbound(parse_message(xml))
    if isinstance(expected, str):
        assert got == expected
        return
    assert not isinstance(got, str)
    assert got.user == "wechat:oKind" and got.channel == "wechat"
    for key, value in expected.items():
        assert getattr(got, key) == value


# ---- what an outside security review found (issue 16) ---------------------------------------------------------


def safe_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "wechat_token": SecretStr(SAMPLE_TOKEN),
            "wechat_aes_key": SecretStr(SAMPLE_KEY),
            "wechat_appid": SAMPLE_ID,
        }
    )


def encrypted(xml: str, timestamp: str | None = None, nonce: str | None = None) -> tuple[dict[str, str], str]:
    """A message as WeChat sends it in safe mode: the query and the envelope."""
    timestamp, nonce = timestamp or str(int(time.time())), nonce or str(random.randrange(10**9))
    envelope = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_ID).encrypt_message(xml, nonce, timestamp)
    signature = reply_of(envelope)["MsgSignature"]
    return {"encrypt_type": "aes", "msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, envelope


def opened(envelope: str) -> dict[str, Any]:
    outer = reply_of(envelope)
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_ID)
    return reply_of(crypto.decrypt_message(envelope, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]))


async def test_with_safe_mode_on_a_plain_post_is_refused(aiohttp_client: Any, settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(safe_settings(settings)))
    plain = await client.post("/wechat", params=signed(SAMPLE_TOKEN), data=text_message("你好", 5001, "oPlain"))
    assert plain.status == 403  # genuinely signed with the token, yet not encrypted: not WeChat's
    query, envelope = encrypted(text_message("你好", 5002, "oPlain"))
    assert (await client.post("/wechat", params=query, data=envelope)).status == 200


async def test_a_timestamp_outside_five_minutes_is_refused(aiohttp_client: Any, settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(safe_settings(settings)))
    for age in (301, -301, 86_400):
        query, envelope = encrypted(text_message("你好", 5100 + age, "oOld"), timestamp=str(int(time.time()) - age))
        assert (await client.post("/wechat", params=query, data=envelope)).status == 403, age
    query, envelope = encrypted(text_message("你好", 5099, "oOld"), timestamp=str(int(time.time()) - 240))
    assert (await client.post("/wechat", params=query, data=envelope)).status == 200


async def test_a_nonce_is_good_for_one_message(aiohttp_client: Any, settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(safe_settings(settings)))
    stamp = str(int(time.time()))
    query, envelope = encrypted(text_message("办事清单", 5201, "oNonce"), stamp, "777")
    first = await client.post("/wechat", params=query, data=envelope)
    assert first.status == 200
    again = await client.post("/wechat", params=query, data=envelope)  # the same request: WeChat retrying
    assert again.status == 200 and opened(await again.text()) == opened(await first.text())
    query, envelope = encrypted(text_message("查进度", 5202, "oNonce"), stamp, "777")
    assert (await client.post("/wechat", params=query, data=envelope)).status == 403  # another message


async def test_a_msgid_another_sender_used_gets_its_own_answer(aiohttp_client: Any, wx_settings: Settings) -> None:
    """MsgIds are not unique across senders: the second sender must not receive the first one's reply."""
    client: TestClient = await aiohttp_client(create_app(wx_settings))
    first = reply_of(
        await (await client.post("/wechat", params=signed(), data=text_message("办事清单", 6001, "oA"))).text()
    )
    second = await client.post("/wechat", params=signed(), data=text_message("你好", 6001, "oB"))
    reply = reply_of(await second.text())
    assert reply["ToUserName"] == "oB" and reply["Content"] != first["Content"]


async def test_wechatpys_signature_checks_only_see_verified_signatures(
    aiohttp_client: Any, settings: Settings, wx_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """wechatpy compares signatures with ``!=`` (its time leaks how much of a guess was right): ours are
    compared in constant time first, so wechatpy's comparison never sees a forged one."""
    from wechatpy import crypto as wechatpy_crypto
    from wechatpy import utils as wechatpy_utils

    seen: list[str] = []
    real = wechatpy_crypto.WeChatCrypto.decrypt_message
    monkeypatch.setattr(wechatpy_utils, "check_signature", lambda *a: seen.append("plain"))
    monkeypatch.setattr(
        wechatpy_crypto.WeChatCrypto, "decrypt_message", lambda self, *a: seen.append("safe") or real(self, *a)
    )
    safe: TestClient = await aiohttp_client(create_app(safe_settings(settings)))
    query, envelope = encrypted(text_message("你好", 7001, "oForge"))
    assert (await safe.post("/wechat", params={**query, "msg_signature": "0" * 40}, data=envelope)).status == 403
    plain: TestClient = await aiohttp_client(create_app(wx_settings))
    assert (await plain.post("/wechat", params=signed(token="forged"), data=text_message("你好", 7002))).status == 403
    not_ascii = {**signed(), "signature": "签名" * 20, "echostr": "x"}  # refused, never a 500
    assert (await plain.get("/wechat", params=not_ascii)).status == 403
    assert seen == []
