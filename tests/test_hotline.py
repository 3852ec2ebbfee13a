"""The 12345 hotline client against its simulator over real HTTP
(docs/hotline-api.md): work orders (masked phones, idempotent by external_id,
default and given deadlines), signed status callbacks in seq order, retried,
duplicated and shuffled on demand, SMS and voice calls idempotent by
message_id, injected failures, clear 4xx answers, and storage that survives a
restart of the simulator."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from integrations.hotline import (
    BadCallback,
    HotlineClient,
    HotlineRefused,
    HotlineUnavailable,
    verify_callback,
)
from integrations.simulators.hotline import HotlineSim

KEY, SECRET = "hotline-key", "hotline-secret"
PHONE, MASKED = "13812341234", "138****1234"
CST = timezone(timedelta(hours=8))


@dataclass
class Rig:
    sim: HotlineSim
    server: TestServer
    client: HotlineClient
    http: aiohttp.ClientSession
    callback_url: str
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)  # callbacks received
    answers: list[int] = field(default_factory=list)  # what the receiver answers next (then 200)

    async def sim_call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, self.server.make_url(path), json=body) as resp:
            return resp.status, await resp.json(content_type=None)

    async def raw(self, method: str, path: str, body: Any = None, key: str = KEY) -> tuple[int, Any]:
        """Any request, bytes as they are, anything else as JSON; the answer must be JSON."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        async with self.http.request(method, self.server.make_url(path), data=data, headers=headers) as resp:
            assert resp.content_type == "application/json"  # errors are JSON too
            return resp.status, await resp.json()

    def callbacks(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]


@asynccontextmanager
async def rig(db: Path, timeout: float = 5.0, **sim_options: Any) -> AsyncIterator[Rig]:
    """The simulator (with its background loop), a callback receiver and the client."""
    sim_options = {"pace": 0, "retry_base": 0.05, "tick": 0.01, **sim_options}
    got: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    async def callback(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.read()))
        return web.json_response({}, status=answers.pop(0) if answers else 200)

    receiver_app = web.Application()
    receiver_app.router.add_post("/callbacks/hotline", callback)
    sim = HotlineSim(db, KEY, SECRET, **sim_options)
    async with TestServer(sim.app()) as server, TestServer(receiver_app) as receiver, aiohttp.ClientSession() as http:
        client = HotlineClient(str(server.make_url("")), KEY, timeout=timeout)
        try:
            yield Rig(sim, server, client, http, str(receiver.make_url("/callbacks/hotline")), got, answers)
        finally:
            await client.close()


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def order_fields(external_id: str = "conv-1", **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "external_id": external_id,
        "channel": "wechat",
        "kind": "投诉",
        "citizen_name": "王丽",
        "phone": PHONE,
        "content": "新生儿一件事办理超期，窗口让我跑了三次",
        "region": "沈阳市和平区",
        "department": "沈阳市卫生健康委员会",
        "application_number": "SB20261123000001",
        "context": {"summary": "用户办理出生一件事，称电话1**********未接通", "thing_id": "newborn"},
    }
    return {**fields, **changes}


async def test_create_and_read_back_with_the_phone_masked(tmp_path: Path) -> None:
    async with rig(tmp_path / "h.db") as r:
        created = await r.client.create_order(**order_fields(callback_url=r.callback_url))
        assert created.number.startswith("GD" + datetime.now(CST).strftime("%Y%m%d"))
        assert created.number.endswith("000001") and len(created.number) == 16
        assert (created.status, created.seq, created.replayed) == ("已受理", 1, False)
        assert created.phone == MASKED and created.citizen_name == "王丽"
        # 投诉 without a deadline: one working day later (a Friday's is Monday's)
        assert created.deadline.weekday() < 5
        assert timedelta(days=1) <= created.deadline - created.accepted_at <= timedelta(days=3)

        read = await r.client.order(created.number)
        assert read is not None
        assert read.model_dump() == created.model_dump(exclude={"replayed"})
        assert read.context == order_fields()["context"] and read.application_number == "SB20261123000001"
        assert await r.client.order("GD20000101000001") is None

        deadline = datetime.now(CST).replace(microsecond=0) + timedelta(days=10)
        secret = await r.client.create_order(
            **order_fields("conv-2", confidential=True, kind="举报", phone="024-23456789", deadline=deadline)
        )
        assert secret.number.endswith("000002") and secret.deadline == deadline
        assert (secret.citizen_name, secret.phone) == ("王*", "024-****6789")

        status, listing = await r.sim_call("GET", "/_sim/orders")
        assert status == 200 and [o["phone"] for o in listing] == [MASKED, "024-****6789"]
        assert listing[0]["callback_url"] == r.callback_url
    stored = (tmp_path / "h.db").read_bytes()
    assert PHONE.encode() not in stored and b"23456789" not in stored  # never kept in full


async def test_the_same_external_id_gives_the_first_order_back(tmp_path: Path) -> None:
    async with rig(tmp_path / "h.db") as r:
        first = await r.client.create_order(**order_fields())
        again = await r.client.create_order(**order_fields(content="换了措辞的同一诉求"))
        assert again.replayed and again.number == first.number and again.content == first.content
        other = await r.client.create_order(**order_fields("conv-2"))
        assert other.number != first.number and not other.replayed
        _, listing = await r.sim_call("GET", "/_sim/orders")
        assert [o["external_id"] for o in listing] == ["conv-1", "conv-2"]


async def test_callbacks_are_signed_and_follow_each_change_in_seq_order(tmp_path: Path) -> None:
    async with rig(tmp_path / "h.db", pace=0.05) as r:
        order = await r.client.create_order(**order_fields(callback_url=r.callback_url))
        await eventually(lambda: len(r.got) >= 3)  # the pacer: 已受理 → 已派单 → 办理中, then it stops
        status, _ = await r.sim_call("POST", "/_sim/outcome", {"number": order.number, "status": "已办结"})
        assert status == 422  # 办结 without its 办理结果
        for change in ({"status": "已办结", "result": "已协调窗口当日办结"}, {"status": "已回访", "feedback": "满意"}):
            status, _ = await r.sim_call("POST", "/_sim/outcome", {"number": order.number, **change})
            assert status == 200
        await eventually(lambda: len(r.got) == 5)
        await asyncio.sleep(0.15)  # three more paces: nothing else moves
        events = [verify_callback(SECRET, headers, body) for headers, body in r.got]
        assert [(e["status"], e["seq"]) for e in events] == [
            ("已受理", 1), ("已派单", 2), ("办理中", 3), ("已办结", 4), ("已回访", 5)
        ]  # fmt: skip
        assert {(e["number"], e["external_id"]) for e in events} == {(order.number, "conv-1")}
        assert (events[3]["result"], events[3]["feedback"]) == ("已协调窗口当日办结", None)
        assert (events[4]["result"], events[4]["feedback"]) == ("已协调窗口当日办结", "满意")
        final = await r.client.order(order.number)
        assert final is not None and (final.status, final.seq, final.feedback) == ("已回访", 5, "满意")

        headers, body = r.got[-1]
        with pytest.raises(BadCallback, match="signature"):
            verify_callback(SECRET, headers, body.replace(b'"seq": 5', b'"seq": 9'))
        with pytest.raises(BadCallback, match="signature"):
            verify_callback("another-secret", headers, body)
        with pytest.raises(BadCallback, match="timestamp"):
            verify_callback(SECRET, headers, body, now=time.time() + 3600)  # replayed an hour later
        with pytest.raises(BadCallback, match="missing"):
            verify_callback(SECRET, {}, body)
        lowercase = {k.lower(): v for k, v in headers.items()}
        assert verify_callback(SECRET, lowercase, body)["seq"] == 5


async def test_a_refused_callback_is_retried_and_later_ones_wait_for_it(tmp_path: Path) -> None:
    async with rig(tmp_path / "h.db") as r:
        r.answers.extend([500, 503])  # our side fails twice
        order = await r.client.create_order(**order_fields(callback_url=r.callback_url))
        status, body = await r.sim_call("POST", "/_sim/advance")
        assert (status, body) == (200, {"moved": 1})
        await eventually(lambda: len(r.got) == 4)
        assert [c["seq"] for c in r.callbacks()] == [1, 1, 1, 2]  # seq 2 waited for seq 1
        _, log = await r.sim_call("GET", "/_sim/callbacks")
        assert [(e["number"], e["seq"], e["delivered"], e["attempts"]) for e in log] == [
            (order.number, 1, True, 3), (order.number, 2, True, 1)
        ]  # fmt: skip
        assert log[0]["last_error"] == "HTTP 503"


async def test_outage_holds_callbacks_then_duplicates_and_shuffle(tmp_path: Path) -> None:
    async with rig(tmp_path / "h.db") as r:
        order = await r.client.create_order(**order_fields(callback_url=r.callback_url))
        await eventually(lambda: len(r.got) == 1)
        assert (await r.sim_call("POST", "/_sim/faults", {"outage": True}))[0] == 200
        with pytest.raises(HotlineUnavailable, match="503"):
            await r.client.order(order.number)
        await r.sim_call("POST", "/_sim/advance")
        await r.sim_call("POST", "/_sim/advance")
        await r.sim_call("POST", "/_sim/outcome", {"number": order.number, "status": "已办结", "result": "已办结"})
        await asyncio.sleep(0.1)
        assert len(r.got) == 1  # no callbacks while the platform is down
        faults = {"duplicate_callbacks": True, "shuffle_callbacks": True}
        assert (await r.sim_call("POST", "/_sim/faults", faults))[1]["outage"] is False
        await eventually(lambda: len(r.got) == 7)
        later = r.callbacks()[1:]
        assert [c["seq"] for c in later] == [4, 4, 3, 3, 2, 2]  # each twice, newest first
        assert len({c["event_id"] for c in later}) == 3
        assert all(verify_callback(SECRET, h, b) for h, b in r.got)
        assert (await r.client.order(order.number)) is not None  # back up


async def test_sms_and_calls_are_sent_once_per_message_id(tmp_path: Path) -> None:
    async with rig(tmp_path / "h.db", call_seconds=60) as r:
        sms = await r.client.send_sms(PHONE, "您的工单已受理", "msg-1")
        again = await r.client.send_sms(PHONE, "您的工单已受理", "msg-1")
        assert (again.receipt_id, again.replayed, sms.replayed) == (sms.receipt_id, True, False)
        assert sms.receipt_id.startswith("SM") and sms.phone == MASKED
        await r.client.send_sms(PHONE, "x" * 500, "msg-2")  # the longest allowed
        with pytest.raises(HotlineRefused) as too_long:
            await r.client.send_sms(PHONE, "x" * 501, "msg-3")
        assert (too_long.value.status, too_long.value.error) == (422, "text_too_long")
        with pytest.raises(HotlineRefused, match="phone"):
            await r.client.send_sms("024-23456789", "座机收不到短信", "msg-4")
        _, sent = await r.sim_call("GET", "/_sim/sms")
        assert [(s["message_id"], s["phone"], len(s["text"])) for s in sent] == [
            ("msg-1", MASKED, 7), ("msg-2", MASKED, 500)
        ]  # fmt: skip

        call = await r.client.place_call(PHONE, "您好，这里是12345，您的工单已办结", "call-1")
        repeat = await r.client.place_call(PHONE, "您好，这里是12345，您的工单已办结", "call-1")
        assert (repeat.call_id, repeat.replayed) == (call.call_id, True)
        assert (call.status, call.phone, call.ended_at) == ("calling", MASKED, None)
        status, _ = await r.sim_call("POST", "/_sim/calls", {"call_id": call.call_id, "outcome": "busy"})
        assert status == 200
        ended = await r.client.call(call.call_id)
        assert ended is not None and ended.status == "busy" and ended.ended_at is not None
        second = await r.client.place_call("024-23456789", "提醒：请补充材料", "call-2")
        r.sim.call_seconds = 0  # nobody told it otherwise: the call is answered once it has rung
        answered = await r.client.call(second.call_id)
        assert answered is not None and answered.status == "answered"
        assert await r.client.call("VC00000000000000") is None
        _, calls = await r.sim_call("GET", "/_sim/calls")
        assert [(c["message_id"], c["status"]) for c in calls] == [("call-1", "busy"), ("call-2", "answered")]


async def test_failures_are_unavailable_and_bad_requests_refused(tmp_path: Path) -> None:
    async with rig(tmp_path / "h.db", timeout=0.2) as r:
        gone = str(r.server.make_url(""))
        await r.sim_call("POST", "/_sim/faults", {"failure_rate": 1.0})
        with pytest.raises(HotlineUnavailable, match="503"):
            await r.client.create_order(**order_fields())
        with pytest.raises(HotlineUnavailable):
            await r.client.send_sms(PHONE, "短信", "msg-1")
        await r.sim_call("POST", "/_sim/faults", {"failure_rate": 0.5})
        outcomes = []
        for i in range(20):
            try:
                await r.client.send_sms(PHONE, "短信", f"flaky-{i}")
                outcomes.append(True)
            except HotlineUnavailable:
                outcomes.append(False)
        assert any(outcomes) and not all(outcomes)
        await r.sim_call("POST", "/_sim/faults", {"delay_seconds": 0.6})
        started = time.monotonic()
        with pytest.raises(HotlineUnavailable, match="Timeout"):
            await r.client.order("GD20000101000001")
        assert time.monotonic() - started < 0.5  # the client's own timeout, not the slow answer
        await r.sim_call("POST", "/_sim/faults", {})  # back to normal
        assert await r.client.order("GD20000101000001") is None
        wrong_key = HotlineClient(str(r.server.make_url("")), "wrong")
        with pytest.raises(HotlineUnavailable, match="401"):  # configuration: retried, never dropped
            await wrong_key.order("GD20000101000001")
        await wrong_key.close()

        bad = {
            "kind": {"kind": "抱怨"},
            "phone": {"phone": "12345"},
            "region": {"region": "北京市朝阳区"},
            "application_number": {"application_number": "20261123"},
            "deadline": {"deadline": datetime.now(CST) - timedelta(hours=1)},
            "external_id": {"external_id": "has spaces"},
            "content": {"content": ""},
        }
        for name, change in bad.items():
            with pytest.raises(HotlineRefused) as refused:
                await r.client.create_order(**order_fields(**change))
            assert (refused.value.status, refused.value.error) == (422, "invalid")
            assert refused.value.message.startswith(name), refused.value.message
        _, listing = await r.sim_call("GET", "/_sim/orders")
        assert listing == []

        assert await r.raw("POST", "/v1/orders", b"{not json") == (
            400,
            {"error": "bad_request", "message": "body is not JSON"},
        )
        status, body = await r.raw("POST", "/v1/orders", {**order_fields(), "extra": 1})
        assert (status, body["message"]) == (422, "extra: Extra inputs are not permitted")
        status, body = await r.raw("POST", "/v1/orders", [1, 2])
        assert (status, body["error"], body["message"]) == (422, "invalid", "(body): must be a JSON object")
        status, body = await r.raw("POST", "/v1/orders", order_fields(confidential="yes"))
        assert (status, body["message"].split(":")[0]) == (422, "confidential")
        assert (await r.raw("DELETE", "/v1/orders/GD1"))[0] == 405
        assert (await r.raw("GET", "/v1/nothing"))[0] == 404
        assert (await r.raw("POST", "/v1/sms", b"x" * 2_000_000))[0] == 413
        assert (await r.raw("POST", "/_sim/faults", b'{"failure_rate": "many"}'))[0] == 422
        assert (await r.raw("POST", "/_sim/faults", b'{"failure_rate": 2}'))[0] == 422
        assert (await r.raw("POST", "/_sim/outcome", {"number": "GD1", "status": "已办结", "result": "x"}))[0] == 404
        assert (await r.raw("POST", "/_sim/calls", b'{"call_id": "VC1", "outcome": "maybe"}'))[0] == 422

    closed = HotlineClient(gone, KEY, timeout=1)
    with pytest.raises(HotlineUnavailable):  # nobody listening any more
        await closed.send_sms(PHONE, "短信", "msg-9")
    await closed.close()


async def test_the_simulator_remembers_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "sim" / "hotline.db"
    async with rig(db) as r:
        order = await r.client.create_order(**order_fields(callback_url=r.callback_url))
        await r.sim_call("POST", "/_sim/outcome", {"number": order.number, "status": "已办结", "result": "已办结"})
        sms = await r.client.send_sms(PHONE, "已受理", "msg-1")
        call = await r.client.place_call(PHONE, "已受理", "call-1")
    async with rig(db) as r:  # a new simulator on the same file
        read = await r.client.order(order.number)
        assert read is not None and (read.status, read.result, read.seq) == ("已办结", "已办结", 2)
        again = await r.client.create_order(**order_fields())
        assert again.replayed and again.number == order.number
        assert (await r.client.create_order(**order_fields("conv-2"))).number.endswith("000002")
        assert (await r.client.send_sms(PHONE, "已受理", "msg-1")).receipt_id == sms.receipt_id
        assert (await r.client.place_call(PHONE, "已受理", "call-1")).call_id == call.call_id
        assert await r.client.call(call.call_id) is not None
