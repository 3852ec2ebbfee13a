"""The intents console's API over real HTTP, on SQLite and PostgreSQL: the inbox
(utterances that fell back, and lines hotline agents marked with the intent
they should have been), labelled in one call or dismissed, all audited;
retraining as a background job whose progress any process reads, one at a
time; the evaluation report (per intent with changes, misclassified
utterances, a confusion heat map); recent accuracy per intent; roles, CSRF,
and malformed input answered 4xx. A small slice of nlu_data/ keeps retraining
quick (see tests/test_nlu_admin.py)."""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select

from bot.db.schema import audit_log
from bot.nlu.data import dump, read_dir, read_file
from bot.nlu.evaluate import confused_labels, plot_confusion_cells
from bot.settings import ROOT, Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from tests.conftest import MP_APPID, MP_SECRET
from tests.console_helpers import MiniCitizen, Staff, make_account
from tests.test_nlu_admin import _slice

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def sliced(settings: Settings, tmp_path: Path) -> Settings:
    """Six intents of nlu_data/ and of the held-out set: a retraining takes seconds."""
    data_dir = tmp_path / "nlu_data"
    data_dir.mkdir()
    (data_dir / "nlu.yml").write_text(dump(_slice(read_dir(ROOT / "nlu_data"))), encoding="utf-8")
    shutil.copytree(ROOT / "nlu_data" / "jieba", data_dir / "jieba")
    held_out = tmp_path / "held_out.yml"
    held_out.write_text(dump(_slice(read_file(ROOT / "tests" / "data" / "nlu_test.yml"))), encoding="utf-8")
    return settings.model_copy(update={"nlu_data_dir": data_dir, "nlu_eval_file": held_out})


@pytest.fixture
async def servers(sliced: Settings, wechat: TestServer) -> AsyncIterator[list[TestServer]]:
    """Two serve processes on one database and Redis (progress must be readable from either)."""
    configured = sliced.model_copy(
        update={
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
        }
    )
    made = [TestServer(create_app(configured)) for _ in range(2)]
    for server in made:
        await server.start_server()
    yield made
    for server in made:
        await server.close()


@pytest.fixture
async def people(servers: list[TestServer]) -> AsyncIterator[list[Staff | MiniCitizen]]:
    made: list[Staff | MiniCitizen] = []
    yield made
    for p in made:
        await p.close()


async def login(server: TestServer, people: list[Any], username: str, role: str = "admin") -> Staff:
    await make_account(server, username, role)
    s = Staff(server)
    people.append(s)
    assert (await s.login(username)).status == 200
    return s


async def audit_rows(server: TestServer) -> list[Any]:
    async with server.app[SERVICES].db.connect() as conn:
        return list(await conn.execute(select(audit_log).order_by(audit_log.c.id)))


async def train_and_wait(admin: Staff) -> dict[str, Any]:
    return await admin.json("POST", "/api/admin/nlu/models?wait=1", status=201)  # type: ignore[no-any-return]


# ---- the inbox: fallbacks and agents' corrections ----------------------------------------


async def test_inbox_of_fallbacks_and_agent_corrections_labelled_or_dismissed(
    sliced: Settings, wechat: TestServer, people: list[Any]
) -> None:
    # A threshold nothing reaches: every utterance the NLU sees falls back and is recorded.
    strict = sliced.model_copy(
        update={
            "nlu_fallback_threshold": 0.97,
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
        }
    )
    server = TestServer(create_app(strict))
    await server.start_server()
    try:
        await _inbox(server, people)
    finally:
        await server.close()


async def _inbox(server: TestServer, people: list[Any]) -> None:
    person = MiniCitizen(server, "code-of-liu")
    people.append(person)
    await person.login()
    await person.say("阿巴阿巴嗯嗯")  # noise: to be dismissed
    await person.say("我叫王小明，电话13912345678，家里添丁了该办啥")  # to be corrected by the agent
    await person.say("转人工")

    agent = await login(server, people, "chen.agent", "agent")
    admin = await login(server, people, "wang.admin")
    [waiting] = (await agent.json("GET", "/console/api/queue"))["waiting"]
    hid = waiting["id"]
    await agent.json("POST", f"/console/api/handovers/{hid}/claim")
    assert await person.say("孩子刚落地，户口找谁上") == []  # to the agent; the NLU does not see it

    intents = (await agent.json("GET", "/console/api/intents"))["intents"]
    assert {"intent": "thing_newborn", "name": "新生儿出生"} in intents

    transcript = (await agent.json("GET", f"/console/api/handovers/{hid}"))["transcript"]
    by_text = {e["text"]: e for e in transcript}
    told = by_text["我叫王**，电话139****5678，家里添丁了该办啥"]  # masked for the agent
    live = by_text["孩子刚落地，户口找谁上"]
    bot_line = next(e for e in transcript if e["role"] == "bot")

    corrections = f"/console/api/handovers/{hid}/corrections"
    first = await agent.json("POST", corrections, {"entry": told["id"], "intent": "thing_newborn"}, status=201)
    assert first["merged"] is True  # it fell back: the same inbox entry takes the suggestion
    second = await agent.json("POST", corrections, {"entry": live["id"], "intent": "thing_newborn"}, status=201)
    assert second["merged"] is False and second["message"]

    # refused: the bot's words, an unknown intent or line, malformed bodies, someone else's conversation
    for body, status in [
        ({"entry": bot_line["id"], "intent": "thing_newborn"}, 422),
        ({"entry": "1-0", "intent": "thing_newborn"}, 422),
        ({"entry": live["id"], "intent": "thing_no_such"}, 400),
        ({"entry": "0", "intent": "greet"}, 400),
        ({"entry": "../etc", "intent": "greet"}, 400),
        ({"entry": live["id"]}, 400),
        (["not", "an", "object"], 400),
    ]:
        resp = await agent.request("POST", corrections, body)
        assert resp.status == status, (body, await resp.text())
        assert (await resp.json())["message"]
    resp = await agent.http.post(server.make_url(corrections), data=b"{not json", headers={"X-CSRF-Token": agent.csrf})
    assert resp.status == 400
    assert (
        await agent.request("POST", corrections, {"entry": live["id"], "intent": "greet"}, csrf=False)
    ).status == 403
    assert (await admin.request("POST", corrections, {"entry": live["id"], "intent": "greet"})).status == 409
    async with aiohttp.ClientSession() as anonymous, anonymous.post(server.make_url(corrections), json={}) as resp:
        assert resp.status == 401

    # the admin's inbox: newest first, masked, the agent's suggestion named
    inbox = (await admin.json("GET", "/api/admin/nlu/fallbacks"))["fallbacks"]
    rows = {r["text"]: r for r in inbox}
    assert set(rows) == {"阿巴阿巴嗯嗯", "我叫王**，电话139****5678，家里添丁了该办啥", "孩子刚落地，户口找谁上"}
    noise, told_row, live_row = (rows[t] for t in ("阿巴阿巴嗯嗯", told["text"], live["text"]))
    assert noise["source"] == "fallback" and noise["suggested_intent"] is None and noise["channel"] == "miniprogram"
    assert told_row["source"] == "agent" and told_row["suggested_intent"] == "thing_newborn"
    assert live_row["suggested_name"] == "新生儿出生" and live_row["channel"] == "miniprogram"
    agents_only = (await admin.json("GET", "/api/admin/nlu/fallbacks?source=agent"))["fallbacks"]
    assert {r["text"] for r in agents_only} == {told["text"], live["text"]}
    assert (await admin.request("GET", "/api/admin/nlu/fallbacks?source=robots")).status == 400

    # one call labels with the suggestion; on another the admin's choice wins over it
    made = await admin.json("POST", f"/api/admin/nlu/fallbacks/{told_row['id']}/label", {}, status=201)
    await admin.json(
        "POST", f"/api/admin/nlu/fallbacks/{live_row['id']}/label", {"intent": "thing_posthumous_affairs"}, status=201
    )
    examples = (await admin.json("GET", "/api/admin/nlu/examples?intent=thing_newborn"))["examples"]
    assert {"id": made["example_id"], "intent": "thing_newborn", "text": told["text"]} in examples
    # dismissed: leaves the inbox, stays on record
    await admin.json("POST", f"/api/admin/nlu/fallbacks/{noise['id']}/dismiss")
    assert (await admin.json("GET", "/api/admin/nlu/fallbacks"))["fallbacks"] == []
    everything = {r["id"]: r for r in (await admin.json("GET", "/api/admin/nlu/fallbacks?all=1"))["fallbacks"]}
    assert everything[noise["id"]]["dismissed_by"] == "wang.admin" and everything[noise["id"]]["dismissed_at"]
    assert everything[live_row["id"]]["labelled_intent"] == "thing_posthumous_affairs"

    # handled entries cannot be handled again; unknown ones are not found
    for path in (f"{noise['id']}/label", f"{noise['id']}/dismiss", f"{told_row['id']}/dismiss"):
        resp = await admin.request("POST", f"/api/admin/nlu/fallbacks/{path}", {"intent": "greet"})
        assert resp.status == 409, path
    for path in ("999999/dismiss", "abc/dismiss", "999999/label", "99999999999999999999999/dismiss"):
        assert (await admin.request("POST", f"/api/admin/nlu/fallbacks/{path}", {"intent": "greet"})).status == 404

    trail = [(r.actor, r.action, r.target) for r in await audit_rows(server)]
    assert ("chen.agent", "nlu.correction", f"fallback:{told_row['id']}") in trail
    assert ("chen.agent", "nlu.correction", f"fallback:{live_row['id']}") in trail
    assert ("wang.admin", "nlu.fallback.label", f"fallback:{told_row['id']}") in trail
    assert ("wang.admin", "nlu.example.add", f"example:{made['example_id']}") in trail
    assert ("wang.admin", "nlu.fallback.dismiss", f"fallback:{noise['id']}") in trail
    label_row = next(r for r in await audit_rows(server) if r.action == "nlu.fallback.label")
    assert label_row.detail == {"intent": "thing_newborn", "suggested": "thing_newborn", "source": "agent"}


async def test_an_entry_without_a_suggestion_needs_an_intent(servers: list[TestServer], people: list[Any]) -> None:
    admin = await login(servers[0], people, "wang.admin")
    await servers[0].app[SERVICES].nlu_store.record_fallback("wechat", "嗯那个啥")
    [row] = (await admin.json("GET", "/api/admin/nlu/fallbacks"))["fallbacks"]
    for body in [{}, {"intent": "no such intent"}, {"intent": 7}, {"intent": "greet", "text": "  "}, ["greet"]]:
        resp = await admin.request("POST", f"/api/admin/nlu/fallbacks/{row['id']}/label", body)
        assert resp.status == 400, body
        assert (await resp.json())["message"]
    # the admin may annotate the text while labelling
    await admin.json(
        "POST",
        f"/api/admin/nlu/fallbacks/{row['id']}/label",
        {"intent": "greet", "text": "[沈阳](city)的嗯那个啥"},
        201,
    )
    greet = (await admin.json("GET", "/api/admin/nlu/examples?intent=greet"))["examples"]
    assert "[沈阳](city)的嗯那个啥" in [e["text"] for e in greet]


# ---- training as a background job ------------------------------------------------------------


async def test_training_runs_in_the_background_one_at_a_time_with_progress(
    servers: list[TestServer], people: list[Any]
) -> None:
    one, other = servers
    admin = await login(one, people, "wang.admin")
    colleague = await login(other, people, "li.admin")
    assert (await admin.json("GET", "/api/admin/nlu/training"))["job"] is None

    resp = await admin.request("POST", "/api/admin/nlu/models")
    assert resp.status == 202, await resp.text()
    job = (await resp.json())["job"]
    assert resp.headers["Location"] == f"/api/admin/nlu/training/{job['id']}"
    assert job["status"] == "running" and job["actor"] == "wang.admin"

    # a second training, from either process, is refused with the running job
    for s in (admin, colleague):
        busy = await s.request("POST", "/api/admin/nlu/models?wait=1")
        assert busy.status == 409
        body = await busy.json()
        assert body["job"]["id"] == job["id"] and "wang.admin" in body["message"]

    # the other process follows the progress until done
    seen: list[tuple[str, int]] = []
    for _ in range(1200):
        now = (await colleague.json("GET", f"/api/admin/nlu/training/{job['id']}"))["job"]
        if not seen or seen[-1] != (now["stage"], now["percent"]):
            seen.append((now["stage"], now["percent"]))
        if now["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert now["status"] == "done", now
    assert now["percent"] == 100 and now["version"] and now["finished_at"]
    assert now["result"]["evaluation"]["cross_validation"]["accuracy"] > 0.8
    percents = [p for _, p in seen]
    assert percents == sorted(percents), seen
    stages = [s for s, _ in seen]
    assert "cross_validation" in stages and stages[-1] == "done", seen
    assert len(seen) >= 3, seen  # it moved through stages, not straight from 0 to done
    assert (await colleague.json("GET", "/api/admin/nlu/training"))["job"]["id"] == job["id"]
    models = (await colleague.json("GET", "/api/admin/nlu/models"))["models"]
    assert [m["version"] for m in models] == [now["version"]]
    assert "report" not in models[0]["evaluation"]  # lists carry the figures, not the report

    # free again: the next one may start (and is waited for here)
    again = await train_and_wait(colleague)
    assert again["version"] == now["version"] + 1 and again["job"]
    for bad in ("nope", "0123456789abcdef", "../../x"):
        assert (await admin.request("GET", f"/api/admin/nlu/training/{bad}")).status == 404


async def test_a_job_whose_process_died_reads_as_interrupted(servers: list[TestServer], people: list[Any]) -> None:
    admin = await login(servers[0], people, "wang.admin")
    redis = servers[0].app[SERVICES].redis
    job = {"id": "00000000deadbeef", "status": "running", "stage": "training", "percent": 30, "actor": "x"}
    await redis.set("nlu:training:job:00000000deadbeef", json.dumps(job))  # and no lock: nobody runs it
    got = (await admin.json("GET", "/api/admin/nlu/training/00000000deadbeef"))["job"]
    assert got["status"] == "failed" and got["error"] == "interrupted" and got["message"]
    assert (await admin.request("POST", "/api/admin/nlu/models")).status == 202  # the lock is free


# ---- the report, the heat map, recent accuracy ---------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_report_heat_map_and_recent_accuracy(servers: list[TestServer], people: list[Any]) -> None:
    admin = await login(servers[0], people, "wang.admin")
    before = await admin.json("GET", "/api/admin/nlu/intents")
    assert before["evaluated"] is None and before["note"]
    assert all(i["accuracy"] is None for i in before["intents"])
    assert {"intent": "thing_newborn", "name": "新生儿出生"}.items() <= next(
        i for i in before["intents"] if i["intent"] == "thing_newborn"
    ).items()

    v1 = await train_and_wait(admin)
    await admin.json("POST", f"/api/admin/nlu/models/{v1['version']}/activate", {})
    after = await admin.json("GET", "/api/admin/nlu/intents")
    assert after["evaluated"]["version"] == v1["version"] and after["note"] is None
    newborn = next(i for i in after["intents"] if i["intent"] == "thing_newborn")
    assert set(newborn["accuracy"]) == {"cross_validation", "held_out"}
    for figures in newborn["accuracy"].values():
        assert 0 < figures["recall"] <= 1 and 0 < figures["f1"] <= 1 and figures["support"] > 0

    # a clearly worse candidate: a third of the greetings relabelled as goodbyes
    greetings = (await admin.json("GET", "/api/admin/nlu/examples?intent=greet"))["examples"]
    for example in greetings[::3]:
        await admin.json("PUT", f"/api/admin/nlu/examples/{example['id']}", {"intent": "goodbye"})
    v2 = await train_and_wait(admin)
    report = await admin.json("GET", f"/api/admin/nlu/models/{v2['version']}/report")
    assert report["version"]["version"] == v2["version"]
    assert report["against"]["version"] == v1["version"]
    assert set(report["sets"]) == {"cross_validation", "held_out"}
    cv = report["sets"]["cross_validation"]
    rows = {r["intent"]: r for r in cv["intents"]}
    assert set(rows) == {"greet", "goodbye", "thanks", "out_of_scope", "thing_newborn", "thing_posthumous_affairs"}
    for r in rows.values():
        assert {"precision", "recall", "f1", "support", "change", "name"} <= set(r)
        assert set(r["change"]) == {"precision", "recall", "f1"}
    assert rows["greet"]["change"]["recall"] < 0  # the scrambled intent got worse, and it shows
    assert rows["greet"]["name"] == "问候"
    assert cv["errors_total"] >= len(cv["errors"]) > 0
    mistake = cv["errors"][0]
    assert {"text", "intent", "predicted", "confidence", "intent_name", "predicted_name"} <= set(mistake)
    assert mistake["intent"] != mistake["predicted"] and 0 < mistake["confidence"] <= 1
    confidences = [e["confidence"] for e in cv["errors"]]
    assert confidences == sorted(confidences, reverse=True)  # the most confident mistakes first
    assert cv["summary"]["accuracy"] < cv["baseline"]["accuracy"]
    assert {"greet", "goodbye"} <= set(cv["heatmap_intents"])

    # the heat map: a real PNG (and SVG), only for admins
    image = await admin.request("GET", cv["heatmap"])
    assert image.status == 200 and image.content_type == "image/png"
    width, height = png_size(await image.read())
    assert width > 300 and height > 300
    held = await admin.request("GET", f"/api/admin/nlu/models/{v2['version']}/confusion.svg?set=held_out")
    assert held.status == 200 and held.content_type == "image/svg+xml"
    assert b"<svg" in (await held.read())[:1000]
    for path, status in [
        (f"/api/admin/nlu/models/{v2['version']}/confusion.png?set=everything", 400),
        ("/api/admin/nlu/models/999/confusion.png", 404),
        (f"/api/admin/nlu/models/{v2['version']}/confusion.gif", 404),
        ("/api/admin/nlu/models/x/report", 404),
        ("/api/admin/nlu/models/999/report", 404),
        ("/api/admin/nlu/models/99999999999999999999999/report", 404),
        ("/api/admin/nlu/models/-1/report", 404),
        (f"/api/admin/nlu/models/{v2['version']}/report?against=99999999999999999999", 400),
        (f"/api/admin/nlu/models/{v2['version']}/report?against=x", 400),
        (f"/api/admin/nlu/models/{v2['version']}/report?against=999", 404),
    ]:
        resp = await admin.request("GET", path)
        assert resp.status == status, (path, await resp.text())

    # the active version's own report compares with nothing before it; v1 against v2 on request
    own = await admin.json("GET", f"/api/admin/nlu/models/{v1['version']}/report")
    assert own["against"] is None
    assert all(r["change"] is None for r in own["sets"]["cross_validation"]["intents"])
    explicit = await admin.json("GET", f"/api/admin/nlu/models/{v1['version']}/report?against={v2['version']}")
    assert explicit["against"]["version"] == v2["version"]

    # activation of the worse one is refused with the reason; forced, then rolled back
    refused = await admin.request("POST", f"/api/admin/nlu/models/{v2['version']}/activate", {})
    assert refused.status == 409 and (await refused.json())["error"] == "accuracy_drop"
    await admin.json("POST", f"/api/admin/nlu/models/{v2['version']}/activate", {"force": True})
    assert (await admin.json("GET", "/api/admin/nlu/intents"))["evaluated"]["version"] == v2["version"]
    assert (await admin.json("POST", "/api/admin/nlu/models/rollback"))["version"] == v1["version"]


def test_a_heat_map_of_many_intents_shows_the_confused_ones() -> None:
    labels = [f"thing_{i:02d}" for i in range(45)]
    cells: list[list[Any]] = [[t, t, 30] for t in labels]
    cells += [["thing_03", "thing_07", 4], ["thing_07", "thing_03", 2], ["thing_40", "nlu_fallback", 3]]
    shown = confused_labels(cells)
    assert shown == ["nlu_fallback", "thing_03", "thing_07", "thing_40"]
    assert confused_labels(cells[:10]) == sorted(labels[:10])  # few intents: all of them
    width, height = png_size(plot_confusion_cells(cells, shown, title="many"))
    assert width < 1000 and height < 1000  # not a 45x45 wall
    assert png_size(plot_confusion_cells([], [], title="none"))[0] > 100  # no confusions: still a picture


# ---- roles, CSRF, malformed input --------------------------------------------------------------


async def test_new_routes_check_role_login_and_csrf(servers: list[TestServer], people: list[Any]) -> None:
    server = servers[0]
    admin = await login(server, people, "wang.admin")
    agent = await login(server, people, "chen.agent", "agent")
    routes = [
        ("GET", "/api/admin/nlu/entities"),
        ("GET", "/api/admin/nlu/training"),
        ("GET", "/api/admin/nlu/training/0123456789abcdef"),
        ("GET", "/api/admin/nlu/models/1/report"),
        ("GET", "/api/admin/nlu/models/1/confusion.png"),
        ("POST", "/api/admin/nlu/fallbacks/1/dismiss"),
        ("POST", "/api/admin/nlu/fallbacks/1/label"),
        ("POST", "/api/admin/nlu/models"),
    ]
    async with aiohttp.ClientSession() as anonymous:
        for method, path in routes:
            async with anonymous.request(method, server.make_url(path)) as resp:
                assert resp.status == 401, (method, path)
            resp = await agent.request(method, path)
            assert resp.status == 403, (method, path)
        async with anonymous.get(server.make_url("/console/intents"), allow_redirects=False) as page:
            assert page.status == 303 and page.headers["Location"] == "/console/login?next=/console/intents"
        for path in ("/console/api/intents", "/console/api/handovers/H1/corrections"):
            async with anonymous.request("GET" if "intents" in path else "POST", server.make_url(path)) as resp:
                assert resp.status == 401, path
    for method, path in routes:
        if method == "POST":
            assert (await admin.request(method, path, {}, csrf=False)).status == 403, path
    assert (await agent.request("GET", "/console/intents")).status == 403
    page = await admin.request("GET", "/console/intents")
    assert page.status == 200 and "意图训练" in await page.text()
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert (await agent.request("POST", "/console/api/handovers/H1/corrections", {"entry": "1-0"})).status == 404
    entities = {e["entity"]: e["name"] for e in (await admin.json("GET", "/api/admin/nlu/entities"))["entities"]}
    assert {"city": "城市", "district": "区县", "phone": "手机号", "id_card": "身份证号"}.items() <= entities.items()


async def test_malformed_examples_and_annotations_are_refused(servers: list[TestServer], people: list[Any]) -> None:
    admin = await login(servers[0], people, "wang.admin")
    for text in [
        '[沈阳]{"entity": broken}上户口',
        "[沈阳]{}上户口",
        '[沈阳]{"value": "x"}上户口',
        "[沈阳](ctiy)上户口",
    ]:
        resp = await admin.request("POST", "/api/admin/nlu/examples", {"intent": "thing_newborn", "text": text})
        assert resp.status == 400, (text, await resp.text())
        assert (await resp.json())["message"]
    ok = await admin.json(
        "POST",
        "/api/admin/nlu/examples",
        {"intent": "thing_newborn", "text": "在[沈阳](city)[和平区](district)上户口"},
        201,
    )
    bad_edit = await admin.request("PUT", f"/api/admin/nlu/examples/{ok['id']}", {"text": "[x](nope)好"})
    assert bad_edit.status == 400
    raw = await admin.http.post(
        servers[0].make_url("/api/admin/nlu/fallbacks/1/label"), data=b"\xff\xfe", headers={"X-CSRF-Token": admin.csrf}
    )
    assert raw.status == 400
