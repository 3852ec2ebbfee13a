"""Faults, over real HTTP with real servers and processes:

1. Redis restarted mid-conversation (its append-only file on, as in production; and off: data lost);
2. the database away for a while (a TCP proxy of the test's own in front of PostgreSQL, cut);
3. the worker killed with SIGKILL in the middle of deliveries (a real ``python -m bot worker``);
4. the platform answering 5xx for minutes (the simulator's fault modes, the clock moved, not waited);
5. WeChat delivering one message three times, and two messages of one person at once.

Each time: nothing lost, nothing done twice, the person told something sensible, and the
service recovers by itself, without a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr, TypeAdapter
from sqlalchemy import event, select, update
from sqlalchemy.engine import make_url

from bot.catalog import OneThing
from bot.db.schema import application_items, applications, notification_deliveries, outbox
from bot.dialogue.messages import Reply
from bot.dialogue.scripted import Citizen, cooperative_answer
from bot.settings import ROOT, Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from integrations.platform import sign
from integrations.simulators.hotline import HotlineSim
from integrations.simulators.platform import PlatformSim
from tests.conftest import MP_APPID, MP_SECRET, PG_ADMIN, WECHAT_APPID, WECHAT_SECRET, pg_database, serving
from tests.test_processes import free_port
from tests.test_wechat import TOKEN, reply_of, signed, text_message

P_KEY, P_SECRET, H_KEY, H_SECRET = "p-key", "p-secret", "h-key", "h-secret"
REPLY: TypeAdapter[Reply] = TypeAdapter(Reply)


# ---- what every fault needs ------------------------------------------------------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite unless a test asks for PostgreSQL: each fault runs once, to keep the module quick."""
    return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with serving(PlatformSim(tmp_path / "platform.db", P_KEY, P_SECRET, pace=0).app()) as server:
        yield server


@pytest.fixture
async def hotline(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with serving(HotlineSim(tmp_path / "hotline.db", H_KEY, H_SECRET, pace=0).app()) as server:
        yield server


def configured(settings: Settings, wechat: TestServer, **more: Any) -> Settings:
    """The app's settings: our two WeChat apps on the simulator, the tests' callback token."""
    return settings.model_copy(
        update={
            "wechat_token": SecretStr(TOKEN),
            "wechat_appid": WECHAT_APPID,
            "wechat_secret": SecretStr(WECHAT_SECRET),
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            **more,
        }
    )


def on_platform(platform: TestServer, url: str | None = None) -> dict[str, Any]:
    """Settings that send applications to the platform simulator (or to ``url``, a proxy of it)."""
    return {"platform_url": url or str(platform.make_url("")), "platform_key": SecretStr(P_KEY),
            "platform_callback_secret": SecretStr(P_SECRET)}  # fmt: skip


async def app_server(settings: Settings) -> TestServer:
    """The app on a port known beforehand: the platform calls it back there."""
    port = free_port()
    app = create_app(settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"}))
    server = TestServer(app, port=port)
    await server.start_server()
    return server


async def call(server: TestServer, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(method, server.make_url(path), json=body) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15.0, what: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not in time: {what()}")


@dataclass
class WeChatReply:
    status: int
    content: str  # the passive reply's text ("success": nothing to say now)
    created: str  # the reply's CreateTime: a retry must get the very same reply
    seconds: float


async def wechat_says(client: TestClient, openid: str, content: str, msg_id: int) -> WeChatReply:
    return await wechat_post(client, text_message(content, msg_id, sender=openid))


async def wechat_post(client: TestClient, xml: str) -> WeChatReply:
    started = time.monotonic()
    resp = await client.post("/wechat", params=signed(), data=xml.encode())
    text = await resp.text()
    seconds = time.monotonic() - started
    if resp.status != 200 or text == "success":
        return WeChatReply(resp.status, text, "", seconds)
    reply = reply_of(text)
    return WeChatReply(resp.status, str(reply["Content"]), str(reply["CreateTime"]), seconds)


@dataclass
class ApiCitizen:
    """A person in the mini-program: logs in, then answers each question as a cooperative
    applicant would (the scripted citizen's answers, read off the API's structured replies)."""

    client: TestClient
    code: str
    thing: OneThing
    token: str = ""
    last: list[Reply] = field(default_factory=list)

    async def login(self) -> None:
        resp = await self.client.post("/api/mp/login", json={"code": self.code})
        assert resp.status == 200, await resp.text()
        self.token = (await resp.json())["token"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def say(self, text: str) -> tuple[int, dict[str, Any]]:
        resp = await self.client.post("/api/chat", json={"text": text}, headers=self.auth)
        body = await resp.json()
        if resp.status == 200:
            self.last = [REPLY.validate_python(r) for r in body["replies"]]
        return resp.status, body

    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    def next_answer(self) -> str | None:
        return cooperative_answer(self.last, self.thing)

    async def answer_until(self, done: Callable[[ApiCitizen], bool] = lambda c: False, limit: int = 60) -> None:
        """Answer question after question until ``done`` holds, or the application is in."""
        for _ in range(limit):
            if done(self):
                return
            answer = self.next_answer()
            if answer is None:
                return
            status, body = await self.say(answer)
            assert status == 200, body
        raise AssertionError(f"still going after {limit} answers: {self.text()}")

    async def form(self) -> tuple[int, dict[str, Any]]:
        resp = await self.client.get(f"/api/things/{self.thing.id}/form", headers=self.auth)
        return resp.status, await resp.json()


async def citizen_in_app(client: TestClient, code: str) -> ApiCitizen:
    """A person logged in to the mini-program, about to apply for a newborn's one-thing."""
    services: Services = client.server.app[SERVICES]
    citizen = ApiCitizen(client, code, services.catalog.things["newborn"])
    await citizen.login()
    status, body = await citizen.say("孩子刚出生，户口咋上")
    assert status == 200, body
    return citizen


def asks_field(n: int) -> Callable[[ApiCitizen], bool]:
    """Done when the person has answered ``n`` form fields and is asked the next one."""
    asked: list[str] = []

    def check(c: ApiCitizen) -> bool:
        field_id = getattr(c.last[-1], "field_id", None) if c.last else None
        if field_id is not None and field_id not in asked:
            asked.append(field_id)
        return len(asked) > n

    return check


def at_review(c: ApiCitizen) -> bool:
    """Done when the person is shown the summary and asked to submit."""
    options = getattr(c.last[-1], "options", []) if c.last else []
    return "submit" in [o.payload for o in options]


def values(form: dict[str, Any]) -> dict[str, Any]:
    return {f["id"]: f["value"] for f in form["fields"] if f["value"] is not None}


async def stored_applications(services: Services) -> list[Any]:
    async with services.db.connect() as conn:
        return list(await conn.execute(select(applications)))


async def numbers(services: Services) -> dict[str, str | None]:
    """Application id → 申办编号 (None while the platform has not accepted it)."""
    return {a.id: a.number for a in await stored_applications(services)}


async def submit_rows(services: Services) -> list[Any]:
    async with services.db.connect() as conn:
        return list(await conn.execute(select(outbox).where(outbox.c.kind == "submit").order_by(outbox.c.id)))


async def sent_templates(wechat: TestServer) -> list[str]:
    """To whom the WeChat simulator carried a template message (progress notices)."""
    return [m["touser"] for m in await call(wechat, "GET", "/_sim/sent") if m["kind"] == "template"]


# ---- 1. Redis restarted mid-conversation -------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own, run as production runs it (append-only file on; off for
    a Redis that lost its data), to be killed and started again on the same port and folder."""

    def __init__(self, folder: Path, appendonly: bool) -> None:
        self.folder = folder
        self.appendonly = appendonly
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.folder),
                "--appendonly", "yes" if self.appendonly else "no", "--loglevel", "warning"]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()  # also waits out LOADING while the append-only file is read back
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def written(self) -> None:
        """Wait until Redis has written what it acknowledged to its append-only file. With
        ``appendfsync everysec`` (production's) a slow disk makes it hold writes back for up to 2 s,
        which a crash loses; a person reading the next question takes longer than that."""
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 5
        while client.info("persistence")["aof_buffer_length"] and time.monotonic() < deadline:
            time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        """SIGKILL: a crash, an OOM kill. What reached the append-only file survives it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def own_redis(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=getattr(request, "param", True))
    server.start()
    yield server
    server.kill()


@pytest.fixture
async def on_own_redis(aiohttp_client: Any, settings: Settings, wechat: TestServer, own_redis: RedisServer) -> Any:
    """The app over HTTP, its Redis the test's own."""
    return await aiohttp_client(create_app(configured(settings, wechat, redis_url=own_redis.url)))


async def test_redis_restarted_mid_form_the_conversation_goes_on(
    on_own_redis: TestClient, own_redis: RedisServer
) -> None:
    client = on_own_redis
    services: Services = client.server.app[SERVICES]
    citizen = await citizen_in_app(client, "code-of-restart")
    await citizen.answer_until(asks_field(3))  # halfway through the form
    pending = citizen.last[-1]
    answer = citizen.next_answer()
    assert answer is not None and pending.kind == "field"
    _, before = await citizen.form()
    assert len(values(before)) >= 3

    own_redis.written()
    own_redis.kill()  # ---- Redis gone
    status, body = await citizen.say(answer)
    assert status == 503 and body == {"error": "unavailable", "message": standard.API_UNAVAILABLE}, body
    resp = await client.get("/api/things/newborn/form", headers=citizen.auth)
    assert resp.status == 503 and resp.headers["Retry-After"] == "30"
    # WeChat waits 5 s, then retries, then shows “该公众号暂时无法提供服务”: a polite reply in time instead
    during = await wechat_says(client, "oInTheOutage", "你好", 6001)
    assert during.status == 200 and during.content == standard.WECHAT_UNAVAILABLE and during.seconds < 4, during
    assert (await client.get("/healthz")).status == 503

    own_redis.start()  # ---- back, on the same port and folder: the append-only file is read back
    status, body = await citizen.say(answer)  # the person sends it again: taken where the form stood
    assert status == 200, body
    _, after = await citizen.form()
    assert values(before).items() <= values(after).items()
    assert getattr(pending, "field_id", None) in values(after)
    await citizen.answer_until()
    assert standard.SUBMITTED in citizen.text()
    assert len(await stored_applications(services)) == 1
    again = await wechat_says(client, "oInTheOutage", "你好", 6002)
    assert again.status == 200 and again.content not in ("success", standard.WECHAT_UNAVAILABLE), again
    assert (await client.get("/healthz")).status == 200  # recovered without a restart of the app


@pytest.mark.parametrize("own_redis", [False], indirect=True)
async def test_redis_that_lost_its_data_the_person_can_start_again(
    on_own_redis: TestClient, own_redis: RedisServer
) -> None:
    client = on_own_redis
    services: Services = client.server.app[SERVICES]
    citizen = await citizen_in_app(client, "code-of-amnesia")
    await citizen.answer_until()  # one application in (the database keeps it) …
    assert standard.SUBMITTED in citizen.text()
    await citizen.say("孩子刚出生，户口咋上")  # … and a second one (twins) halfway
    await citizen.answer_until(asks_field(3))
    answer = citizen.next_answer()
    assert answer is not None

    own_redis.kill()
    own_redis.start()  # empty: no append-only file, the sessions and drafts are gone
    status, body = await citizen.say(answer)  # read afresh, without the lost context: an answer, not an error
    assert status == 200 and citizen.text(), body
    _, form = await citizen.form()
    assert values(form) == {}  # nothing half-remembered either
    status, _ = await citizen.say("查进度")  # what was submitted is still there
    assert status == 200 and citizen.text().count(standard.PROGRESS_PENDING_NUMBER) == 1, citizen.text()
    await citizen.say("孩子刚出生，户口咋上")  # and the person starts the second one again
    await citizen.answer_until()
    assert standard.SUBMITTED in citizen.text()
    assert len(await stored_applications(services)) == 2


async def test_redis_dying_as_an_application_is_stored_does_not_store_it_twice(
    on_own_redis: TestClient, own_redis: RedisServer
) -> None:
    """The worst moment: the application is committed, and Redis dies before the session (without
    the draft) is saved. After the restart the session still holds the draft at the review, and the
    person, told to try again, confirms again: the same application, not a second one."""
    client = on_own_redis
    services: Services = client.server.app[SERVICES]
    citizen = await citizen_in_app(client, "code-of-bad-timing")
    await citizen.answer_until(at_review)
    confirm = citizen.next_answer()
    assert confirm is not None
    own_redis.written()  # the person reads the summary before confirming
    stored: list[bool] = []

    def inserted(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO APPLICATIONS"):
            stored.append(True)

    def committing(conn: Any) -> None:
        if stored and own_redis.proc is not None and own_redis.proc.poll() is None:
            own_redis.kill()  # as the application's transaction commits

    engine = services.db.sync_engine
    event.listen(engine, "after_cursor_execute", inserted)
    event.listen(engine, "commit", committing)
    try:
        status, body = await citizen.say(confirm)
    finally:
        event.remove(engine, "after_cursor_execute", inserted)
        event.remove(engine, "commit", committing)
    assert stored and status == 503 and body["message"] == standard.API_UNAVAILABLE, body
    assert len(await stored_applications(services)) == 1

    own_redis.start()
    status, body = await citizen.say(confirm)  # “please try again”: the review is still what it shows
    assert status == 200 and standard.SUBMITTED in citizen.text(), body
    assert len(await stored_applications(services)) == 1 and len(await submit_rows(services)) == 1
    await citizen.say("查进度")
    assert citizen.text().count(standard.PROGRESS_PENDING_NUMBER) == 1


# ---- 2. the database away for a while ---------------------------------------------------------------


class TcpProxy:
    """A TCP proxy of the test's own. ``cut``: every connection dropped and new ones refused (a
    database restarting, a failover); ``restore``: back. ``hold(marker)``: the answers on connections
    whose requests carry ``marker`` are kept back (a partner that took the request and is slow to
    say so); ``release``: let them through."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.up = True
        self.marker: bytes | None = None
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.transports: set[asyncio.BaseTransport] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        marked = asyncio.Event()  # this connection carried a request to hold the answer of
        self.transports |= {writer.transport, up_writer.transport}
        await asyncio.gather(self._pipe(reader, up_writer, marked, None), self._pipe(up_reader, writer, None, marked))
        self.transports -= {writer.transport, up_writer.transport}

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mark: asyncio.Event | None,
        marked: asyncio.Event | None,
    ) -> None:  # fmt: skip
        try:
            while data := await reader.read(65536):
                if mark is not None and self.marker is not None and self.marker in data:
                    mark.set()
                if marked is not None and marked.is_set():
                    await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.transport.abort()

    def cut(self) -> None:
        self.up = False
        for transport in list(self.transports):
            transport.abort()

    def restore(self) -> None:
        self.up = True

    def hold(self, marker: bytes = b"") -> None:
        self.marker = marker
        self.flowing.clear()

    def release(self) -> None:
        self.marker = None
        self.flowing.set()

    async def close(self) -> None:
        self.release()
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def pg_proxy() -> AsyncIterator[tuple[TcpProxy, str]]:
    """A PostgreSQL database of the test's own behind the proxy, and the URL the app gets for it."""
    assert PG_ADMIN is not None, "no PostgreSQL: `make test` starts one (scripts/ensure_postgres.py)"
    with pg_database("lnyjs_faults") as pg_url:
        url = make_url(pg_url)
        proxy = TcpProxy(url.port or 5432)
        await proxy.start()
        yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        await proxy.close()


@dataclass
class Worker:
    """What `python -m bot worker` runs for the platform (its outbox, the notifier), in this process."""

    services: Services
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        delivery = self.services.delivery()
        assert delivery is not None
        self.tasks = [asyncio.create_task(c.run(self.stop)) for c in (delivery, self.services.notifier())]

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)


def signed_event(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A status callback as the platform signs it."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    return raw, {"Content-Type": "application/json", "X-Platform-Timestamp": stamp,
                 "X-Platform-Signature": sign(P_SECRET, stamp, raw)}  # fmt: skip


async def all_numbered(services: Services, count: int) -> bool:
    found = await numbers(services)
    return len(found) == count and all(found.values())


async def item_status(services: Services, app_id: str, item: str) -> str | None:
    async with services.db.connect() as conn:
        return (
            await conn.execute(
                select(application_items.c.status).where(
                    application_items.c.application_id == app_id, application_items.c.item_key == item
                )
            )
        ).scalar_one_or_none()


async def test_database_away_for_a_while_nothing_lost_and_it_catches_up(
    aiohttp_client: Any,
    settings: Settings,
    wechat: TestServer,
    platform: TestServer,
    pg_proxy: tuple[TcpProxy, str],
) -> None:
    proxy, db_url = pg_proxy
    server = await app_server(
        configured(settings, wechat, database_url=db_url, **on_platform(platform), outbox_lease_seconds=2.0,
                   outbox_poll_seconds=0.1, outbox_max_backoff_seconds=1.0)
    )  # fmt: skip
    client: TestClient = await aiohttp_client(server)
    services: Services = server.app[SERVICES]
    worker = Worker(services)
    worker.start()
    try:
        early = await citizen_in_app(client, "code-of-early")
        await early.answer_until()
        assert standard.SUBMITTED in early.text()
        await until(lambda: all_numbered(services, 1), what=lambda: "the early application accepted")
        [(early_id, early_number)] = (await numbers(services)).items()
        late = await citizen_in_app(client, "code-of-late")
        await late.answer_until(at_review)
        confirm = late.next_answer()
        assert confirm is not None
        _, before = await late.form()

        proxy.cut()  # ---- the database gone
        status, _ = await late.say(confirm)
        assert status == 200 and standard.SUBMIT_FAILED in late.text()  # the engine's own word: kept, try again
        status, form = await late.form()  # the draft lives in Redis: all there
        assert status == 200 and values(form) == values(before)
        resp = await client.post("/api/things/newborn/submit", headers=late.auth)
        assert resp.status == 503 and (await resp.json())["message"] == standard.API_UNAVAILABLE
        status, body = await early.say("查进度")
        assert status == 503 and body["message"] == standard.API_UNAVAILABLE
        asked = await wechat_says(client, "oDuringTheCut", "查进度", 7001)
        assert asked.status == 200 and asked.content == standard.WECHAT_UNAVAILABLE and asked.seconds < 4, asked
        # a guide too long for one passive reply: the turn needs no database, the rest of it would
        guide = await wechat_says(client, "oReadingTheGuide", "孩子刚出生，户口咋上", 7003)
        assert guide.content.startswith("好的") and guide.content.endswith(standard.WECHAT_REST_LATER), guide
        # the platform tells of progress meanwhile: a 503 makes it come again (a 2xx would end it; a 500 too,
        # but says “bug” to whoever reads the platform's logs)
        outcome = {"number": early_number, "item": "birth_certificate", "status": "审批中", "note": ""}
        await call(platform, "POST", "/_sim/outcome", outcome)
        raw, headers = signed_event({"event_id": uuid.uuid4().hex, "number": early_number, "item": "birth_registration",
                                     "status": "审批中", "note": "", "seq": 2, "at": datetime.now(UTC).isoformat()})  # fmt: skip
        resp = await client.post("/callbacks/platform", data=raw, headers=headers)
        assert resp.status == 503, await resp.text()
        assert (await client.get("/healthz")).status == 503
        await asyncio.sleep(2.5)  # the worker's passes fail meanwhile: it must live through them
        assert not any(t.done() for t in worker.tasks)

        proxy.restore()  # ---- back
        status, _ = await late.say("提交")
        assert status == 200 and standard.SUBMITTED in late.text(), late.text()
        resp = await client.post("/callbacks/platform", data=raw, headers=headers)  # the platform, again
        assert resp.status == 200 and (await resp.json())["taken"] == "applied"
        await until(lambda: all_numbered(services, 2), what=lambda: "both applications accepted after the outage")

        async def retried_callback_taken() -> bool:
            return await item_status(services, early_id, "birth_certificate") == "审批中"

        await until(retried_callback_taken, timeout=30, what=lambda: "the platform's retried callback")
        received = await call(platform, "GET", "/_sim/applications")
        assert sorted(r["idempotency_key"] for r in received) == sorted(await numbers(services))  # each once
        assert len(await submit_rows(services)) == 2
        status, _ = await early.say("查进度")
        assert status == 200 and "出生医学证明办理：审批中" in early.text(), early.text()
        again = await wechat_says(client, "oDuringTheCut", "查进度", 7002)
        assert again.content == standard.PROGRESS_NONE
        guide = await wechat_says(client, "oReadingTheGuide", "再听一遍", 7004)  # as the reply said
        assert guide.content.endswith(standard.WECHAT_MORE_FOLLOWS), guide
        async with services.db.connect() as conn:
            rest = (await conn.execute(select(outbox.c.id).where(outbox.c.kind == "wechat_cs"))).all()
        assert rest, "the rest of the guide, queued as customer-service messages"
        health = await (await client.get("/healthz")).json()  # recovered, no restart
        assert health["checks"]["database"]["ok"] and health["checks"]["redis"]["ok"], health
    finally:
        await worker.close()


async def test_a_turn_that_fails_on_the_outage_keeps_the_notices_it_was_to_show(
    aiohttp_client: Any, settings: Settings, wechat: TestServer, pg_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, db_url = pg_proxy
    client: TestClient = await aiohttp_client(create_app(configured(settings, wechat, database_url=db_url)))
    services: Services = client.server.app[SERVICES]
    citizen = await citizen_in_app(client, "code-of-inbox")
    user = f"mp:{json.loads(services.settings.vault().redeem(citizen.token, ttl=60))['openid']}"
    notice = {"kind": "accepted", "thing": "newborn", "number": "SB20261130009999"}
    await services.inbox.put(user, 1, notice)  # 已受理, waiting for the person's next message
    proxy.cut()
    status, _ = await citizen.say("查进度")  # needs the database: the turn fails, politely
    assert status == 503
    proxy.restore()
    await citizen.say("你好")
    assert standard.NOTICE_ACCEPTED.format(name="新生儿出生", number=notice["number"]) in citizen.text()


# ---- 3. the worker killed with SIGKILL in the middle of deliveries ---------------------------------------


@pytest.fixture
def shared_db_url(tmp_path: Path) -> Iterator[str]:
    """The database the app and the worker processes share: PostgreSQL where one answers (as in
    production: rows claimed with SKIP LOCKED), else a SQLite file."""
    if PG_ADMIN is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        return
    with pg_database() as url:
        yield url


def worker_process(s: Settings, log: Path) -> subprocess.Popen[bytes]:
    """`python -m bot worker`, configured as the app is; its output kept for when a test fails."""
    env = {
        **os.environ,
        "DATABASE_URL": s.database_url, "REDIS_URL": s.redis_url,
        "DATA_KEYS": s.data_keys.get_secret_value() if s.data_keys else "",
        "PLATFORM_URL": s.platform_url or "", "PLATFORM_KEY": P_KEY, "PLATFORM_CALLBACK_SECRET": P_SECRET,
        "PLATFORM_TIMEOUT_SECONDS": "60",  # the held answer must outlast the kill
        "WECHAT_API_URL": s.wechat_api_url or "", "WECHAT_APPID": WECHAT_APPID, "WECHAT_SECRET": WECHAT_SECRET,
        "MINIPROGRAM_APPID": MP_APPID, "MINIPROGRAM_SECRET": MP_SECRET,
        "HOTLINE_URL": s.hotline_url or "", "HOTLINE_KEY": H_KEY, "HOTLINE_CALLBACK_SECRET": H_SECRET,
        "PUBLIC_BASE_URL": s.public_base_url, "QUIET_HOURS": "", "WORKER_HEARTBEAT_SECONDS": "0.3",
        "OUTBOX_LEASE_SECONDS": "1", "OUTBOX_POLL_SECONDS": "0.1", "OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    }  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env, stdout=out, stderr=out)


async def undelivered(services: Services) -> list[int]:
    async with services.db.connect() as conn:
        return list((await conn.execute(select(outbox.c.id).where(outbox.c.delivered_at.is_(None)))).scalars())


async def test_a_worker_killed_mid_delivery_each_application_and_notice_goes_once(
    settings: Settings,
    wechat: TestServer,
    platform: TestServer,
    hotline: TestServer,
    shared_db_url: str,
    tmp_path: Path,
) -> None:
    # Proxies in front of the platform and WeChat hold back their answers: each takes what it is
    # sent (the platform stores the application, WeChat carries the template message), and the
    # worker is killed before it hears so. The sharpest moment: done outside, not known inside.
    to_platform, to_wechat = TcpProxy(platform.port or 0), TcpProxy(wechat.port or 0)
    for proxy in (to_platform, to_wechat):
        await proxy.start()
    hotline_url = str(hotline.make_url("")).rstrip("/")
    server = await app_server(
        configured(settings, wechat, database_url=shared_db_url, wechat_api_url=to_wechat.url,
                   **on_platform(platform, to_platform.url), hotline_url=hotline_url, hotline_key=SecretStr(H_KEY),
                   hotline_callback_secret=SecretStr(H_SECRET))
    )  # fmt: skip
    services: Services = server.app[SERVICES]
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        people = [f"oKilled{n}" for n in range(3)]  # followers of the official account
        for openid in people:
            citizen = Citizen(services.dialogue, f"wechat:{openid}", channel="wechat")
            await citizen.complete(services.catalog.things["newborn"], "孩子刚出生，户口咋上")
            assert standard.SUBMITTED in citizen.last_text()
        delivery = services.delivery()
        assert delivery is not None
        assert await delivery.deliver_due(limit=1) == 1  # the first accepted already (rows go in order) …
        assert len(await undelivered(services)) == 3  # … its notice waiting, and two submissions

        to_platform.hold(b"POST /v1/applications HTTP")
        to_wechat.hold(b"/cgi-bin/message/template/send")
        workers.append(worker_process(services.settings, log))

        async def mid_delivery() -> bool:
            stored = await call(platform, "GET", "/_sim/applications")
            return len(stored) == 2 and len(await sent_templates(wechat)) == 1

        await until(mid_delivery, timeout=90, what=lambda: f"the worker mid-delivery:\n{log.read_text()}")
        workers[0].send_signal(signal.SIGKILL)  # ---- a submission and a notice in flight, answers unheard
        assert workers[0].wait(10) == -signal.SIGKILL
        to_platform.release()
        to_wechat.release()
        workers.append(worker_process(services.settings, log))  # its replacement: takes over after the leases

        async def all_delivered() -> bool:
            return not await undelivered(services) and len(await stored_applications(services)) == 3

        await until(all_delivered, timeout=90, what=lambda: f"everything delivered:\n{log.read_text()}")
        workers[1].send_signal(signal.SIGTERM)
        assert workers[1].wait(20) == 0, log.read_text()

        received = await call(platform, "GET", "/_sim/applications")
        ours = await numbers(services)
        assert {r["idempotency_key"]: r["number"] for r in received} == ours  # each once, with the number given
        # the notice in flight went out on WeChat before the kill: never again there (WeChat cannot
        # de-duplicate); its fallback, SMS, once (12345 de-duplicates by our message id)
        assert sorted(await sent_templates(wechat)) == people
        assert len(await call(hotline, "GET", "/_sim/sms")) == 1
        async with services.db.connect() as conn:
            outcomes = list(await conn.execute(select(notification_deliveries)))
        sent = [(o.outbox_id, o.channel) for o in outcomes if o.outcome == "sent"]
        assert len(sent) == len(set(sent)) == 3
        for openid in people:  # and each person is told once in the conversation
            citizen = Citizen(services.dialogue, f"wechat:{openid}", channel="wechat")
            told = await citizen.say("你好")
            assert sum("已被政务服务平台受理" in r.text for r in told) == 1, citizen.dump()
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await server.close()
        for proxy in (to_platform, to_wechat):
            await proxy.close()


# ---- 4. the platform answering 5xx for minutes ---------------------------------------------------------


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite gives naive UTC back


async def test_the_platform_down_for_minutes_retries_with_backoff_and_delivers_once(
    aiohttp_client: Any, settings: Settings, wechat: TestServer, platform: TestServer
) -> None:
    # Production's backoff (1 s doubling up to OUTBOX_MAX_BACKOFF_SECONDS = 300 s, full jitter) is
    # what is under test, so rather than shorten it the test moves the clock: each round checks the
    # wait every row was given against the bound, adds the longest to a virtual clock, and makes the
    # rows due at once, until ten minutes of outage have passed.
    server = await app_server(configured(settings, wechat, **on_platform(platform), outbox_max_backoff_seconds=300.0))
    client: TestClient = await aiohttp_client(server)
    services: Services = server.app[SERVICES]
    people = [f"oPatient{n}" for n in range(3)]
    for openid in people:
        citizen = Citizen(services.dialogue, f"wechat:{openid}", channel="wechat")
        await citizen.complete(services.catalog.things["newborn"], "孩子刚出生，户口咋上")
        assert standard.SUBMITTED in citizen.last_text()
    delivery = services.delivery()
    assert delivery is not None

    async def time_passes() -> None:
        async with services.db.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.kind == "submit", outbox.c.delivered_at.is_(None))
                .values(next_at=datetime.now(UTC))
            )

    await call(platform, "POST", "/_sim/faults", {"mode": "down"})
    outage, rounds, capped = 0.0, 0, False
    while outage < 10 * 60:
        assert await delivery.deliver_due() == 3
        rounds += 1
        now = datetime.now(UTC)
        rows = await submit_rows(services)
        assert all(r.attempts == rounds and r.delivered_at is None and "503" in r.last_error for r in rows)
        bound = min(300.0, 2.0 ** (rounds - 1))
        waits = [(_aware(r.next_at) - now).total_seconds() for r in rows]
        assert all(-0.5 <= w <= bound + 0.5 for w in waits), (rounds, bound, waits)
        capped = capped or bound == 300.0
        outage += max(waits)
        await time_passes()
        if rounds == 3:  # meanwhile the person asks: 报送中, no number yet
            asked = await wechat_says(client, people[0], "查进度", 8001)
            assert standard.PROGRESS_PENDING_NUMBER in asked.content and "SB" not in asked.content, asked
        assert rounds < 40, "the backoff does not grow"
    assert capped  # waits grew to the cap, never beyond
    assert await call(platform, "GET", "/_sim/applications") == []

    # coming back: stored but the answers lost (a gateway timing out), then half failing, then well
    await call(platform, "POST", "/_sim/faults", {"mode": "drop_after_commit"})
    await delivery.deliver_due()
    assert len(await call(platform, "GET", "/_sim/applications")) == 3
    await call(platform, "POST", "/_sim/faults", {"mode": "flaky", "failure_rate": 0.5})
    for _ in range(4):
        await time_passes()
        await delivery.deliver_due()
    await call(platform, "POST", "/_sim/faults", {"mode": "ok"})
    for _ in range(3):
        await time_passes()
        await delivery.deliver_due()
    assert all(r.delivered_at is not None for r in await submit_rows(services))
    received = await call(platform, "GET", "/_sim/applications")
    assert {r["idempotency_key"]: r["number"] for r in received} == await numbers(services)  # each once

    notifier = services.notifier()
    while await notifier.deliver_due():
        pass
    assert sorted(await sent_templates(wechat)) == people  # told through WeChat, once each
    for n, openid in enumerate(people):  # and in the conversation, once
        [app] = await services.applications.progress(f"wechat:{openid}")
        told = await wechat_says(client, openid, "你好", 8100 + n)
        assert standard.NOTICE_ACCEPTED.format(name="新生儿出生", number=app["number"]) in told.content, told
    asked = await wechat_says(client, people[0], "查进度", 8200)
    assert standard.PROGRESS_PENDING_NUMBER not in asked.content and "已受理" in asked.content, asked


# ---- 5. WeChat delivering one message three times; two messages of one person at once ------------------


async def test_wechat_retries_run_once_and_one_persons_messages_run_one_after_another(
    aiohttp_client: Any, settings: Settings, wechat: TestServer
) -> None:
    client: TestClient = await aiohttp_client(create_app(configured(settings, wechat)))
    services: Services = client.server.app[SERVICES]
    openid = "oTwiceThrice"
    user = f"wechat:{openid}"
    assert (await wechat_says(client, openid, "孩子刚出生，户口咋上", 5001)).status == 200
    first_question = await wechat_says(client, openid, "1", 5002)  # 开始办理
    assert "辽宁" in first_question.content, first_question
    turns = len(await services.conversation_log.history(user))

    # WeChat gave up waiting and sent the same message again, twice: all three in flight at once
    same = text_message("是", 5003, sender=openid)
    replies = await asyncio.gather(*(wechat_post(client, same) for _ in range(3)))
    assert {(r.status, r.content, r.created) for r in replies} == {(200, replies[0].content, replies[0].created)}
    assert "户口" in replies[0].content  # the second eligibility question: the draft moved one step
    for _ in range(2):  # and later, one after another: the very same reply, nothing run again
        again = await wechat_post(client, same)
        assert (again.content, again.created) == (replies[0].content, replies[0].created)
    assert len(await services.conversation_log.history(user)) == turns + 2  # one turn: what was said, the answer
    session = await services.dialogue.sessions.load(user, "wechat")
    assert session.drafts["newborn"].eligibility == {"born_in_liaoning": True}

    # two different messages of the person at the same moment, both “是”: run one after the other,
    # each is read against the question the one before left, whichever came first. Had both read
    # the same session, both would answer the same question and one save would undo the other.
    both = await asyncio.gather(wechat_says(client, openid, "是", 5004), wechat_says(client, openid, "是", 5005))
    assert all(r.status == 200 and r.content not in ("success", standard.WECHAT_UNAVAILABLE) for r in both), both
    first, second = sorted(both, key=lambda r: len(r.content))
    # the first answered the eligibility question and was asked for a name; the second, as a name,
    # was told what is wrong with it and asked again
    assert second.content != first.content and second.content.endswith(first.content), both
    session = await services.dialogue.sessions.load(user, "wechat")
    assert session.drafts["newborn"].eligibility == {"born_in_liaoning": True, "parent_local_hukou": True}
    history = await services.conversation_log.history(user)
    assert len(history) == turns + 6 and [e.role for e in history[-4:]] == ["citizen", "bot", "citizen", "bot"]
    assert history[-1].text == "\n".join(r["text"] for r in session.last_replies)  # the later turn's, saved last
