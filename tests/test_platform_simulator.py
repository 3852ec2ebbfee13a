"""The platform simulator keeps its contract (docs/platform-api.md): signed
callbacks for every status change, duplicated and out of order on demand,
persistence across a restart, and clear 4xx answers to bad requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from integrations.platform import PlatformClient, PlatformRefused, signature_ok
from integrations.simulators.platform import PlatformSim

KEY, SECRET = "k", "s"


def application(callback_url: str | None) -> dict[str, Any]:
    return {
        "thing_id": "newborn",
        "catalog_version": 1,
        "items": [{"key": "a", "name": "事项甲", "dept": "部门"}, {"key": "b", "name": "事项乙", "dept": "部门"}],
        "form": {"applicant_name": "王丽"},
        "callback_url": callback_url,
    }


async def receiver() -> tuple[TestServer, list[dict[str, Any]]]:
    got: list[dict[str, Any]] = []

    async def callback(request: web.Request) -> web.Response:
        body = await request.read()
        ok = signature_ok(
            SECRET, request.headers["X-Platform-Timestamp"], body, request.headers["X-Platform-Signature"]
        )
        got.append({"ok": ok, **json.loads(body)})
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/cb", callback)
    server = TestServer(app)
    await server.start_server()
    return server, got


async def test_callbacks_are_signed_and_can_be_duplicated_and_shuffled(tmp_path: Path) -> None:
    sim = PlatformSim(tmp_path / "p.db", KEY, SECRET, pace=0)
    cb, got = await receiver()
    client = PlatformClient("http://unused", KEY)
    try:
        result = await sim_submit(sim, "key-1", application(str(cb.make_url("/cb"))))
        assert result["number"].startswith("SB") and len(result["number"]) == 16
        assert await sim.deliver_callbacks() == 2
        assert [(e["item"], e["status"], e["seq"]) for e in got] == [("a", "已受理", 1), ("b", "已受理", 1)]
        assert all(e["ok"] for e in got)
        got.clear()
        sim.duplicate, sim.shuffle = True, True
        sim.advance()
        sim.advance()
        await sim.deliver_callbacks()
        assert len(got) == 8  # 4 changes, each sent twice
        assert len({e["event_id"] for e in got}) == 4
        seqs = [e["seq"] for e in got if e["item"] == "a"]
        assert seqs != sorted(seqs)  # out of order
    finally:
        await cb.close()
        await client.close()
        sim.db.close()


async def sim_submit(sim: PlatformSim, key: str, body: dict[str, Any]) -> dict[str, Any]:
    server = TestServer(_app_without_background(sim))
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                server.make_url("/v1/applications"),
                json=body,
                headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": key},
            ) as resp,
        ):
            assert resp.status == 201
            return dict(await resp.json())
    finally:
        await server.close()


def _app_without_background(sim: PlatformSim) -> web.Application:
    app = web.Application()
    app.router.add_post("/v1/applications", sim.submit)
    app.router.add_get("/v1/applications/{number}", sim.status)
    return app


async def test_persistent_idempotent_and_clear_about_bad_requests(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    sim = PlatformSim(db, KEY, SECRET, pace=0)
    server = TestServer(_app_without_background(sim))
    await server.start_server()
    client = PlatformClient(str(server.make_url("")), KEY)
    try:
        first = await client.submit("key-1", application(None))
        again = await client.submit("key-1", application(None))
        assert again.number == first.number and again.replayed and not first.replayed
        with pytest.raises(PlatformRefused) as conflict:
            await client.submit("key-1", {**application(None), "form": {"applicant_name": "李强"}})
        assert conflict.value.status == 409
        with pytest.raises(PlatformRefused) as invalid:
            await client.submit("key-2", {**application(None), "items": []})
        assert invalid.value.status == 422
        assert await client.status("SB00000000000000") is None
    finally:
        await client.close()
        await server.close()
        sim.db.close()
    reopened = PlatformSim(db, KEY, SECRET, pace=0)  # a restarted simulator remembers
    try:
        row = reopened.db.execute("SELECT number FROM apps WHERE idem_key = 'key-1'").fetchone()
        assert row[0] == first.number
    finally:
        reopened.db.close()
