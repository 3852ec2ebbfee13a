"""The admins' dashboard over real HTTP: counters written by real conversations
(Redis) and what the database records (submissions, 办结, deliveries, dead
letters, ratings and their work orders) come back as the figures the charts
draw, including the question after which most people gave up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from bot.applications.progress import StatusEvent
from bot.db.schema import applications, outbox
from bot.dialogue.messages import FieldPrompt
from bot.dialogue.scripted import Citizen
from bot.notify.log import DeliveryLog
from bot.settings import Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from tests.console_helpers import Staff, make_account

OPENING = "孩子刚出生，户口咋上"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(settings))
    await server.start_server()
    yield server
    await server.close()


async def stop_at_first_question(services: Services, user: str) -> str:
    """A person who starts the form and goes no further than its first question; → that field."""
    thing = services.catalog.things["newborn"]
    c = Citizen(services.dialogue, user, channel="miniprogram")
    replies = await c.say(OPENING)
    for _ in range(20):
        if isinstance(replies[-1], FieldPrompt):
            return replies[-1].field_id
        answer = c.answer_for(replies, thing)
        assert answer is not None
        replies = await c.say(answer)
    raise AssertionError("no form question reached")


async def test_the_dashboard_counts_what_happened(app: TestServer) -> None:
    services: Services = app.app[SERVICES]
    first = await stop_at_first_question(services, "mp:oStopper1")
    assert await stop_at_first_question(services, "mp:oStopper2") == first
    finisher = Citizen(services.dialogue, "mp:oFinisher", channel="miniprogram")
    await finisher.complete(services.catalog.things["newborn"], OPENING)
    lost = Citizen(services.dialogue, "wechat:oLost", channel="wechat")
    said = "楼上漏水物业一直不管"
    await lost.say(said)
    await lost.say("转人工")
    fell_back = (await services.nlu.parse(said))["intent"]["name"] == "nlu_fallback"

    # the finisher's application is decided, rated badly; a notice went by SMS, another died
    [app_row] = await services.applications.progress("mp:oFinisher")
    async with services.db.begin() as conn:
        await conn.execute(
            update(applications).where(applications.c.id == app_row["id"]).values(number="SB20261130000009")
        )
    for seq, item in enumerate(i["key"] for i in app_row["items"]):
        await services.progress.apply(StatusEvent(f"e{seq}", "SB20261130000009", item, "已办结", seq + 1))
    rated = await services.ratings.rate("mp:oFinisher", app_row["id"], 1, "等了太久")
    assert rated.work_order is not None
    await DeliveryLog(services.db).mark(1, "sms", "sent")
    await DeliveryLog(services.db).mark(1, "template", "refused")
    async with services.db.begin() as conn:
        now = datetime.now(UTC)
        await conn.execute(outbox.insert().values(kind="notify", ref="x", payload="", next_at=now, dead_at=now))

    await make_account(app, "li.admin", "admin")
    admin = Staff(app)
    try:
        await admin.login("li.admin")
        f = await admin.json("GET", "/console/api/dashboard?days=7")
        newborn = await admin.json("GET", "/console/api/dashboard?days=7&thing=newborn")
        assert (await admin.request("GET", "/console/api/dashboard?days=0")).status == 400
        assert (await admin.request("GET", "/console/api/dashboard?thing=nope")).status == 404
        untouched = await admin.json("GET", "/console/api/dashboard?days=7&thing=enterprise_simple_deregistration")
    finally:
        await admin.close()

    today = f["per_day"][-1]
    assert len(f["per_day"]) == 7 and today["day"] == f["to"]
    assert today["conversations"] == 4 and today["submissions"] == 1 and today["finished"] == 1
    assert today["handoffs"] == 1 and today["fallbacks"] == (1 if fell_back else 0)
    assert f["things"][0] == {"thing": "newborn", "name": "新生儿出生", "count": 3}
    assert f["rates"]["handoff_reasons"] == {"requested": 1} and f["rates"]["handoff"] == 0.25
    steps = {s["step"]: s["count"] for s in newborn["funnel"]["steps"]}
    assert steps == {"identified": 3, "guide": 3, "started": 3, "submitted": 1, "finished": 1}
    fields = newborn["funnel"]["fields"]
    assert fields[0]["field"] == first and fields[0]["reached"] == 3 and all(x["reached"] == 1 for x in fields[1:])
    assert newborn["funnel"]["gave_up_at"]["field"] == first and newborn["funnel"]["gave_up_at"]["left"] == 2
    # a one-thing nobody reached a question of (was a 500: found by the hostile-input test)
    assert untouched["funnel"]["fields"] == [] and untouched["funnel"]["gave_up_at"] is None
    sms = next(c for c in f["notifications"]["channels"] if c["channel"] == "sms")
    assert sms["sent"] == 1 and f["notifications"]["dead_letters"] == 1
    levels = {lv["level"]: lv["count"] for lv in f["ratings"]["levels"]}
    assert levels["非常不满意"] == 1 and f["ratings"]["bad_total"] == 1
    [bad] = f["ratings"]["bad"]
    assert bad["comment"] == "等了太久" and bad["work_order"]["id"] == rated.work_order
    assert f["handovers"] == {"waiting": 1}
