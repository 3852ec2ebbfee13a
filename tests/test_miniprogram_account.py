"""The rest of the mini-program / 辽事通 API: the catalog by category and
keyword, a real-name identity vouched by 辽事通 filling the applicant's part,
subscribe-message grants, and rating a finished application; every response
checked against the served OpenAPI document."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from aiohttp.test_utils import TestClient
from pydantic import TypeAdapter
from sqlalchemy import select, update

from bot.db.schema import application_items, work_orders
from bot.dialogue.messages import FieldPrompt, Reply
from bot.dialogue.scripted import Citizen
from bot.texts import standard
from handlers.keys import SERVICES
from handlers.services import Services
from tests.test_miniprogram import conforms, login

KEY = "dev-liaoshitong-key"  # the settings' default
WANG = ("王丽", "210102199003074522")
REPLIES = TypeAdapter(list[Reply])


def voucher(name: str, id_number: str, issued_at: int | None = None, key: str = KEY) -> dict[str, Any]:
    issued_at = int(time.time()) if issued_at is None else issued_at
    signature = hmac.new(key.encode(), f"{id_number}|{name}|{issued_at}".encode(), hashlib.sha256).hexdigest()
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
        voucher("王丽", "210102199003074520"),  # signed, but no valid ID number
    ):
        resp = await client.post("/api/mp/login", json={"code": "code-x", "identity": bad})
        assert resp.status == 401, bad
        assert "辽事通" in (await conforms(client, resp, "/api/mp/login", "post"))["message"]


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
