"""The rest of the mini-program / 辽事通 API: the catalog by category and
keyword, a real-name identity vouched by 辽事通 filling the applicant's part,
subscribe-message grants, and rating a finished application; every response
checked against the served OpenAPI document."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr, TypeAdapter
from sqlalchemy import select, update

from bot.db.schema import application_items, work_orders
from bot.dialogue.messages import FieldPrompt, Reply
from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from integrations.simulators.elicense import create_app as elicense_app
from tests.conftest import serving
from tests.test_miniprogram import conforms, login

KEY = "dev-liaoshitong-key"  # the settings' default
WANG = ("王丽", "210102199003074522")
REPLIES = TypeAdapter(list[Reply])


def voucher(
    name: str, id_number: str, issued_at: int | None = None, key: str = KEY, code: str = "code-of-verified"
) -> dict[str, Any]:
    """What 辽事通 sends with the login ``code``: signed for that one login."""
    issued_at = int(time.time()) if issued_at is None else issued_at
    signed = f"{id_number}|{name}|{issued_at}|{code}".encode()
    signature = hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()
    return {"name": name, "id_number": id_number, "issued_at": issued_at, "signature": signature}


async def test_the_catalog_by_category_and_keyword(client: TestClient) -> None:
    resp = await client.get("/api/things")
    every = await conforms(client, resp, "/api/things", "get")
    assert every["count"] == 35 == len(every["things"])
    resp = await client.get("/api/things", params={"category": "法人"})
    firms = await conforms(client, resp, "/api/things", "get")
    assert 0 < firms["count"] < 35 and {t["category"] for t in firms["things"]} == {"法人"}
    resp = await client.get("/api/things", params={"q": "出生"})
    found = await conforms(client, resp, "/api/things", "get")
    assert "newborn" in [t["id"] for t in found["things"]] and found["count"] < 35
    resp = await client.get("/api/things", params={"category": "外星人"})
    assert resp.status == 400
    await conforms(client, resp, "/api/things", "get")
    resp = await client.get("/api/things/newborn")
    guide = await conforms(client, resp, "/api/things/{id}", "get")
    assert guide["id"] == "newborn" and "申请材料" in guide["notice"]
    resp = await client.get("/api/things/nope")
    assert resp.status == 404
    await conforms(client, resp, "/api/things/{id}", "get")


async def chat(client: TestClient, token: str, **body: Any) -> list[Reply]:
    resp = await client.post("/api/chat", json=body, headers={"Authorization": f"Bearer {token}"})
    return REPLIES.validate_python((await conforms(client, resp, "/api/chat", "post"))["replies"])


async def test_a_verified_identity_fills_the_applicant_and_is_never_asked(client: TestClient) -> None:
    resp = await client.post("/api/mp/login", json={"code": "code-of-verified", "identity": voucher(*WANG)})
    out = await conforms(client, resp, "/api/mp/login", "post")
    assert out["verified"] is True
    services: Services = client.app[SERVICES]
    thing = services.catalog.things["newborn"]
    citizen = Citizen(services.dialogue, "unused")  # only its way of answering is borrowed
    replies = await chat(client, out["token"], text="孩子刚出生，户口咋上")
    seen: list[Reply] = list(replies)
    for _ in range(80):
        answer = citizen.answer_for(replies, thing)
        if answer is None:
            break
        replies = await chat(client, out["token"], text=answer)
        seen += replies
    else:
        raise AssertionError("\n".join(r.text for r in seen[-10:]))
    texts = "\n".join(r.text for r in seen)
    assert "您已在辽事通实名认证" in texts and standard.SUBMITTED in texts
    assert "210102199003074522" not in texts  # shown masked
    asked = {r.field_id for r in seen if isinstance(r, FieldPrompt)}
    assert "applicant_id_card" not in asked and "applicant_name" not in asked
    app_id = (await services.applications.progress("mp:" + _openid(services, out["token"])))[0]["id"]
    answers = (await services.applications.load_form(app_id))["answers"]
    assert (answers["applicant_name"], answers["applicant_id_card"]) == WANG


def _openid(services: Services, token: str) -> str:
    return str(json.loads(services.settings.vault().decrypt(token))["openid"])


async def test_a_voucher_that_does_not_hold_is_refused(client: TestClient) -> None:
    for bad in (
        voucher(*WANG, key="someone-else"),  # not signed by 辽事通
        voucher(*WANG, issued_at=int(time.time()) - 3600),  # replayed an hour later
        {**voucher(*WANG), "name": "李四"},  # altered after signing
        voucher("王丽", "210102199003074520", code="code-x"),  # signed, but no valid ID number
        voucher(*WANG, code="someone-elses-login"),  # signed for another login
    ):
        resp = await client.post("/api/mp/login", json={"code": "code-x", "identity": bad})
        assert resp.status == 401, bad
        assert "辽事通" in (await conforms(client, resp, "/api/mp/login", "post"))["message"]


async def test_a_voucher_logs_in_once(client: TestClient) -> None:
    """The review's finding: a voucher worked with any login code, again and again."""
    good = voucher(*WANG, code="code-of-once")
    first = await client.post("/api/mp/login", json={"code": "code-of-once", "identity": good})
    assert first.status == 200
    again = await client.post("/api/mp/login", json={"code": "code-of-once", "identity": good})
    assert again.status == 401 and (await again.json())["message"] == standard.API_IDENTITY_USED


async def test_subscribe_grants_are_counted_per_accept(client: TestClient) -> None:
    token = await login(client, "code-of-grants")
    auth = {"Authorization": f"Bearer {token}"}
    services: Services = client.app[SERVICES]
    template = services.settings.miniprogram_progress_template
    for expected in (1, 2):
        resp = await client.post("/api/me/subscriptions", json={"results": {template: "accept"}}, headers=auth)
        assert (await conforms(client, resp, "/api/me/subscriptions", "post")) == {"granted": {template: expected}}
    resp = await client.post("/api/me/subscriptions", json={"results": {template: "reject"}}, headers=auth)
    assert (await conforms(client, resp, "/api/me/subscriptions", "post")) == {"granted": {}}
    user = "mp:" + _openid(services, token)
    assert [await services.contacts.use_grant(user, template) for _ in range(3)] == [True, True, False]
    for body in ({"results": {"someone-elses-template": "accept"}}, {"results": {}},
                 {"results": {template: "maybe"}}, {"results": {f"t{i}": "accept" for i in range(4)}}):  # fmt: skip
        resp = await client.post("/api/me/subscriptions", json=body, headers=auth)
        assert resp.status == 400, body
        await conforms(client, resp, "/api/me/subscriptions", "post")


async def test_a_finished_application_is_rated_and_a_bad_rating_is_called_back(client: TestClient) -> None:
    services: Services = client.app[SERVICES]
    token = await login(client, "code-of-rater")
    auth = {"Authorization": f"Bearer {token}"}
    user = "mp:" + _openid(services, token)
    citizen = Citizen(services.dialogue, user, channel="miniprogram")
    await citizen.complete(services.catalog.things["dog_license"], "我想给狗办证")
    app_id = (await services.applications.progress(user))[0]["id"]
    path = f"/api/me/applications/{app_id}/rating"

    resp = await client.post(path, json={"score": 5}, headers=auth)
    assert resp.status == 409 and "还没有全部办结" in (await resp.json())["message"]
    async with services.db.begin() as conn:  # the platform decides every item (its callbacks do this)
        await conn.execute(
            update(application_items).where(application_items.c.application_id == app_id).values(status="已办结")
        )
    resp = await client.get("/api/me/applications", headers=auth)
    listed = (await conforms(client, resp, "/api/me/applications", "get"))["applications"][0]
    assert listed["finished"] is True and listed["rating"] is None

    for body in ({"score": 6}, {"score": 0}, {"comment": "没打分"}, {"score": 4, "comment": "长" * 501}):
        resp = await client.post(path, json=body, headers=auth)
        assert resp.status == 400, body
        await conforms(client, resp, "/api/me/applications/{id}/rating", "post")
    other = {"Authorization": f"Bearer {await login(client, 'code-of-stranger')}"}
    resp = await client.post(path, json={"score": 1}, headers=other)
    assert resp.status == 404  # someone else's application is not theirs to rate

    good = {"score": 4, "criteria": {"overall": 4, "efficiency": 5}, "comment": "没跑一次，电话13800001111也没用上"}
    resp = await client.post(path, json=good, headers=auth)
    assert (await conforms(client, resp, "/api/me/applications/{id}/rating", "post")) == {
        "application": app_id, "score": 4, "level": "满意", "follow_up": False, "called_back": False,
    }  # fmt: skip
    resp = await client.post(path, json={"score": 1, "comment": "证照三周还没寄到"}, headers=auth)  # 追评, and 差评
    assert (await conforms(client, resp, "/api/me/applications/{id}/rating", "post")) == {
        "application": app_id, "score": 1, "level": "非常不满意", "follow_up": True, "called_back": True,
    }  # fmt: skip
    resp = await client.get("/api/me/applications", headers=auth)
    assert (await resp.json())["applications"][0]["rating"] == 1  # the latest
    async with services.db.connect() as conn:
        stored = [r[0] for r in await conn.exec_driver_sql("SELECT comment FROM ratings ORDER BY id")]
        orders = list(await conn.execute(select(work_orders)))
    assert len(stored) == 2 and "13800001111" not in stored[0]  # encrypted at rest
    [order] = orders  # the 差评 is on its way to 12345 for a call-back within one working day
    assert order.kind == "投诉" and order.application_id == app_id
    _, request = await services.work_orders.request_of(order.id)
    assert "证照三周还没寄到" in request["content"] and request["deadline_days"] == 1
    assert request["department"] == services.catalog.things["dog_license"].lead[0]
    for body in ({"score": 3, "criteria": {"overall": 9}}, {"score": 3, "criteria": {"mood": 3}}):
        resp = await client.post(path, json=body, headers=auth)
        assert resp.status == 400, body


@pytest.fixture
async def shared_client(aiohttp_client: Any, client: TestClient) -> AsyncIterator[TestClient]:
    """The app as ``client`` builds it, with the e-license simulator (the sample people) behind it."""
    async with serving(elicense_app("sim-elicense-key", latency_ms=0)) as elicense:
        settings: Settings = client.app[SERVICES].settings
        configured = settings.model_copy(
            update={"elicense_url": str(elicense.make_url("")), "elicense_key": SecretStr("sim-elicense-key")}
        )
        yield await aiohttp_client(create_app(configured))


async def to_field(client: TestClient, token: str, opening: str, field_id: str) -> list[Reply]:
    replies = await chat(client, token, text=opening)
    replies = await chat(client, token, text="开始办理")
    for _ in range(10):
        if isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == field_id:
            return replies
        payloads = [o.payload for o in getattr(replies[-1], "options", [])]
        replies = await chat(client, token, text="给自己办" if "self" in payloads else "是")
    raise AssertionError("\n".join(r.text for r in replies))


async def test_a_strangers_id_typed_into_the_chat_gives_none_of_their_data_back(shared_client: TestClient) -> None:
    """The review's finding: an unverified user typed 王丽's name and ID, agreed, and read her phone
    and address from the form API. Now nothing is looked up without a verified identity."""
    token = await login(shared_client, "code-of-snoop")
    auth = {"Authorization": f"Bearer {token}"}
    await to_field(shared_client, token, "新生儿出生一件事", "applicant_name")
    await chat(shared_client, token, text=WANG[0])
    replies = await chat(shared_client, token, text="同意")  # as the attacker would, whatever is asked
    replies = await chat(shared_client, token, text=WANG[1])
    assert "138****2345" not in "\n".join(r.text for r in replies)
    resp = await shared_client.get("/api/things/newborn/form", headers=auth)
    form = await conforms(shared_client, resp, "/api/things/{id}/form", "get")
    values = json.dumps({f["id"]: f["value"] for f in form["fields"]}, ensure_ascii=False)
    for hers in ("13840012345", "南京南街", "210102198811203017", "李沐阳", "盛京医院"):
        assert hers not in values, hers


async def test_a_verified_person_gets_their_own_record(shared_client: TestClient) -> None:
    resp = await shared_client.post(
        "/api/mp/login", json={"code": "code-of-wang-li", "identity": voucher(*WANG, code="code-of-wang-li")}
    )
    token = (await resp.json())["token"]
    replies = await chat(shared_client, token, text="新生儿出生一件事")
    replies = await chat(shared_client, token, text="开始办理")
    for _ in range(10):
        if standard.CONSENT in replies[-1].text:
            break
        payloads = [o.payload for o in getattr(replies[-1], "options", [])]
        replies = await chat(shared_client, token, text="给自己办" if "self" in payloads else "是")
    replies = await chat(shared_client, token, text="同意")
    assert standard.PREFILL_SHOWN in "\n".join(r.text for r in replies)
    resp = await shared_client.get("/api/things/newborn/form", headers={"Authorization": f"Bearer {token}"})
    form = await conforms(shared_client, resp, "/api/things/{id}/form", "get")
    assert {f["id"]: f["value"] for f in form["fields"]}["other_parent_id_card"] == "210102198811203017"
