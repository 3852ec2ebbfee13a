"""Notices pushed to people through the best channel that reaches them, over
real HTTP to the WeChat API and 12345 simulators: grants used up, fallbacks
when a channel refuses or is down, never twice on one channel (also when a
worker dies mid-send), dead letters, quiet hours, and always the inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlalchemy import select, update

from bot.db.schema import applications, notification_deliveries, outbox
from bot.dialogue.scripted import Citizen
from bot.notify.delivery import note_seen
from bot.notify.quiet import QuietHours
from bot.settings import Settings
from bot.texts import standard
from handlers.services import Services, build_services
from integrations.simulators.hotline import HotlineSim
from tests.conftest import MP_APPID, MP_SECRET, WECHAT_APPID, WECHAT_SECRET

HOTLINE_KEY = "hotline-test-key"
PHONE = "13840012345"  # what the scripted citizen's newborn form gives


@pytest.fixture
async def hotline(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(HotlineSim(tmp_path / "hotline.db", HOTLINE_KEY, "cb-secret", pace=0).app())
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def services(settings: Settings, wechat: TestServer, hotline: TestServer) -> AsyncIterator[Services]:
    configured = settings.model_copy(
        update={
            "wechat_appid": WECHAT_APPID,
            "wechat_secret": SecretStr(WECHAT_SECRET),
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            "hotline_url": str(hotline.make_url("")).rstrip("/"),
            "hotline_key": SecretStr(HOTLINE_KEY),
            "hotline_timeout_seconds": 2.0,
            "outbox_max_backoff_seconds": 0.01,
            "notify_max_attempts": 3,
        }
    )
    built = await build_services(configured)
    yield built
    await built.close()


async def get(server: TestServer, path: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(server.make_url(path)) as resp:
        return await resp.json()


async def post(server: TestServer, path: str, body: Any) -> Any:
    async with aiohttp.ClientSession() as http, http.post(server.make_url(path), json=body) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def applied(services: Services, user: str, channel: str) -> Any:
    """An application of ``user`` (a newborn one, with a phone on its form): its row."""
    citizen = Citizen(services.dialogue, user, channel=channel)
    await citizen.complete(services.catalog.things["newborn"], "新生儿出生一件事")
    async with services.db.connect() as conn:
        return (await conn.execute(select(applications).order_by(applications.c.created_at.desc()))).first()


async def notify(services: Services, app: Any, status: str = "审批中", urgent: bool = False) -> int:
    notice = {"kind": "status", "thing": "newborn", "number": "SB20261123000001", "application": app.id,
              "item": "birth_registration", "status": status, "note": "", "detail": {}}  # fmt: skip
    async with services.db.begin() as conn:
        await services.notices.queue(conn, app, notice, urgent=urgent)
        return int((await conn.execute(select(outbox.c.id).order_by(outbox.c.id.desc()).limit(1))).scalar_one())


async def deliveries(services: Services, row_id: int) -> dict[str, str]:
    async with services.db.connect() as conn:
        rows = await conn.execute(select(notification_deliveries).where(notification_deliveries.c.outbox_id == row_id))
        return {r.channel: r.outcome for r in rows}


async def row(services: Services, row_id: int) -> Any:
    async with services.db.connect() as conn:
        return (await conn.execute(select(outbox).where(outbox.c.id == row_id))).one()


async def test_a_granted_subscribe_message_is_used_once_then_sms(
    services: Services, wechat: TestServer, hotline: TestServer
) -> None:
    user = "mp:oMiniUser"
    app = await applied(services, user, "miniprogram")
    await services.contacts.record_grants(user, {services.settings.miniprogram_progress_template: "accept"})
    notifier = services.notifier()
    first = await notify(services, app)
    assert await notifier.deliver_due() == 1
    [sent] = await get(wechat, "/_sim/sent")
    assert (sent["app"], sent["kind"], sent["touser"]) == (MP_APPID, "subscribe", "oMiniUser")
    assert sent["data"]["phrase3"]["value"] == "审批中"
    assert await deliveries(services, first) == {"subscribe": "sent"}

    second = await notify(services, app, status="已办结")
    await notifier.deliver_due()
    assert len(await get(wechat, "/_sim/sent")) == 1  # the grant was used up
    [sms] = await get(hotline, "/_sim/sms")
    assert sms["phone"] == "138****2345" and "已办结" in sms["text"] and sms["message_id"] == f"notify-{second}-sms"
    assert await deliveries(services, second) == {"sms": "sent"}  # channels that cannot reach them are not tried
    # whatever the push, the conversation has both notices
    replies = await Citizen(services.dialogue, user, channel="miniprogram").say("你好")
    text = "\n".join(r.text for r in replies)
    assert "审批中" in text and "已办结" in text


async def test_wechat_failing_falls_back_to_sms(services: Services, wechat: TestServer, hotline: TestServer) -> None:
    user = "wechat:oFollower"
    app = await applied(services, user, "wechat")
    await note_seen(services.redis, user)  # they wrote lately: customer service would reach them too
    for path in ("/cgi-bin/message/template/send", "/cgi-bin/message/custom/send"):
        await post(wechat, "/_sim/errors", {"path": path, "errcode": 45009, "times": 5})  # WeChat rate-limits us
    row_id = await notify(services, app)
    await services.notifier().deliver_due()
    assert await get(wechat, "/_sim/sent") == []
    assert len(await get(hotline, "/_sim/sms")) == 1
    assert (await deliveries(services, row_id))["template"] == "failed"
    assert (await row(services, row_id)).delivered_at is not None


async def test_a_follower_gets_a_template_message(services: Services, wechat: TestServer, hotline: TestServer) -> None:
    app = await applied(services, "wechat:oFan", "wechat")
    await notify(services, app, status="需补正", urgent=True)
    await services.notifier().deliver_due()
    [sent] = await get(wechat, "/_sim/sent")
    assert (sent["app"], sent["kind"], sent["touser"]) == (WECHAT_APPID, "template", "oFan")
    assert sent["template_id"] == services.settings.wechat_progress_template
    assert "需补正" in sent["data"]["keyword3"]["value"]
    assert await get(hotline, "/_sim/sms") == []


async def test_nobody_reachable_keeps_it_in_the_inbox(services: Services, wechat: TestServer) -> None:
    user = "wechat:oLeft"
    app = await applied(services, user, "wechat")
    await services.contacts.set_following(user, False)
    async with services.db.begin() as conn:  # an application without a phone (none on the form)
        await conn.execute(update(applications).where(applications.c.id == app.id).values(channel="wechat"))
    row_id = await notify(services, app)
    services.hotline = None  # no SMS gateway either
    await services.notifier().deliver_due()
    done = await row(services, row_id)
    assert done.delivered_at is not None and "inbox" in done.last_error
    assert await get(wechat, "/_sim/sent") == []
    assert len(await services.inbox.take(user)) == 1


async def test_a_channel_that_may_have_sent_is_never_used_again(
    services: Services, wechat: TestServer, hotline: TestServer
) -> None:
    app = await applied(services, "wechat:oCrash", "wechat")
    row_id = await notify(services, app)
    notifier = services.notifier()
    # a worker marked the template as being sent, then died before knowing whether it went out
    await notifier.log.mark(row_id, "template", "trying")
    await notifier.deliver_due()
    assert await get(wechat, "/_sim/sent") == []  # not sent a second time
    assert len(await get(hotline, "/_sim/sms")) == 1


async def test_a_worker_killed_mid_delivery_delivers_each_notice_once(
    services: Services, wechat: TestServer, hotline: TestServer
) -> None:
    app = await applied(services, "wechat:oGoneAway", "wechat")
    await services.contacts.set_following("wechat:oGoneAway", False)
    row_id = await notify(services, app)
    dead = services.notifier()
    [claimed] = (await row(services, row_id),)
    assert await dead.claim(row_id, claimed.attempts) == 1
    await dead.log.mark(row_id, "sms", "trying")  # it had started the SMS when it was killed
    # the SMS had in fact gone out: the 12345 platform saw it
    await dead.hotline.send_sms(PHONE, "……", message_id=f"notify-{row_id}-sms")  # type: ignore[union-attr]
    async with services.db.begin() as conn:  # its lease runs out
        await conn.execute(update(outbox).where(outbox.c.id == row_id).values(next_at=datetime.now(UTC)))
    alive = services.notifier()
    assert await alive.deliver_due() == 1
    assert len(await get(hotline, "/_sim/sms")) == 1  # sent again with the same id: 12345 kept one
    assert (await row(services, row_id)).delivered_at is not None
    assert await alive.deliver_due() == 0


async def test_all_channels_down_retries_then_dead_letters(
    services: Services, wechat: TestServer, hotline: TestServer
) -> None:
    app = await applied(services, "wechat:oUnlucky", "wechat")
    await post(wechat, "/_sim/errors", {"path": "/cgi-bin/message/template/send", "errcode": 45009, "times": 10})
    await post(hotline, "/_sim/faults", {"outage": True})
    row_id = await notify(services, app)
    notifier = services.notifier()
    for _ in range(6):
        await notifier.deliver_due()
        async with services.db.begin() as conn:  # no waiting out the backoff in a test
            await conn.execute(update(outbox).where(outbox.c.id == row_id).values(next_at=datetime.now(UTC)))
    dead = await row(services, row_id)
    assert dead.dead_at is not None and dead.delivered_at is None and dead.attempts == 3
    assert "sms" in dead.last_error
    assert await notifier.deliver_due() == 0  # off the queue, on the admins' list


async def test_quiet_hours_hold_non_urgent_pushes_till_morning(
    services: Services, wechat: TestServer, hotline: TestServer
) -> None:
    app = await applied(services, "wechat:oNight", "wechat")
    notifier = services.notifier()
    now = datetime.now(UTC).astimezone(QuietHours().tz)
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    notifier.quiet = QuietHours(start=start, end=end)  # it is quiet right now
    calm = await notify(services, app, status="审批中")
    urgent = await notify(services, app, status="需补正", urgent=True)
    assert await notifier.deliver_due() == 2
    [sent] = await get(wechat, "/_sim/sent")
    assert "需补正" in sent["data"]["keyword3"]["value"]  # the urgent one went at once
    held = await row(services, calm)
    assert held.delivered_at is None and held.attempts == 0
    next_at = held.next_at if held.next_at.tzinfo else held.next_at.replace(tzinfo=UTC)  # SQLite: naive UTC
    assert next_at.astimezone(QuietHours().tz).time() == time(end.hour, end.minute)
    assert (await row(services, urgent)).delivered_at is not None
    assert len(await services.inbox.take("wechat:oNight")) == 2  # the conversation has both at once


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-11-23 22:30", "2026-11-24 08:00"),  # evening: till tomorrow morning
        ("2026-11-24 06:59", "2026-11-24 08:00"),  # small hours: till this morning
        ("2026-11-24 08:00", None),  # morning: not quiet
        ("2026-11-24 20:59", None),
    ],
)
def test_quiet_hours_across_midnight(local: str, expected: str | None) -> None:
    quiet = QuietHours.parse("21:00-08:00")
    assert quiet is not None and QuietHours.parse("") is None
    at = datetime.fromisoformat(local).replace(tzinfo=quiet.tz)
    until = quiet.until(at)
    if expected is None:
        assert until is None
    else:
        assert until is not None and until.tzinfo is UTC
        assert until.astimezone(quiet.tz).replace(tzinfo=None) == datetime.fromisoformat(expected)


async def test_an_elder_who_asks_to_be_phoned_gets_a_voice_call(services: Services, hotline: TestServer) -> None:
    user = "ivr:13840012345"
    app = await applied(services, user, "ivr")
    elder = Citizen(services.dialogue, user, channel="ivr")
    assert (await elder.say("以后电话通知我"))[0].text == standard.CALLS_ON
    row_id = await notify(services, app, status="已办结")
    await services.notifier().deliver_due()
    [call] = await get(hotline, "/_sim/calls")
    assert call["phone"] == "138****2345" and "已办结" in call["text"]
    assert await deliveries(services, row_id) == {"call": "sent"}
    assert standard.CALLS_OFF in [r.text for r in await elder.say("不用打电话了")]  # after the inbox's notice
    assert not await services.contacts.wants_calls(user)
