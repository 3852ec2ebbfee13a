"""Helpers shared by the console tests: accounts, a logged-in staff HTTP client,
a mini-program citizen."""

from __future__ import annotations

import contextlib
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bot.accounts import AccountError
from handlers.keys import SERVICES

PASSWORD = "correct horse battery"


async def make_account(server: TestServer, username: str, role: str = "agent", display: str = "") -> None:
    await server.app[SERVICES].accounts.create(username, PASSWORD, role, display or username)


class Staff:
    """A browser-like client of the consoles: a cookie jar, the CSRF token of its login."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies from 127.0.0.1
        self.csrf = ""

    async def login(self, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        resp = await self.http.post(self.server.make_url("/console/api/login"), json={"username": username,
                                                                                       "password": password})  # fmt: skip
        if resp.status == 200:
            self.csrf = (await resp.json())["csrf"]
        return resp

    async def request(self, method: str, path: str, body: Any = None, csrf: bool = True) -> aiohttp.ClientResponse:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return await self.http.request(method, self.server.make_url(path), json=body, headers=headers)

    async def json(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        resp = await self.request(method, path, body)
        assert resp.status == status, await resp.text()
        return await resp.json()

    async def ws(self, handover_id: str, after: str = "0") -> aiohttp.ClientWebSocketResponse:
        url = self.server.make_url(f"/console/ws/handovers/{handover_id}").with_query(csrf=self.csrf, after=after)
        return await self.http.ws_connect(url)

    async def close(self) -> None:
        await self.http.close()


class MiniCitizen:
    """A person in the mini-program: logs in through the WeChat simulator, chats, follows updates."""

    def __init__(self, server: TestServer, code: str) -> None:
        self.server = server
        self.code = code
        self.token = ""
        self.cursor = "0"
        self.http = aiohttp.ClientSession()

    async def login(self) -> None:
        async with self.http.post(self.server.make_url("/api/mp/login"), json={"code": self.code}) as resp:
            assert resp.status == 200, await resp.text()
            self.token = (await resp.json())["token"]

    async def say(self, text: str = "", choice: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"text": text} if choice is None else {"choice": choice}
        async with self.http.post(self.server.make_url("/api/chat"), json=body, headers=self._auth()) as resp:
            assert resp.status == 200, await resp.text()
            data = await resp.json()
        self.cursor = data["cursor"]
        return list(data["replies"])

    async def updates(self) -> list[dict[str, Any]]:
        url = self.server.make_url("/api/chat/updates").with_query(after=self.cursor)
        async with self.http.get(url, headers=self._auth()) as resp:
            assert resp.status == 200, await resp.text()
            data = await resp.json()
        self.cursor = data["cursor"]
        return list(data["updates"])

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def close(self) -> None:
        await self.http.close()


async def as_staff(client: TestClient, username: str = "wang", role: str = "admin") -> dict[str, str]:
    """Log ``client`` (its cookie jar) in as this account, made if need be; → the CSRF header of that login."""
    with contextlib.suppress(AccountError):
        await client.server.app[SERVICES].accounts.create(username, PASSWORD, role)
    resp = await client.post("/console/api/login", json={"username": username, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return {"X-CSRF-Token": (await resp.json())["csrf"]}
