"""Submission to the unified platform through the outbox, against the
platform simulator over real HTTP: the 申办编号 reaches the person, progress
is read per item, and each application reaches the platform exactly once
when the platform is down, when the answer is lost, when two workers race,
and when a worker dies holding a row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from bot.applications.delivery import OutboxDelivery
from bot.db.schema import outbox
from bot.dialogue.scripted import Citizen
from bot.outbox import OutboxConsumer
from bot.settings import Settings
from bot.texts import standard
from handlers.services import Services, build_services
from integrations.simulators.platform import PlatformSim

KEY, SECRET = "platform-test-key", "callback-test-secret"


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[TestServer]:
    sim = PlatformSim(tmp_path / "platform.db", KEY, SECRET, pace=0)
    server = TestServer(sim.app())
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def services(settings: Settings, platform: TestServer) -> AsyncIterator[Services]:
    configured = settings.model_copy(
        update={
            "platform_url": str(platform.make_url("")),
            "platform_key": SecretStr(KEY),
            "platform_timeout_seconds": 2.0,
            "outbox_max_backoff_seconds": 0.05,
            "outbox_lease_seconds": 0.5,
        }
    )
    built = await build_services(configured)
    yield built
    await built.close()


async def sim(server: TestServer, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(method, server.make_url(path), json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def submitted(services: Services, user: str) -> Citizen:
    c = Citizen(services.dialogue, user)
    await c.complete(services.catalog.things["newborn"], "新生儿出生一件事")
    assert standard.SUBMITTED in c.last_text(), c.dump()
    return c


def delivery(services: Services) -> OutboxDelivery:
    worker = services.delivery()
    assert worker is not None
    return worker


async def drain(*workers: OutboxConsumer, rounds: int = 40) -> None:
    """Run the consumers until none of their rows is left (backoff is tiny in these tests)."""
    kinds = {k for w in workers for k in w.kinds}
    for _ in range(rounds):
        for worker in workers:
            await worker.deliver_due()
        async with workers[0].db.connect() as conn:
            left = (
                await conn.execute(select(outbox.c.id).where(outbox.c.delivered_at.is_(None), outbox.c.kind.in_(kinds)))
            ).all()
        if not left:
            return
        await asyncio.sleep(0.06)
    raise AssertionError("outbox not empty")


async def test_accepted_number_reaches_the_person_and_progress_is_per_item(
    services: Services, platform: TestServer
) -> None:
    c = await submitted(services, "sub:happy")
    await drain(delivery(services), services.notifier())
    [received] = await sim(platform, "GET", "/_sim/applications")
    [app] = await services.applications.progress(c.user)
    assert received["idempotency_key"] == app["id"]
    assert app["number"] == received["number"] and app["number"].startswith("SB")
    assert {i["key"] for i in received["request"]["items"]} == {i["key"] for i in app["items"]}
    assert received["request"]["form"]["applicant_id_card"] == "210102199003074522"

    replies = await c.say("你好")
    assert standard.NOTICE_ACCEPTED.format(name="新生儿出生", number=app["number"]) == replies[0].text
    replies = await c.say("你好")
    assert app["number"] not in replies[0].text  # told once

    await sim(platform, "POST", "/_sim/advance")
    replies = await c.say("查进度")
    text = replies[0].text
    assert app["number"] in text and "出生医学证明办理：审批中" in text, text
    replies = await c.say(app["number"])  # the number alone
    assert "出生医学证明办理：审批中" in replies[0].text
    other = Citizen(services.dialogue, "sub:stranger")
    replies = await other.say(f"查一下{app['number']}")
    assert "没有找到申办编号" in replies[0].text  # nobody sees another person's application


async def test_platform_down_then_back_delivers_once_and_tells_the_person(
    services: Services, platform: TestServer
) -> None:
    c = await submitted(services, "sub:down")
    await sim(platform, "POST", "/_sim/faults", {"mode": "down"})
    worker = delivery(services)
    for _ in range(3):
        await worker.deliver_due()
        await asyncio.sleep(0.06)
    async with services.db.connect() as conn:
        row = (await conn.execute(select(outbox).where(outbox.c.kind == "submit"))).one()
    assert row.delivered_at is None and row.attempts >= 2 and "503" in row.last_error
    replies = await c.say("查进度")
    assert standard.PROGRESS_PENDING_NUMBER in replies[0].text

    await sim(platform, "POST", "/_sim/faults", {"mode": "ok"})
    await drain(worker, services.notifier())
    assert len(await sim(platform, "GET", "/_sim/applications")) == 1
    replies = await c.say("你好")
    assert "已被政务服务平台受理" in replies[0].text


async def test_a_lost_answer_is_retried_without_a_second_application(services: Services, platform: TestServer) -> None:
    c = await submitted(services, "sub:lost")
    await sim(platform, "POST", "/_sim/faults", {"mode": "drop_after_commit"})
    worker = delivery(services)
    await worker.deliver_due()
    [stored] = await sim(platform, "GET", "/_sim/applications")  # the platform has it, we were not told
    [app] = await services.applications.progress(c.user)
    assert app["number"] is None
    await sim(platform, "POST", "/_sim/faults", {"mode": "ok"})
    await drain(worker)
    assert len(await sim(platform, "GET", "/_sim/applications")) == 1
    [app] = await services.applications.progress(c.user)
    assert app["number"] == stored["number"]


async def test_two_workers_racing_deliver_once(services: Services, platform: TestServer) -> None:
    for n in range(5):
        await submitted(services, f"sub:race{n}")
    a, b = delivery(services), delivery(services)
    await asyncio.gather(*(w.deliver_due() for w in (a, b, a, b)))
    await drain(a)
    received = await sim(platform, "GET", "/_sim/applications")
    keys = [r["idempotency_key"] for r in received]
    assert len(keys) == 5 and len(set(keys)) == 5


async def test_a_worker_that_dies_holding_a_row_is_taken_over_after_the_lease(
    services: Services, platform: TestServer
) -> None:
    await submitted(services, "sub:dead")
    dead = delivery(services)
    async with services.db.connect() as conn:
        row = (await conn.execute(select(outbox).where(outbox.c.kind == "submit"))).one()
    assert await dead.claim(row.id, row.attempts) == 1  # claimed, then the process is gone
    alive = delivery(services)
    assert await alive.deliver_due() == 0  # leased: nobody else touches it yet
    await asyncio.sleep(0.6)
    await drain(alive)
    assert len(await sim(platform, "GET", "/_sim/applications")) == 1


async def test_the_platform_refusing_a_request_is_kept_for_staff_and_told(
    services: Services, platform: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await submitted(services, "sub:refused")
    worker = delivery(services)
    original = worker._payload

    def broken(app: Any, sealed: dict[str, Any]) -> dict[str, Any]:
        payload = original(app, sealed)
        payload["items"] = []  # what a catalog/platform mismatch would send
        return payload

    monkeypatch.setattr(worker, "_payload", broken)
    await drain(worker, services.notifier())
    assert await sim(platform, "GET", "/_sim/applications") == []
    [app] = await services.applications.progress(c.user)
    assert app["status"] == "needs_staff"
    async with services.db.connect() as conn:
        row = (await conn.execute(select(outbox).where(outbox.c.kind == "submit"))).one()
    assert "422" in row.last_error
    replies = await c.say("你好")
    assert "人工核对" in replies[0].text
