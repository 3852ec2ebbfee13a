"""Rate limits shared by every process (Redis): a person who floods gets a
polite answer and their messages are not run; an address beyond its requests
per second gets 429 with a clear message, except on the signed partner doors;
behind a trusted proxy the client's own address counts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.limits import address_of


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestServer]:
    limited = settings.model_copy(
        update={"rate_person_per_10s": 5, "rate_address_per_second": 8, "trusted_proxies": "10.0.0.1"}
    )
    server = TestServer(create_app(limited))
    await server.start_server()
    yield server
    await server.close()


async def test_a_flood_from_one_person_is_answered_politely_and_not_run(app: TestServer) -> None:
    services = app.app[SERVICES]
    c = Citizen(services.dialogue, "mp:oFlood", channel="miniprogram")
    answers = [await c.say("你好") for _ in range(7)]
    assert all(standard.TOO_FAST not in r[0].text for r in answers[:5])
    assert [r[0].text for r in answers[5:]] == [standard.TOO_FAST] * 2
    other = Citizen(services.dialogue, "mp:oCalm", channel="miniprogram")
    assert standard.TOO_FAST not in (await other.say("你好"))[0].text  # one person's flood is theirs alone


async def test_an_address_beyond_its_rate_gets_429_but_signed_doors_do_not(app: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        statuses = [(await http.get(app.make_url("/api/things"))).status for _ in range(12)]
        assert statuses.count(200) <= 8 and 429 in statuses
        limited = await http.get(app.make_url("/api/things"))
        body = await limited.json()
        assert limited.status == 429 and body["message"] == standard.API_TOO_MANY and limited.headers["Retry-After"]
        # the WeChat callback is not limited by address (it answers 4xx here for the missing signature)
        signed = [(await http.post(app.make_url("/wechat"), data=b"<xml/>")).status for _ in range(12)]
        assert 429 not in signed


def test_behind_a_trusted_proxy_the_clients_own_address_counts() -> None:
    from aiohttp.test_utils import make_mocked_request

    via_proxy = make_mocked_request("GET", "/", headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
    via_proxy._transport_peername = ("10.0.0.1", 443)  # type: ignore[attr-defined]
    assert address_of(via_proxy, {"10.0.0.1"}) == "203.0.113.7"
    assert address_of(via_proxy, set()) == "10.0.0.1"  # an untrusted proxy's header is not believed
