"""The aiohttp app over real Redis and a real database: health and catalog API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.db import head_revision
from bot.redis_client import make_redis
from bot.settings import Settings
from bot.worker import run_worker
from handlers.app import create_app


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


async def test_healthz_reports_every_part(client: TestClient, settings: Settings) -> None:
    resp = await client.get("/healthz")
    body = await resp.json()
    assert resp.status == 200, body
    checks = body["checks"]
    assert checks["redis"] == {"ok": True}
    assert checks["database"]["revision"] == head_revision()
    assert checks["database"]["dialect"] in ("sqlite", "postgresql")
    assert checks["catalog"]["things"] == 35
    assert checks["workers"]["alive"] == 0


async def test_healthz_counts_a_running_worker(client: TestClient, settings: Settings) -> None:
    redis = make_redis(settings.redis_url)
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(redis, [], heartbeat=0.2, stop=stop))
    try:
        for _ in range(50):
            body = await (await client.get("/healthz")).json()
            if body["checks"]["workers"]["alive"] == 1:
                break
            await asyncio.sleep(0.05)
        assert body["checks"]["workers"]["alive"] == 1
    finally:
        stop.set()
        await task
        await redis.aclose()
    body = await (await client.get("/healthz")).json()
    assert body["checks"]["workers"]["alive"] == 0  # a stopped worker signs off


async def test_healthz_tells_when_redis_is_down(aiohttp_client: Any, settings: Settings) -> None:
    dead = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    client = await aiohttp_client(create_app(dead))
    resp = await client.get("/healthz")
    body = await resp.json()
    assert resp.status == 503
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


async def test_list_things_by_category_and_keyword(client: TestClient) -> None:
    body = await (await client.get("/api/things")).json()
    assert body["count"] == 35
    assert [t["seq"] for t in body["things"]] == list(range(1, 36))
    legal = await (await client.get("/api/things", params={"category": "法人"})).json()
    assert legal["count"] == 15 and {t["category"] for t in legal["things"]} == {"法人"}
    found = await (await client.get("/api/things", params={"q": "落户"})).json()
    ids = {t["id"] for t in found["things"]}
    assert {"newborn", "graduate_household_registration"} <= ids
    assert "open_restaurant" not in ids


async def test_bad_category_is_a_400(client: TestClient) -> None:
    resp = await client.get("/api/things", params={"category": "外星人"})
    assert resp.status == 400
    assert (await resp.json())["error"] == "bad_category"


async def test_one_guide_in_full(client: TestClient) -> None:
    resp = await client.get("/api/things/newborn")
    body = await resp.json()
    assert resp.status == 200
    assert [i["name"] for i in body["items"]] == [
        "出生医学证明办理",
        "新生婴儿出生落户",
        "城乡居民参保登记",
        "社会保障卡申领",
    ]
    assert all(item["materials"] for item in body["items"])
    assert any(f["id"] == "child_name" for f in body["form"]["fields"])
    assert body["notice"].startswith("【新生儿出生】办事指南（一次告知）")


async def test_unknown_guide_is_a_404_with_a_message(client: TestClient) -> None:
    resp = await client.get("/api/things/moon_landing")
    assert resp.status == 404
    assert await resp.json() == {"error": "not_found", "message": "没有找到这件事：moon_landing"}


async def test_healthz_tells_strangers_the_verdict_only(aiohttp_client: Any, settings: Settings) -> None:
    """The review's finding: /healthz told the public the database dialect, revision and worker count."""
    from tests.console_helpers import as_staff

    client = await aiohttp_client(create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"})))
    outside = {"X-Forwarded-For": "203.0.113.5"}  # through our proxy, from the internet
    body = await (await client.get("/healthz", headers=outside)).json()
    assert body == {"status": "ok", "checks": {k: {"ok": True} for k in ("redis", "workers", "database", "catalog")}}
    await as_staff(client, "ops.admin")  # a member of staff sees it all, wherever they are
    body = await (await client.get("/healthz", headers=outside)).json()
    assert body["checks"]["database"]["revision"] == head_revision()
