"""Personal data kept no longer than needed: a person's data erased on request
(an admin, over HTTP, audited without the data itself), what is still being
sent kept and said; the retention round deleting what is past its time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from bot.db.schema import application_items, applications, audit_log, outbox
from bot.dialogue.scripted import Citizen
from bot.people.keys import user_key
from bot.privacy import Retention
from bot.settings import Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from tests.conftest import serving
from tests.console_helpers import Staff, make_account

USER = "mp:oForgetMe"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestServer]:
    async with serving(create_app(settings)) as server:
        yield server


async def applied(services: Services, user: str) -> str:
    await Citizen(services.dialogue, user, channel="miniprogram").complete(
        services.catalog.things["newborn"], "孩子刚出生，户口咋上"
    )
    [app] = await services.applications.progress(user)
    return str(app["id"])


async def test_a_person_is_forgotten_on_request(app: TestServer) -> None:
    services: Services = app.app[SERVICES]
    sent = await applied(services, USER)
    async with services.db.begin() as conn:  # the platform has this one
        await conn.execute(update(applications).where(applications.c.id == sent).values(status="accepted"))
    await Citizen(services.dialogue, USER, channel="miniprogram").say("我要办居住证")  # a new draft
    await services.contacts.set_following(USER, True)
    await services.inbox.put(USER, 7, {"kind": "message", "text": "您好"})
    await make_account(app, "li.admin", "admin")
    admin = Staff(app)
    try:
        await admin.login("li.admin")
        assert (await admin.request("POST", "/console/api/admin/privacy/forget", {})).status == 400
        assert (await admin.request("POST", "/console/api/admin/privacy/forget", {"application": "nope"})).status == 404
        done = await admin.json("POST", "/console/api/admin/privacy/forget", {"application": sent})
        again = await admin.request("POST", "/console/api/admin/privacy/forget", {"application": sent})
    finally:
        await admin.close()
    assert done["erased"]["applications"] == 1 and done["erased"]["redis_keys"] >= 2 and done["kept"] == []
    assert again.status == 409
    assert await services.redis.get(f"sess:{user_key(USER)}") is None
    assert await services.inbox.take(USER) == []
    vault = services.settings.vault()
    async with services.db.connect() as conn:
        row = (await conn.execute(select(applications).where(applications.c.id == sent))).one()
        trail = (await conn.execute(select(audit_log).where(audit_log.c.action == "privacy.forget"))).one()
    assert vault.decrypt(row.form) == "{}" and vault.decrypt(row.user_ref) == "" and row.erased_at is not None
    assert trail.actor == "li.admin" and "oForgetMe" not in json.dumps(trail.detail, ensure_ascii=False)
    assert await services.applications.progress(USER) == []  # nothing of theirs is found under them any more


async def test_what_is_still_being_sent_is_kept_and_said(app: TestServer) -> None:
    services: Services = app.app[SERVICES]
    from bot.privacy import Privacy

    await applied(services, "mp:oPending")  # no platform configured: still in the outbox
    done = await Privacy(services.db, services.redis, services.settings.vault()).forget("mp:oPending", "li.admin")
    assert done.erased["applications"] == 0 and done.kept == ["1 application(s) still being sent to the platform"]


async def test_retention_deletes_what_is_past_its_time(app: TestServer) -> None:
    services: Services = app.app[SERVICES]
    app_id = await applied(services, "mp:oOld")
    now = datetime.now(UTC)
    async with services.db.begin() as conn:
        await conn.execute(update(applications).where(applications.c.id == app_id).values(status="accepted"))
        await conn.execute(update(application_items).where(application_items.c.application_id == app_id)
                           .values(status="已办结", updated_at=now))  # fmt: skip
        await conn.execute(
            outbox.insert().values(kind="notify", ref="x", payload="sealed", next_at=now, delivered_at=now)
        )
    await services.phone_drafts.create("wang.li", "newborn", {"applicant_name": "陈静"}, "13812345678")
    retention = Retention(services.db, services.settings.vault(), retain_days=180, notice_days=30)
    assert await retention.sweep(now) == {"phone_drafts": 0, "notices": 0, "handover_summaries": 0, "applications": 0}
    later = await retention.sweep(now + timedelta(days=200))
    assert later["phone_drafts"] == 1 and later["notices"] >= 1 and later["applications"] == 1
    assert not any((await retention.sweep(now + timedelta(days=200))).values())  # nothing twice
    async with services.db.connect() as conn:
        form = (await conn.execute(select(applications.c.form).where(applications.c.id == app_id))).scalar_one()
    assert services.settings.vault().decrypt(form) == "{}"
