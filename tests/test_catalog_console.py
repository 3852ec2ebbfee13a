"""Admins keep the guides current from the console, over real HTTP, on SQLite and
PostgreSQL: the 35 listed, one guide's elements (with what comes from
``defaults``) and form; an edit refused with the checker's own ``path: message``
and nothing stored; a valid edit stored as the next version with its diff,
audited, and live at once in this app (catalog API and the bot's answers), in
a second app on the same Redis and database by itself, and in an app started
afterwards; the history with diffs; an earlier version published again; roles,
CSRF and malformed bodies refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.catalog.follow import follow_published
from bot.db.schema import audit_log, catalog_versions
from bot.settings import ROOT, Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import build_services
from tests.conftest import MP_APPID, MP_SECRET
from tests.console_helpers import MiniCitizen, Staff, make_account

THINGS = "/console/api/catalog/things"
NEWBORN = f"{THINGS}/newborn"
FEE = {
    "charged": True,
    "standard": "补换卡工本费每张 10 元，首次申领免费",
    "basis": "《社会保障卡工本费标准的批复》（辽价发〔2026〕1号）",
}
FEE_CHECK = "收费事项须填写收费标准和收费依据"  # Fee's own check in bot/catalog/models.py


@pytest.fixture
def configured(settings: Settings, wechat: TestServer) -> Settings:
    return settings.model_copy(
        update={
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
        }
    )


@pytest.fixture
async def servers(configured: Settings) -> AsyncIterator[Callable[[], Awaitable[TestServer]]]:
    """Start app instances (processes) on the one Redis and database; all closed at the end."""
    made: list[TestServer] = []

    async def start() -> TestServer:
        server = TestServer(create_app(configured))
        await server.start_server()
        made.append(server)
        return server

    yield start
    for server in reversed(made):
        await server.close()


@pytest.fixture
async def clients() -> AsyncIterator[list[Staff | MiniCitizen]]:
    made: list[Staff | MiniCitizen] = []
    yield made
    for c in made:
        await c.close()


async def login(server: TestServer, clients: list[Any], username: str = "wang.li", role: str = "admin") -> Staff:
    await make_account(server, username, role)
    s = Staff(server)
    clients.append(s)
    assert (await s.login(username)).status == 200
    return s


async def citizen(server: TestServer, clients: list[Any], code: str) -> MiniCitizen:
    c = MiniCitizen(server, code)
    clients.append(c)
    await c.login()
    return c


async def public_thing(server: TestServer, thing_id: str = "newborn") -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(server.make_url(f"/api/things/{thing_id}")) as resp:
        assert resp.status == 200
        return dict(await resp.json())


def item(thing: dict[str, Any], key: str) -> dict[str, Any]:
    return next(i for i in thing["items"] if i["key"] == key)


async def stored(server: TestServer) -> list[Any]:
    async with server.app[SERVICES].db.connect() as conn:
        return list(await conn.execute(select(catalog_versions).order_by(catalog_versions.c.version)))


async def audited(server: TestServer) -> list[Any]:
    async with server.app[SERVICES].db.connect() as conn:
        rows = await conn.execute(
            select(audit_log).where(audit_log.c.action == "catalog.edit").order_by(audit_log.c.id)
        )
        return list(rows)


def said(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


# ---- viewing ------------------------------------------------------------------------


async def test_the_35_guides_and_one_guide_with_its_elements_and_form(servers: Any, clients: list[Any]) -> None:
    app = await servers()
    admin = await login(app, clients)
    listing = await admin.json("GET", THINGS)
    assert listing["count"] == 35 and len(listing["things"]) == 35
    first = listing["things"][0]
    assert first == {
        "id": "newborn", "seq": 1, "name": "新生儿出生", "category": "个人", "version": 1, "items": 4,
        "source": "file", "changed_by": "", "changed_at": None,
    }  # fmt: skip
    assert {t["category"] for t in listing["things"]} == {"个人", "法人"}

    guide = await admin.json("GET", NEWBORN)
    assert guide["version"] == 1 and guide["source"] == "file" and guide["problems"] == []
    assert guide["yaml"] == (ROOT / "catalog" / "newborn.yaml").read_text(encoding="utf-8")
    assert [e["label"] for e in guide["elements"]][:3] == ["基本编码", "实施编码", "事项名称"]
    assert len({e["n"] for e in guide["elements"]}) == 33  # 36 elements; 4, 18–19 and 20–22 share a row
    assert guide["defaults"]["hours"].startswith("周一至周五")
    certificate, registration = item(guide, "birth_certificate"), item(guide, "birth_registration")
    # the loader's merge: the item's own value wins, else defaults, else the format's default
    assert certificate["elements"]["location"]["source"] == "item"
    assert registration["elements"]["location"] == {
        "value": guide["defaults"]["location"], "source": "defaults", "effective": guide["defaults"]["location"],
    }  # fmt: skip
    assert registration["elements"]["authority_split"]["source"] == "standard"
    assert registration["elements"]["fee"]["value"] == {"charged": False}  # as the file holds it
    assert registration["elements"]["fee"]["effective"] == {"charged": False, "standard": "不收费", "basis": "无"}
    assert "父母双方居民身份证" in registration["materials"]
    assert [f["id"] for f in guide["form"]][:3] == ["applicant_name", "applicant_id_card", "applicant_phone"]
    assert guide["form"][0]["label"] == "申请人姓名" and guide["form"][0]["type"] == "name"
    assert len(guide["faq"]) >= 3 and "fee" in guide["editable"]

    history = await admin.json("GET", f"{NEWBORN}/versions")
    assert [(v["version"], v["source"]) for v in history["versions"]] == [(1, "file")]


# ---- editing -------------------------------------------------------------------------


async def test_a_fee_without_a_standard_is_refused_with_the_checkers_words_and_nothing_is_stored(
    servers: Any, clients: list[Any]
) -> None:
    app = await servers()
    admin = await login(app, clients)
    body = {"scope": "social_security_card", "changes": {"fee": {"charged": True}}, "base_version": 1}
    refused = await admin.json("POST", f"{NEWBORN}/elements", body, status=422)
    assert refused["error"] == "invalid"
    assert refused["problems"] == [{"path": "items.4.guide.fee", "message": FEE_CHECK}]
    # on defaults: every item that inherits the fee is named
    body = {"scope": "defaults", "changes": {"fee": {"charged": True, "standard": "每件 5 元"}}}
    refused = await admin.json("POST", f"{NEWBORN}/elements", body, status=422)
    assert {p["path"] for p in refused["problems"]} == {"items.1.guide.fee", "items.2.guide.fee"}
    # the same checks as `python -m bot catalog check`, on the raw file too
    text = (ROOT / "catalog" / "newborn.yaml").read_text(encoding="utf-8")
    broken = text.replace("promised_limit_days: 10\n", "promised_limit_days: 30\n", 1)
    refused = await admin.json("PUT", f"{NEWBORN}/yaml", {"yaml": broken}, status=422)
    assert {"path": "items.4.guide.promised_limit_days", "message": "承诺办结时限不能长于法定办结时限"} in refused[
        "problems"
    ]
    checked = await admin.json("POST", f"{NEWBORN}/check", {"yaml": broken})
    assert checked["ok"] is False and checked["problems"] == refused["problems"]
    assert (await admin.json("POST", f"{NEWBORN}/check", {"yaml": text})) == {"ok": True, "problems": []}

    assert await stored(app) == [] and await audited(app) == []
    assert app.app[SERVICES].catalog.things["newborn"].version == 1
    assert not (await public_thing(app))["items"][3]["guide"]["fee"]["charged"]


async def test_a_valid_edit_is_a_new_version_live_here_in_a_second_process_and_after_a_restart(
    servers: Any, clients: list[Any]
) -> None:
    first, second = await servers(), await servers()  # two serve processes, one Redis and database
    admin = await login(first, clients)
    body = {"scope": "social_security_card", "changes": {"fee": FEE}, "base_version": 1, "note": "物价批复"}
    published = await admin.json("POST", f"{NEWBORN}/elements", body)
    announced = time.monotonic()
    assert published["version"] == 2 and published["changed_by"] == "wang.li" and published["note"] == "物价批复"
    assert "-      fee: {charged: false, standard: 首次申领免费}\n" in published["diff"]
    assert f"+      fee: {{charged: true, standard: {FEE['standard']}, basis: {FEE['basis']}}}\n" in published["diff"]
    assert "+version: 2\n" in published["diff"]

    # stored: the whole file as it became (version set in it), the diff, who; audited
    (row,) = await stored(first)
    assert (row.thing_id, row.version, row.changed_by, row.note) == ("newborn", 2, "wang.li", "物价批复")
    assert row.diff == published["diff"]
    data = yaml.safe_load(row.data)
    assert data["version"] == 2 and data["items"][3]["guide"]["fee"] == FEE
    assert "# 各事项共用的指南要素" in row.data  # the agency's comments and layout kept
    (entry,) = await audited(first)
    assert (entry.actor, entry.target, entry.detail["version"]) == ("wang.li", "newborn", 2)

    # live in this process at once: the catalog API and the bot
    shown = await public_thing(first)
    assert shown["version"] == 2 and item(shown, "social_security_card")["guide"]["fee"] == FEE
    assert f"社会保障卡申领：{FEE['standard']}" in shown["notice"]
    person = await citizen(first, clients, "code-fee-1")
    answer = said(await person.say("新生儿出生要交钱吗"))
    assert f"社会保障卡申领：{FEE['standard']}" in answer and "全部事项均不收费" not in answer
    answer = said(await person.say("要收费吗"))
    assert "“新生儿出生”的收费" in answer and FEE["standard"] in answer

    # the other process takes it by itself, within a second or so
    while (await public_thing(second))["version"] != 2:
        assert time.monotonic() - announced < 5, "the second process did not follow"
        await asyncio.sleep(0.05)
    assert item(await public_thing(second), "social_security_card")["guide"]["fee"] == FEE
    other = await citizen(second, clients, "code-fee-2")
    assert FEE["standard"] in said(await other.say("新生儿出生要交钱吗"))

    # a process started afterwards starts with the edited version
    third = await servers()
    assert item(await public_thing(third), "social_security_card")["guide"]["fee"] == FEE
    listing = await (await login(third, clients, "li.na")).json("GET", THINGS)
    newborn = listing["things"][0]
    assert (newborn["version"], newborn["source"], newborn["changed_by"]) == (2, "console", "wang.li")


async def test_a_process_that_missed_the_message_converges_by_its_own_check(settings: Settings) -> None:
    """No announcement at all (as if Redis lost it): the periodic check of the newest versions repairs."""
    a, b = await build_services(settings), await build_services(settings)
    await asyncio.sleep(0.2)  # b's own follower has made its first check
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_published(b.catalog_edits, b.redis, stop, every=0.3))
    try:
        done = await a.catalog_edits.publish_elements("newborn", "defaults", {"hours": "周一至周六 9:00-17:00"}, "wang")
        assert a.catalog.things["newborn"].version == done.version == 2  # published without announcing
        started = time.monotonic()
        while b.catalog.things["newborn"].version != 2:
            assert time.monotonic() - started < 5
            await asyncio.sleep(0.05)
        assert b.catalog.things["newborn"].items[1].guide.hours == "周一至周六 9:00-17:00"
    finally:
        stop.set()
        await asyncio.wait_for(follower, 5)
        await a.close()
        await b.close()


async def test_history_with_diffs_and_publishing_an_earlier_version_again(servers: Any, clients: list[Any]) -> None:
    app = await servers()
    admin = await login(app, clients)
    await admin.json("POST", f"{NEWBORN}/elements", {"scope": "social_security_card", "changes": {"fee": FEE}})
    hours = "周一至周六 8:30-17:00（法定节假日除外）"
    await admin.json("POST", f"{NEWBORN}/elements", {"scope": "defaults", "changes": {"hours": hours}, "note": "周六"})
    text = (await admin.json("GET", NEWBORN))["yaml"]
    renamed = text.replace("summary: 孩子出生后，一次申请", "summary: 宝宝出生后，一次申请", 1)
    done = await admin.json("PUT", f"{NEWBORN}/yaml", {"yaml": renamed, "base_version": 3})
    assert done["version"] == 4 and "+summary: 宝宝出生后" in done["diff"]

    history = (await admin.json("GET", f"{NEWBORN}/versions"))["versions"]
    assert [(v["version"], v["source"]) for v in history] == [
        (4, "console"),
        (3, "console"),
        (2, "console"),
        (1, "file"),
    ]
    assert history[1]["note"] == "周六" and f"+  hours: {hours}" in history[1]["diff"]
    assert all(v["diff"].startswith("--- newborn.yaml@") for v in history[:3]) and history[3]["diff"] == ""

    # roll back to 2: a new version 5 with version 2's content
    back = await admin.json("POST", f"{NEWBORN}/versions/2/republish", {"base_version": 4, "note": "撤回"})
    assert back["version"] == 5 and f"-  hours: {hours}" in back["diff"] and "-summary: 宝宝出生后" in back["diff"]
    rows = await stored(app)
    assert yaml.safe_load(rows[-1].data) == {**yaml.safe_load(rows[0].data), "version": 5}
    thing = app.app[SERVICES].catalog.things["newborn"]
    assert thing.version == 5 and thing.summary.startswith("孩子出生后") and thing.items[3].guide.fee.charged

    # and back to the file as shipped (version 1), with no body at all
    resp = await admin.request("POST", f"{NEWBORN}/versions/1/republish")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["version"] == 6
    assert not app.app[SERVICES].catalog.things["newborn"].items[3].guide.fee.charged
    assert [e.detail.get("kind") for e in await audited(app)] == [
        "elements",
        "elements",
        "yaml",
        "republish",
        "republish",
    ]
    # the same content again is not a new version
    again = await admin.json("POST", f"{NEWBORN}/versions/1/republish", {}, status=422)
    assert again["error"] == "unchanged"


# ---- who may, and what is refused ------------------------------------------------------


async def test_agents_strangers_and_missing_csrf_are_refused(servers: Any, clients: list[Any]) -> None:
    app = await servers()
    agent = await login(app, clients, "zhao.agent", "agent")
    assert (await agent.request("GET", THINGS)).status == 403
    assert (await agent.request("GET", NEWBORN)).status == 403
    body = {"scope": "defaults", "changes": {"hours": "全天"}}
    assert (await agent.request("POST", f"{NEWBORN}/elements", body)).status == 403
    async with aiohttp.ClientSession() as http:
        async with http.get(app.make_url(THINGS)) as resp:
            assert resp.status == 401
        async with http.get(app.make_url("/console/catalog"), allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/console/login?next=/console/catalog"
    assert (await agent.request("GET", "/console/catalog")).status == 403

    admin = await login(app, clients)
    page = await admin.request("GET", "/console/catalog")
    assert page.status == 200 and '<nav id="console-nav" class="nav"></nav>' in await page.text()
    resp = await admin.request("POST", f"{NEWBORN}/elements", body, csrf=False)
    assert resp.status == 403 and (await resp.json())["error"] == "csrf"
    resp = await admin.request("POST", f"{NEWBORN}/versions/1/republish", {}, csrf=False)
    assert resp.status == 403
    assert await stored(app) == []


ELEMENTS, YAML_PUT = f"{NEWBORN}/elements", f"{NEWBORN}/yaml"
HOURS = {"hours": "全天"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", ELEMENTS, "not json", 400, "bad_json"),
        ("POST", ELEMENTS, [1, 2], 400, "bad_request"),
        ("POST", ELEMENTS, {"scope": "defaults"}, 400, "bad_request"),
        ("POST", ELEMENTS, {"scope": "defaults", "changes": {}}, 400, "bad_request"),
        ("POST", ELEMENTS, {"scope": "defaults", "changes": {"agency": "某局"}}, 400, "bad_request"),
        ("POST", ELEMENTS, {"scope": "defaults", "changes": {"fee": {"charged": "是"}}}, 400, "bad_request"),
        ("POST", ELEMENTS, {"scope": "defaults", "changes": {"promised_limit_days": "5"}}, 400, "bad_request"),
        ("POST", ELEMENTS, {"scope": "defaults", "changes": {"conditions": "一条"}}, 400, "bad_request"),
        ("POST", ELEMENTS, {"scope": "nope", "changes": HOURS}, 422, "bad_edit"),
        ("POST", ELEMENTS, {"scope": "defaults", "changes": HOURS, "base_version": 7}, 409, "conflict"),
        ("POST", f"{THINGS}/nothing_here/elements", {"scope": "defaults", "changes": HOURS}, 404, "not_found"),
        ("PUT", YAML_PUT, {"yaml": ""}, 400, "bad_request"),
        ("PUT", YAML_PUT, {"yaml": 5}, 400, "bad_request"),
        ("PUT", YAML_PUT, {"yaml": "- just\n- a list\n"}, 422, "invalid"),
        ("PUT", YAML_PUT, {"yaml": "id: [unclosed\n"}, 422, "invalid"),
        ("PUT", YAML_PUT, {"yaml": "a: &x [1]\nb: *x\n"}, 422, "invalid"),
        ("PUT", YAML_PUT, {"yaml": "x" * 300_000}, 400, "bad_request"),
        ("POST", f"{NEWBORN}/check", {}, 400, "bad_request"),
        ("POST", f"{NEWBORN}/versions/99/republish", {}, 404, "not_found"),
        ("POST", f"{NEWBORN}/versions/abc/republish", {}, 404, "not_found"),
        ("POST", f"{NEWBORN}/versions/1/republish", {"note": 3}, 400, "bad_request"),
        ("GET", f"{THINGS}/nothing_here", None, 404, "not_found"),
        ("GET", f"{THINGS}/nothing_here/versions", None, 404, "not_found"),
    ],
)
async def test_malformed_requests_get_a_clear_4xx(
    servers: Any, clients: list[Any], method: str, path: str, body: Any, status: int, code: str
) -> None:
    app = await servers()
    admin = await login(app, clients)
    if isinstance(body, str):
        headers = {"X-CSRF-Token": admin.csrf, "Content-Type": "application/json"}
        resp = await admin.http.request(method, app.make_url(path), data=body, headers=headers)
    else:
        resp = await admin.request(method, path, body)
    assert resp.status == status, await resp.text()
    answer = await resp.json()
    assert answer["error"] == code and answer["message"]
    if code == "invalid":
        assert answer["problems"] and all(set(p) == {"path", "message"} for p in answer["problems"])
    async with app.app[SERVICES].db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(catalog_versions))).scalar_one() == 0


async def test_an_id_change_and_a_list_mismatch_are_refused(servers: Any, clients: list[Any]) -> None:
    app = await servers()
    admin = await login(app, clients)
    text = (ROOT / "catalog" / "newborn.yaml").read_text(encoding="utf-8")
    refused = await admin.json("PUT", f"{NEWBORN}/yaml", {"yaml": text.replace("id: newborn", "id: baby", 1)}, 422)
    assert refused["problems"] == [{"path": "id", "message": "一件事的标识不能修改，应为 newborn"}]
    refused = await admin.json(
        "PUT", f"{NEWBORN}/yaml", {"yaml": text.replace("name: 新生儿出生", "name: 宝宝出生", 1)}, 422
    )
    assert refused["problems"] == [{"path": "name", "message": "应为 '新生儿出生'，与清单一致"}]
    same = await admin.json("PUT", f"{NEWBORN}/yaml", {"yaml": text}, 422)
    assert same["error"] == "unchanged"
