"""The mini-program / 辽事通 API: login through the WeChat simulator, expiring
tokens, the chat with structured replies, my applications; every response
checked against the served OpenAPI document, which itself must be valid."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.texts import standard
from handlers.keys import SERVICES


async def conforms(client: TestClient, resp: ClientResponse, path: str, method: str) -> dict[str, Any]:
    """The response body matches what the OpenAPI document says for this status."""
    doc = await (await client.get("/api/openapi.json")).json()
    operation = doc["paths"][path][method]
    assert str(resp.status) in operation["responses"], f"{resp.status} not documented for {method} {path}"
    schema = operation["responses"][str(resp.status)]["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:api", Resource.from_contents(doc, default_specification=DRAFT202012))
    body = await resp.json()
    Draft202012Validator({"$ref": "urn:api" + schema["$ref"]}, registry=registry).validate(body)
    return dict(body)


async def login(client: TestClient, code: str = "code-of-wang") -> str:
    resp = await client.post("/api/mp/login", json={"code": code})
    assert resp.status == 200
    return str((await conforms(client, resp, "/api/mp/login", "post"))["token"])


async def test_the_document_is_valid_openapi(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    validate(doc)
    assert {"/api/mp/login", "/api/chat", "/api/me/applications"} <= set(doc["paths"])


async def test_login_chat_and_my_applications(client: TestClient) -> None:
    token = await login(client)
    auth = {"Authorization": f"Bearer {token}"}
    resp = await client.post("/api/chat", json={"text": "孩子刚出生，户口咋上"}, headers=auth)
    body = await conforms(client, resp, "/api/chat", "post")
    kinds = [r["kind"] for r in body["replies"]]
    assert "guide" in kinds and "link" in kinds and kinds[-1] == "choices"
    start = next(o for o in body["replies"][-1]["options"] if o["payload"] == "start")
    resp = await client.post("/api/chat", json={"choice": start["payload"]}, headers=auth)
    body = await conforms(client, resp, "/api/chat", "post")
    assert body["replies"][-1]["kind"] == "choices"  # the first eligibility question
    resp = await client.get("/api/me/applications", headers=auth)
    assert (await conforms(client, resp, "/api/me/applications", "get")) == {"applications": []}
    # the same person logging in again continues the same conversation
    again = {"Authorization": f"Bearer {await login(client)}"}
    resp = await client.post("/api/chat", json={"text": "是"}, headers=again)
    body = await conforms(client, resp, "/api/chat", "post")
    assert "辽宁户口" in body["replies"][-1]["text"]


async def test_refusals_are_clear_4xx(client: TestClient) -> None:
    resp = await client.post("/api/mp/login", json={"code": "bad-code"})
    assert resp.status == 401 and "登录失败" in (await conforms(client, resp, "/api/mp/login", "post"))["message"]
    resp = await client.post("/api/mp/login", data="{{{")
    assert resp.status == 400
    await conforms(client, resp, "/api/mp/login", "post")
    for headers in ({}, {"Authorization": "Bearer forged"}):
        resp = await client.post("/api/chat", json={"text": "你好"}, headers=headers)
        assert resp.status == 401
        await conforms(client, resp, "/api/chat", "post")
    token = await login(client)
    for payload in ({}, {"text": "  "}, {"text": "长" * 2001}, ["你好"]):
        resp = await client.post("/api/chat", json=payload, headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 400, payload
        await conforms(client, resp, "/api/chat", "post")


async def test_the_form_outside_chat_shares_the_draft_and_submits(client: TestClient) -> None:
    token = await login(client, "code-of-form")
    auth = {"Authorization": f"Bearer {token}"}
    resp = await client.get("/api/things/newborn/form", headers=auth)
    form = await conforms(client, resp, "/api/things/{id}/form", "get")
    assert [f["id"] for f in form["fields"]][:3] == ["applicant_name", "applicant_id_card", "applicant_phone"]
    assert any(m.startswith("applicant_name") for m in form["missing"])

    resp = await client.put(
        "/api/things/newborn/draft",
        json={"answers": {"applicant_name": "王丽", "applicant_id_card": "210102199003074520", "nope": "x"}},
        headers=auth,
    )
    saved = await conforms(client, resp, "/api/things/{id}/draft", "put")
    assert saved["problems"]["applicant_id_card"] == "身份证号第 18 位校验码不对，可能有一位输错了，请核对。"
    assert "nope" in saved["problems"] and "applicant_name" not in saved["problems"]
    # the chat sees what the form saved, and asks what is still open
    resp = await client.post("/api/chat", json={"text": "查看已填"}, headers=auth)
    assert "申请人姓名：王*" in (await resp.json())["replies"][0]["text"]

    resp = await client.post("/api/things/newborn/submit", headers=auth)
    assert resp.status == 422
    incomplete = await conforms(client, resp, "/api/things/{id}/submit", "post")
    assert incomplete["missing"]

    answers = {
        "applicant_id_card": "210102199003074522", "applicant_phone": "13840012345", "applicant_relation": "母亲",
        "parents_married": "是", "other_parent_name": "李强", "other_parent_id_card": "210102198811203017",
        "child_name": "李沐阳", "child_gender": "男", "child_birth_date": "2026年11月3日",
        "birth_hospital": "盛京医院", "settle_with": "随母亲", "settle_household": "父母本人户",
        "household_address": "沈阳市和平区南京南街1号2-3-1", "card_delivery": "网点自取",
    }  # fmt: skip
    resp = await client.put("/api/things/newborn/draft", json={"answers": answers}, headers=auth)
    saved = await conforms(client, resp, "/api/things/{id}/draft", "put")
    assert saved["problems"] == {} and saved["form"]["missing"] == [], saved
    resp = await client.post("/api/things/newborn/submit", headers=auth)
    assert resp.status == 201
    created = await conforms(client, resp, "/api/things/{id}/submit", "post")
    resp = await client.get("/api/me/applications", headers=auth)
    apps = (await conforms(client, resp, "/api/me/applications", "get"))["applications"]
    assert [a["id"] for a in apps] == [created["id"]] and apps[0]["thing"] == "newborn"


async def test_form_routes_refuse_clearly(client: TestClient) -> None:
    token = await login(client, "code-of-refusals")
    auth = {"Authorization": f"Bearer {token}"}
    resp = await client.get("/api/things/no_such_thing/form", headers=auth)
    assert resp.status == 404
    await conforms(client, resp, "/api/things/{id}/form", "get")
    for body in ({}, {"answers": {}}, {"answers": ["x"]}):
        resp = await client.put("/api/things/newborn/draft", json=body, headers=auth)
        assert resp.status == 400, body
        await conforms(client, resp, "/api/things/{id}/draft", "put")
    resp = await client.post("/api/things/newborn/submit")
    assert resp.status == 401


async def test_replies_carry_the_style_and_what_was_wrong(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {await login(client, 'code-of-style')}"}

    async def say(text: str) -> dict[str, Any]:
        resp = await client.post("/api/chat", json={"text": text}, headers=auth)
        return await conforms(client, resp, "/api/chat", "post")

    assert (await say("你好"))["style"] == "standard"
    assert (await say("字太小了，看不清"))["style"] == "elderly"  # switched by the person's own words
    await say("办狗证")
    body = await say("开始办理")
    for _ in range(10):  # through eligibility and the other opening questions to the first text field
        last = body["replies"][-1]
        if last["kind"] == "field" and not last["options"]:
            break
        body = await say("1")
    else:
        raise AssertionError(body)
    assert (last["field_id"], last["problem"]) == ("applicant_name", None)
    body = await say("123")
    again = body["replies"][-1]
    assert again["field_id"] == "applicant_name" and body["style"] == "elderly"
    assert again["problem"] == "姓名应为 2 到 15 个汉字（少数民族姓名可含“·”），请核对。"
    assert again["text"].startswith(again["problem"])  # text-only channels still read it first


async def test_updates_follow_what_comes_outside_a_turn(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {await login(client, 'code-of-updates')}"}
    resp = await client.post("/api/chat", json={"text": "你好"}, headers=auth)
    cursor = (await conforms(client, resp, "/api/chat", "post"))["cursor"]
    resp = await client.get("/api/chat/updates", params={"after": "not-a-cursor"}, headers=auth)
    assert (await conforms(client, resp, "/api/chat/updates", "get"))["error"] == "bad_request"
    assert (await client.get("/api/chat/updates", params={"after": cursor})).status == 401
    services = client.server.app[SERVICES]
    user = next(iter([u async for u in _users(services)]))
    await services.dialogue.tell(user, "AGENT_LOST")  # as the agents' queue would
    resp = await client.get("/api/chat/updates", params={"after": cursor}, headers=auth)
    body = await conforms(client, resp, "/api/chat/updates", "get")
    assert [(u["role"], u["text"]) for u in body["updates"]] == [("system", standard.AGENT_LOST)]
    assert body["cursor"] != cursor


async def _users(services: Any) -> Any:
    """The mini-program people the session store knows (one in this test)."""
    async for key in services.redis.scan_iter("sess:*"):
        raw = await services.redis.get(key)
        yield json.loads(services.settings.vault().decrypt(raw))["user"]


async def test_two_hundred_polls_from_one_token_leave_other_citizens_answered(client: TestClient) -> None:
    """The review's finding: ~110 parallel long polls with one token took every pooled Redis
    connection, and other citizens got 503. Now a newer poll ends the older one, blocking reads have
    a pool of their own, and another person's turn is answered meanwhile."""
    import asyncio

    import aiohttp

    greedy = {"Authorization": f"Bearer {await login(client, 'code-of-greedy')}"}
    other = {"Authorization": f"Bearer {await login(client, 'code-of-neighbour')}"}
    url = client.make_url("/api/chat/updates")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def poll() -> int:
            async with http.get(url, params={"after": "0"}, headers=greedy) as resp:
                await resp.read()
                return resp.status

        polls = [asyncio.create_task(poll()) for _ in range(200)]
        await asyncio.sleep(0.5)  # the polls arriving
        for _ in range(3):
            resp = await client.post("/api/chat", json={"text": "孩子刚出生，户口咋上"}, headers=other)
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["replies"]
        resp = await client.post("/console/api/login", json={"username": "nobody", "password": "x" * 12})
        assert resp.status != 503
        for _ in range(150):
            if sum(t.done() for t in polls) >= 199:
                break
            await asyncio.sleep(0.1)
        ended, waiting = [t for t in polls if t.done()], [t for t in polls if not t.done()]
        statuses = [t.result() for t in ended]
        # each ended by the next and told so; on a loaded machine a few of the burst may find no Redis
        # connection in time (their own pool, 503, the page asks again later), never the turns' pool
        assert len(waiting) == 1 and set(statuses) <= {409, 503} and statuses.count(409) >= 150, statuses
        services = client.server.app[SERVICES]
        assert len(services.waiting_redis.connection_pool._in_use_connections) <= 1
        for t in waiting:
            t.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
