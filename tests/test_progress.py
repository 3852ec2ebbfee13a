"""Status callbacks from the unified platform: signed events over real HTTP
(the platform simulator calls the app back) move each item through a
monotonic state machine; duplicates, late events, forgeries and strangers are
refused or ignored; every change taken reaches the person, 需补正 completely."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from bot.db.schema import application_items, outbox, status_events
from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services, build_services
from integrations.platform import sign
from integrations.simulators.platform import PlatformSim

KEY, SECRET = "platform-test-key", "callback-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(PlatformSim(tmp_path / "platform.db", KEY, SECRET, pace=0).app())
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def app(settings: Settings, platform: TestServer) -> AsyncIterator[TestServer]:
    """The app over real HTTP at a known address, so the platform can call it back."""
    port = free_port()
    configured = settings.model_copy(
        update={
            "platform_url": str(platform.make_url("")),
            "platform_key": SecretStr(KEY),
            "platform_callback_secret": SecretStr(SECRET),
            "public_base_url": f"http://127.0.0.1:{port}",
            "outbox_max_backoff_seconds": 0.05,
        }
    )
    server = TestServer(create_app(configured), port=port)
    await server.start_server()
    yield server
    await server.close()


async def sim(server: TestServer, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.post(server.make_url(path), json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def submitted(services: Services, user: str) -> tuple[Citizen, str]:
    """A newborn application, accepted by the platform: the citizen and the 申办编号."""
    c = Citizen(services.dialogue, user)
    await c.complete(services.catalog.things["newborn"], "新生儿出生一件事")
    worker = services.delivery()
    assert worker is not None and await worker.deliver_due() == 1
    [app] = await services.applications.progress(user)
    return c, str(app["number"])


async def item_rows(services: Services) -> dict[str, tuple[str, int]]:
    async with services.db.connect() as conn:
        rows = await conn.execute(select(application_items))
        return {r.item_key: (r.status, r.seq) for r in rows}


async def until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def post_event(app: TestServer, body: dict[str, Any], secret: str = SECRET, stamp: str | None = None) -> Any:
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = stamp or str(int(time.time()))
    headers = {"X-Platform-Timestamp": stamp, "X-Platform-Signature": sign(secret, stamp, raw),
               "Content-Type": "application/json"}  # fmt: skip
    async with aiohttp.ClientSession() as http, http.post(app.make_url("/callbacks/platform"), data=raw,
                                                           headers=headers) as resp:  # fmt: skip
        return resp.status, await resp.json()


def event(number: str, item: str, status: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"event_id": uuid.uuid4().hex, "number": number, "item": item, "status": status, "seq": seq,
            "note": "", "at": "2026-11-23T10:00:00+08:00", **extra}  # fmt: skip


async def test_callbacks_move_items_and_the_person_hears_of_each_change(app: TestServer, platform: TestServer) -> None:
    services: Services = app.app[SERVICES]
    c, number = await submitted(services, "cb:life")
    notifier = services.notifier()
    await sim(platform, "/_sim/advance")  # every item 已受理 → 审批中, called back to the app
    await until(lambda: _all(services, "审批中"))
    missing = {"missing": ["出生医学证明（首联）原件照片"], "reason": "上传的照片看不清出生证编号",
               "deadline": "2026年11月30日"}  # fmt: skip
    await sim(platform, "/_sim/outcome", {"number": number, "item": "birth_registration", "status": "需补正",
                                          "note": "照片不清晰", "detail": missing})  # fmt: skip
    await until(lambda: _status(services, "birth_registration", "需补正"))
    for _ in range(5):
        await notifier.deliver_due()
    text = "\n".join(r.text for r in await c.say("你好"))
    assert "出生医学证明（首联）原件照片" in text and "看不清出生证编号" in text and "2026年11月30日" in text
    assert text.count("审批中") >= 1  # the earlier changes were told too
    async with services.db.connect() as conn:
        notices = (await conn.execute(select(outbox).where(outbox.c.kind == "notify"))).all()
    assert all(r.delivered_at is not None for r in notices)


async def _all(services: Services, status: str) -> bool:
    return {s for s, _ in (await item_rows(services)).values()} == {status}


async def _status(services: Services, item: str, status: str) -> bool:
    return (await item_rows(services)).get(item, ("", 0))[0] == status


async def test_the_state_machine_takes_each_event_once_and_never_goes_back(app: TestServer) -> None:
    services: Services = app.app[SERVICES]
    _, number = await submitted(services, "cb:machine")
    item = "birth_registration"
    first = event(number, item, "审批中", 2)
    assert await post_event(app, first) == (200, {"ok": True, "taken": "applied"})
    assert await post_event(app, first) == (200, {"ok": True, "taken": "duplicate"})
    assert (await post_event(app, event(number, item, "已办结", 4)))[1]["taken"] == "applied"
    late = event(number, item, "需补正", 3)  # older than what we have: must not move it back
    assert (await post_event(app, late))[1]["taken"] == "stale"
    assert (await item_rows(services))[item] == ("已办结", 4)
    after_final = event(number, item, "审批中", 5)  # a decided item never moves again
    assert (await post_event(app, after_final))[1]["taken"] == "stale"
    assert (await item_rows(services))[item] == ("已办结", 4)
    async with services.db.connect() as conn:
        taken = {(r.seq, r.applied) for r in await conn.execute(select(status_events)) if r.seq > 1}
    assert taken == {(2, True), (4, True), (3, False), (5, False)}  # (seq 1: the acceptance, already known)


async def test_forged_stale_malformed_and_unknown_callbacks_are_refused(
    app: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    services: Services = app.app[SERVICES]
    _, number = await submitted(services, "cb:refuse")
    item = "birth_registration"
    assert (await post_event(app, event(number, item, "审批中", 2), secret="forged"))[0] == 401
    old = str(int(time.time()) - 3600)
    assert (await post_event(app, event(number, item, "审批中", 2), stamp=old))[0] == 401  # a replay
    assert (await post_event(app, {"number": number, "status": "审批中"}))[0] == 400
    assert (await post_event(app, event(number, item, "飞走了", 2)))[0] == 400
    assert (await post_event(app, event("SB000", item, "审批中", 2)))[0] == 404
    assert (await post_event(app, event(number, "no_such_item", "审批中", 2)))[0] == 404
    # a NUL anywhere, which PostgreSQL can neither store nor compare: refused as malformed, not a 500
    assert (await post_event(app, event(number, "birth\x00", "审批中", 2)))[0] == 400
    assert (await post_event(app, event(number, item, "审批中", 2, detail={"missing\x00": []})))[0] == 400
    assert (await item_rows(services))[item] == ("已受理", 1)  # nothing moved
    assert "bad or stale signature" in caplog.text and "unknown_application" in caplog.text
    async with aiohttp.ClientSession() as http, http.post(app.make_url("/callbacks/platform"), data=b"x" * 20000) as r:
        assert r.status == 413


async def test_racing_shuffled_events_end_at_the_highest_seq(app: TestServer) -> None:
    services: Services = app.app[SERVICES]
    _, number = await submitted(services, "cb:race")
    item = "birth_registration"
    events = [event(number, item, "审批中" if seq % 2 else "需补正", seq) for seq in range(2, 22)]
    events += events[:5]  # some twice
    random.Random(7).shuffle(events)
    results = await asyncio.gather(*(post_event(app, e) for e in events))
    assert {status for status, _ in results} == {200}
    assert (await item_rows(services))[item] == ("审批中", 21)
    taken = [body["taken"] for _, body in results]
    assert taken.count("duplicate") == 5


async def test_what_the_platform_shows_when_asked_is_told_the_same_way(
    settings: Settings, platform: TestServer
) -> None:
    """Callbacks lost (nobody listens at the callback URL): asking for progress reads the
    platform, and what changed goes through the same state machine and notices."""
    configured = settings.model_copy(
        update={
            "platform_url": str(platform.make_url("")),
            "platform_key": SecretStr(KEY),
            "public_base_url": "http://127.0.0.1:9",
        }
    )
    services = await build_services(configured)
    try:
        c, number = await submitted(services, "cb:poll")
        await sim(platform, "/_sim/advance")
        text = "\n".join(r.text for r in await c.say("查进度"))
        assert number in text and "审批中" in text
        assert {s for s, _ in (await item_rows(services)).values()} == {"审批中"}
        assert await services.notifier().deliver_due() >= 1
        told = "\n".join(r.text for r in await c.say("你好"))
        assert "有新进展" in told and "审批中" in told
    finally:
        await services.close()


async def test_a_supplement_is_handed_in_from_the_conversation(app: TestServer, platform: TestServer) -> None:
    services: Services = app.app[SERVICES]
    c, number = await submitted(services, "cb:supplement")
    assert "没有需要补正" in (await c.say("补正"))[0].text
    detail = {"missing": ["父母结婚证内页照片"], "reason": "结婚证照片缺少登记页", "deadline": "2026年12月1日"}
    await sim(platform, "/_sim/outcome", {"number": number, "item": "birth_registration", "status": "需补正",
                                          "note": "缺结婚证内页", "detail": detail})  # fmt: skip
    await until(lambda: _status(services, "birth_registration", "需补正"))
    asked = "\n".join(r.text for r in await c.say("我要补正"))
    assert "父母结婚证内页照片" in asked
    taken = "\n".join(r.text for r in await c.say("", metadata={"attachments": ["wechat-media:MARRIAGE-2"]}))
    assert "已转交审批部门" in taken
    worker = services.delivery()
    assert worker is not None and await worker.deliver_due() == 1
    async with aiohttp.ClientSession() as http, http.get(platform.make_url("/_sim/supplements")) as resp:
        [handed] = await resp.json()
    assert (handed["number"], handed["item"], handed["attachments"]) == (number, "birth_registration",
                                                                         ["wechat-media:MARRIAGE-2"])  # fmt: skip
    await until(lambda: _status(services, "birth_registration", "审批中"))  # the platform called back
    assert "没有需要补正" in (await c.say("补正"))[-1].text


async def test_a_signature_header_that_is_not_ascii_is_a_401_not_a_500(app: TestServer) -> None:
    from tests.conftest import raw_post

    headers = {"X-Platform-Timestamp": str(int(time.time())), "X-Platform-Signature": "签名" * 32,
               "Content-Type": "application/json"}  # fmt: skip
    assert await raw_post(app, "/callbacks/platform", headers, b'{"event_id": "e1"}') == 401
