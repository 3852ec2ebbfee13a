"""Admins teach the NLU over the HTTP API: examples, fallbacks, retraining,
activation (followed by every serve process through Redis) and roll-back,
with every change audited. A small slice of nlu_data/ keeps retraining quick."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.db import make_engine
from bot.db.schema import audit_log
from bot.nlu.data import TrainingData, dump, loads, read_dir, read_file
from bot.settings import ROOT, Settings
from handlers.app import create_app
from tests.console_helpers import as_staff

INTENTS = {"greet", "goodbye", "thanks", "out_of_scope", "thing_newborn", "thing_posthumous_affairs"}


def _slice(data: TrainingData) -> TrainingData:
    return TrainingData(
        examples=[e for e in data.examples if e.intent in INTENTS],
        synonyms=data.synonyms,
        lookups=data.lookups,
        regexes=data.regexes,
    )


@pytest.fixture
def admin_settings(settings: Settings, tmp_path: Path) -> Settings:
    data_dir = tmp_path / "nlu_data"
    data_dir.mkdir()
    (data_dir / "nlu.yml").write_text(dump(_slice(read_dir(ROOT / "nlu_data"))), encoding="utf-8")
    shutil.copytree(ROOT / "nlu_data" / "jieba", data_dir / "jieba")
    held_out = tmp_path / "held_out.yml"
    held_out.write_text(dump(_slice(read_file(ROOT / "tests" / "data" / "nlu_test.yml"))), encoding="utf-8")
    return settings.model_copy(update={"nlu_data_dir": data_dir, "nlu_eval_file": held_out})


async def _audit_rows(settings: Settings) -> list[Any]:
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(select(audit_log).order_by(audit_log.c.id)))
    finally:
        await engine.dispose()


async def test_every_admin_route_needs_an_admin_login(aiohttp_client: Any, admin_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(admin_settings))
    agent: TestClient = await aiohttp_client(create_app(admin_settings))
    agent_csrf = await as_staff(agent, "chen", role="agent")
    for method, path in [
        ("GET", "/api/admin/nlu/intents"),
        ("POST", "/api/admin/nlu/examples"),
        ("DELETE", "/api/admin/nlu/examples/1"),
        ("GET", "/api/admin/nlu/fallbacks"),
        ("POST", "/api/admin/nlu/models"),
        ("POST", "/api/admin/nlu/models/1/activate"),
        ("POST", "/api/admin/nlu/models/rollback"),
        ("GET", "/api/admin/nlu/export"),
    ]:
        resp = await client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert resp.status == 401, (method, path)
        resp = await agent.request(method, path, headers=agent_csrf)  # a hotline agent is not an admin
        assert resp.status == 403, (method, path)


async def test_examples_are_added_edited_removed_and_audited(aiohttp_client: Any, admin_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(admin_settings))
    h = await as_staff(client, "wang")
    intents = {
        i["intent"]: i["examples"]
        for i in (await (await client.get("/api/admin/nlu/intents", headers=h)).json())["intents"]
    }
    shipped = _slice(read_dir(ROOT / "nlu_data")).by_intent()
    assert intents == {name: len(examples) for name, examples in shipped.items()}

    resp = await client.post(
        "/api/admin/nlu/examples", json={"intent": "thing_newborn", "text": "闺女刚落地，户口咋整"}, headers=h
    )
    assert resp.status == 201, await resp.text()
    example_id = (await resp.json())["id"]

    again = await client.post(
        "/api/admin/nlu/examples", json={"intent": "greet", "text": "闺女刚落地，户口咋整"}, headers=h
    )
    assert again.status == 409
    assert "已经有了" in (await again.json())["message"]

    for payload in [
        {"intent": "no such intent", "text": "随便"},
        {"intent": "thing_newborn", "text": "   "},
        {"intent": "thing_newborn", "text": "长" * 501},
        {"text": "缺了意图"},
    ]:
        bad = await client.post("/api/admin/nlu/examples", json=payload, headers=h)
        assert bad.status == 400, payload
        assert (await bad.json())["message"]
    assert (await client.post("/api/admin/nlu/examples", data="not json", headers=h)).status == 400
    for intent in ("%00", "greet%00", "no%20such%20intent"):  # PostgreSQL refuses a NUL in text: a 400, not a 500
        listed_bad = await client.get(f"/api/admin/nlu/examples?intent={intent}", headers=h)
        assert listed_bad.status == 400, intent
        assert (await listed_bad.json())["error"] == "bad_intent"

    h = await as_staff(client, "li")
    edit = await client.put(
        f"/api/admin/nlu/examples/{example_id}",
        json={"intent": "thing_posthumous_affairs", "text": "老人刚没了，后事咋整"},
        headers=h,
    )
    assert edit.status == 200, await edit.text()
    listed = await (await client.get("/api/admin/nlu/examples?intent=thing_posthumous_affairs", headers=h)).json()
    assert {"id": example_id, "intent": "thing_posthumous_affairs", "text": "老人刚没了，后事咋整"} in listed[
        "examples"
    ]

    h = await as_staff(client, "zhao")
    assert (await client.delete(f"/api/admin/nlu/examples/{example_id}", headers=h)).status == 200
    assert (await client.delete(f"/api/admin/nlu/examples/{example_id}", headers=h)).status == 404
    assert (await client.put("/api/admin/nlu/examples/abc", json={"text": "x好"}, headers=h)).status == 404

    trail = [(r.actor, r.action, r.target) for r in await _audit_rows(admin_settings)]
    target = f"example:{example_id}"
    assert next(a for _, a, _ in trail if a.startswith("nlu.")) == "nlu.seed"
    assert ("wang", "nlu.example.add", target) in trail
    assert ("li", "nlu.example.edit", target) in trail
    assert ("zhao", "nlu.example.remove", target) in trail
    edit_row = next(r for r in await _audit_rows(admin_settings) if r.action == "nlu.example.edit")
    assert edit_row.detail["from"] == {"intent": "thing_newborn", "text": "闺女刚落地，户口咋整"}
    assert edit_row.at is not None


async def test_fallbacks_are_recorded_masked_and_can_be_labelled(aiohttp_client: Any, admin_settings: Settings) -> None:
    # Every utterance falls back at this threshold: what is recorded is the point here.
    strict = admin_settings.model_copy(update={"nlu_fallback_threshold": 0.999})
    client: TestClient = await aiohttp_client(create_app(strict))
    h = await as_staff(client)
    said = "我叫王小明，电话13912345678，孩子的事咋弄"
    parsed = await (await client.post("/api/admin/nlu/parse", json={"text": said}, headers=h)).json()
    assert parsed["intent"]["name"] == "nlu_fallback"

    rows = (await (await client.get("/api/admin/nlu/fallbacks", headers=h)).json())["fallbacks"]
    assert len(rows) == 1
    row = rows[0]
    assert row["text"] == "我叫王**，电话139****5678，孩子的事咋弄"
    assert row["channel"] == "admin" and row["at"]

    label = await client.post(
        f"/api/admin/nlu/fallbacks/{row['id']}/label", json={"intent": "thing_newborn"}, headers=h
    )
    assert label.status == 201, await label.text()
    examples = await (await client.get("/api/admin/nlu/examples?intent=thing_newborn", headers=h)).json()
    assert row["text"] in [e["text"] for e in examples["examples"]]
    assert (await (await client.get("/api/admin/nlu/fallbacks", headers=h)).json())["fallbacks"] == []
    everything = (await (await client.get("/api/admin/nlu/fallbacks?all=1", headers=h)).json())["fallbacks"]
    assert everything[0]["labelled_intent"] == "thing_newborn"
    missing = await client.post("/api/admin/nlu/fallbacks/999999/label", json={"intent": "greet"}, headers=h)
    assert missing.status == 404


async def _wait_in_use(client: TestClient, version: int) -> None:
    for _ in range(100):
        body = await (await client.get("/api/admin/nlu/models")).json()  # a read needs the login, not CSRF
        if body["in_use"] == version:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"version {version} never came into use: {body}")


async def test_retrain_activate_refuse_force_and_roll_back_across_processes(
    aiohttp_client: Any, admin_settings: Settings
) -> None:
    admin: TestClient = await aiohttp_client(create_app(admin_settings))
    ha = await as_staff(admin)
    other: TestClient = await aiohttp_client(create_app(admin_settings))  # a second serve process
    ho = await as_staff(other)

    # A phrase nobody would guess, taught to one intent: which model answers shows.
    taught = "芝麻开门请帮忙"
    before = await (await other.post("/api/admin/nlu/parse", json={"text": taught}, headers=ho)).json()
    assert before["intent"]["name"] != "thing_newborn"
    for text in ["芝麻开门请帮忙办", "芝麻开门，请帮忙", "请帮忙芝麻开门", "芝麻开门帮帮忙"]:
        resp = await admin.post("/api/admin/nlu/examples", json={"intent": "thing_newborn", "text": text}, headers=ha)
        assert resp.status == 201

    first = await admin.post("/api/admin/nlu/models?wait=1", headers=ha)
    assert first.status == 201, await first.text()
    v1 = await first.json()
    assert v1["active"] is None and v1["accuracy_change"] is None
    assert v1["evaluation"]["cross_validation"]["accuracy"] > 0.8
    assert v1["evaluation"]["held_out"]["n"] > 0
    assert "report" not in v1["evaluation"]  # the per-intent report: GET …/models/{v}/report

    assert (await admin.post(f"/api/admin/nlu/models/{v1['version']}/activate", headers=ha)).status == 200
    await _wait_in_use(other, v1["version"])
    after = await (await other.post("/api/admin/nlu/parse", json={"text": taught}, headers=ho)).json()
    assert after["intent"]["name"] == "thing_newborn"

    # Scramble a third of the greetings into goodbyes: a clearly worse model.
    greetings = (await (await admin.get("/api/admin/nlu/examples?intent=greet", headers=ha)).json())["examples"]
    for example in greetings[::3]:
        resp = await admin.put(f"/api/admin/nlu/examples/{example['id']}", json={"intent": "goodbye"}, headers=ha)
        assert resp.status == 200
    worse = await (await admin.post("/api/admin/nlu/models?wait=1", headers=ha)).json()
    assert worse["active"]["version"] == v1["version"]
    assert worse["accuracy_change"] < -admin_settings.nlu_activation_margin

    refused = await admin.post(f"/api/admin/nlu/models/{worse['version']}/activate", headers=ha)
    assert refused.status == 409
    assert "force" in (await refused.json())["message"]
    forced = await admin.post(f"/api/admin/nlu/models/{worse['version']}/activate", json={"force": True}, headers=ha)
    assert forced.status == 200
    await _wait_in_use(other, worse["version"])

    back = await admin.post("/api/admin/nlu/models/rollback", headers=ha)
    assert back.status == 200
    assert (await back.json())["version"] == v1["version"]
    await _wait_in_use(other, v1["version"])
    models = {
        m["version"]: m["status"]
        for m in (await (await admin.get("/api/admin/nlu/models", headers=ha)).json())["models"]
    }
    assert models == {v1["version"]: "active", worse["version"]: "retired"}
    rows = await _audit_rows(admin_settings)
    actions = [r.action for r in rows]
    assert actions.count("nlu.model.train") == 2 and actions.count("nlu.model.activate") == 3
    trained = next(r for r in rows if r.action == "nlu.model.train")
    assert set(trained.detail) == {"cross_validation", "held_out"}  # figures, not the whole report

    # A restarted process starts on the active version, not on nlu_data/ as shipped.
    restarted: TestClient = await aiohttp_client(create_app(admin_settings))
    hr = await as_staff(restarted)
    assert (await (await restarted.get("/api/admin/nlu/models", headers=hr)).json())["in_use"] == v1["version"]


async def test_the_models_list_says_which_engine_answers_citizens(
    aiohttp_client: Any, admin_settings: Settings
) -> None:
    for backend, rasa_url in (("embedded", "http://127.0.0.1:5005"), ("rasa", "http://127.0.0.1:9")):
        configured = admin_settings.model_copy(update={"nlu_backend": backend, "rasa_url": rasa_url})
        client: TestClient = await aiohttp_client(create_app(configured))
        await as_staff(client)
        body = await (await client.get("/api/admin/nlu/models")).json()
        assert body["answering"] == backend, body


async def test_activation_and_rollback_errors(aiohttp_client: Any, admin_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(admin_settings))
    h = await as_staff(client)
    assert (await client.post("/api/admin/nlu/models/rollback", headers=h)).status == 409
    assert (await client.post("/api/admin/nlu/models/42/activate", headers=h)).status == 404
    assert (await client.post("/api/admin/nlu/models/x/activate", headers=h)).status == 404
    # an intent of one example cannot be trained: told why, nothing stored
    await client.post("/api/admin/nlu/examples", json={"intent": "thing_brand_new", "text": "全新的事"}, headers=h)
    failed = await client.post("/api/admin/nlu/models", headers=h)
    assert failed.status == 422
    assert "thing_brand_new" in (await failed.json())["message"]
    assert (await (await client.get("/api/admin/nlu/models", headers=h)).json())["models"] == []


async def test_export_round_trips_to_nlu_data_format(aiohttp_client: Any, admin_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(admin_settings))
    h = await as_staff(client)
    await client.post(
        "/api/admin/nlu/examples",
        json={"intent": "thing_newborn", "text": "在[沈阳](city)给孩子上户口"},
        headers=h,
    )
    resp = await client.get("/api/admin/nlu/export", headers=h)
    assert resp.status == 200
    assert resp.content_type == "application/x-yaml"
    exported = loads(await resp.text())
    stored = (await (await client.get("/api/admin/nlu/examples", headers=h)).json())["examples"]
    assert sorted((e.intent, e.raw) for e in exported.examples) == sorted((e["intent"], e["text"]) for e in stored)
    annotated = next(e for e in exported.examples if e.raw == "在[沈阳](city)给孩子上户口")
    assert [(s.entity, s.text) for s in annotated.entities] == [("city", "沈阳")]
    shipped = read_dir(admin_settings.nlu_data_dir)
    assert exported.lookups == shipped.lookups and exported.regexes == shipped.regexes
