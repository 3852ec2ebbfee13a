"""Console logins as an attacker meets them: guesses counted per account and address before each
check (a parallel burst gets no more checks than the limit), a stranger cannot lock a colleague out,
the client's address behind our proxy is the one counted, locks grow longer, and a reset password or
a deactivated account ends every live login."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.accounts import sessions as console
from bot.settings import ROOT, Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from tests.console_helpers import PASSWORD, Staff, make_account


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"})))
    await server.start_server()
    yield server
    await server.close()


async def login(app: TestServer, username: str, password: str = PASSWORD, address: str = "203.0.113.7") -> int:
    """One login from ``address``, as our proxy forwards it."""
    async with aiohttp.ClientSession() as http, http.post(
        app.make_url("/console/api/login"), json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    ) as resp:  # fmt: skip
        return resp.status


async def test_a_parallel_burst_of_guesses_gets_no_more_checks_than_the_limit(app: TestServer) -> None:
    await make_account(app, "li.admin", "admin")
    statuses = await asyncio.gather(*(login(app, "li.admin", "wrong-wrong-wrong") for _ in range(25)))
    assert statuses.count(401) == console.MAX_FAILURES and statuses.count(429) == 25 - console.MAX_FAILURES
    assert await login(app, "li.admin") == 429  # that address is locked out of that account for now


async def test_a_stranger_cannot_lock_a_colleague_out(app: TestServer) -> None:
    await make_account(app, "wang.agent")
    for _ in range(12):
        await login(app, "wang.agent", "wrong-wrong-wrong", address="198.51.100.66")
    assert await login(app, "wang.agent", address="198.51.100.66") == 429
    assert await login(app, "wang.agent", address="203.0.113.7") == 200  # her own desk is not locked


async def test_the_address_behind_the_proxy_is_counted_and_not_one_it_did_not_add(settings: Settings) -> None:
    server = TestServer(create_app(settings))  # no trusted proxy: X-Forwarded-For is the client's own claim
    await server.start_server()
    try:
        await make_account(server, "zhao.agent")
        statuses = [await login(server, "zhao.agent", "wrong-wrong-wrong", address=f"192.0.2.{n}") for n in range(7)]
        assert statuses[-1] == 429  # claiming a new address each time changes nothing
    finally:
        await server.close()


async def test_locks_grow_longer_and_an_address_spraying_accounts_is_stopped(app: TestServer) -> None:
    await make_account(app, "sun.agent")
    services = app.app[SERVICES]
    waits = []
    for _ in range(3):
        for _ in range(console.MAX_FAILURES):
            assert await login(app, "sun.agent", "wrong-wrong-wrong") == 401
        async with aiohttp.ClientSession() as http, http.post(
            app.make_url("/console/api/login"), json={"username": "sun.agent", "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.7"},
        ) as resp:  # fmt: skip
            assert resp.status == 429 and "分钟后再试" in (await resp.json())["message"]
            waits.append(int(resp.headers["Retry-After"]))
        async for key in services.redis.scan_iter("console:lock:*"):
            await services.redis.delete(key)  # as if the lock had run out
    assert waits[0] <= console.FIRST_LOCK_SECONDS < waits[1] <= 2 * console.FIRST_LOCK_SECONDS < waits[2]
    statuses = [await login(app, f"nobody{n}", "wrong-wrong-wrong", address="198.51.100.9") for n in range(25)]
    assert statuses.index(429) == console.MAX_ADDRESS_FAILURES


async def test_a_reset_password_or_a_deactivated_account_ends_its_logins(app: TestServer, settings: Settings) -> None:
    await make_account(app, "qian.agent")
    await make_account(app, "zhou.agent")
    logged_in = []
    for name in ("qian.agent", "qian.agent", "zhou.agent"):
        s = Staff(app)
        assert (await s.login(name)).status == 200
        assert (await s.request("GET", "/console/api/queue")).status == 200
        logged_in.append(s)
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url, "PATH": "/usr/bin:/bin"}
    reset = subprocess.run(
        [sys.executable, "-m", "bot", "admin", "set-password", "--username", "qian.agent", "--password-stdin"],
        input="a brand new password\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert reset.returncode == 0 and "2 个登录已退出" in reset.stdout, reset.stderr
    assert [(await s.request("GET", "/console/api/queue")).status for s in logged_in] == [401, 401, 200]
    gone = subprocess.run([sys.executable, "-m", "bot", "admin", "deactivate", "--username", "zhou.agent"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)  # fmt: skip
    assert gone.returncode == 0, gone.stderr
    assert (await logged_in[2].request("GET", "/console/api/queue")).status == 401
    assert (await logged_in[2].login("zhou.agent")).status == 401
    for s in logged_in:
        await s.close()
