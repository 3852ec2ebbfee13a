"""Shared fixtures: the project's real Redis, and every available SQL database.

Database tests run on SQLite always and on PostgreSQL too when one is
reachable (DATABASE_URL_PG, else a local server on 127.0.0.1:5432): each run
gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import hypothesis
import psycopg
import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.settings import ROOT, Settings
from handlers.app import create_app
from integrations.simulators.wechat import WeChatSim

# the consoles' browser tests share the `browser` fixture (headless Debian Chromium) from there
pytest_plugins = ["tests.browser_helpers"]

# Property-based tests: `make test` (and CI) draws the same examples every run, so that a red run
# is this change's doing; `make fuzz` explores new ones (HYPOTHESIS_PROFILE=explore, more of them)
# and keeps what fails in .hypothesis/ to replay.
hypothesis.settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
hypothesis.settings.register_profile("explore", print_blob=True)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str | None:
    url = os.environ.get("DATABASE_URL_PG") or PG_DEFAULT
    try:
        with psycopg.connect(_libpq(url), connect_timeout=2):
            return url
    except psycopg.Error:
        if "DATABASE_URL_PG" in os.environ:
            raise  # asked for PostgreSQL explicitly: its absence is a failure
        return None


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


PG_ADMIN = _pg_admin_url()
DB_KINDS = ["sqlite", "postgresql"] if PG_ADMIN else ["sqlite"]


def pytest_report_header() -> str:
    return f"database back ends under test: {', '.join(DB_KINDS)}"


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[TestServer]:
    """An aiohttp application (the app, a simulator) on a real loopback port for the block."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@contextmanager
def pg_database(prefix: str = "lnyjs_test") -> Iterator[str]:
    """A PostgreSQL database of the test's own, dropped afterwards."""
    assert PG_ADMIN is not None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(PG_ADMIN), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(PG_ADMIN), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=DB_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    with pg_database() as url:
        yield url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The project's Redis (started by `make setup`), database 15, emptied for each test.

    TEST_REDIS_DB picks another database, so that two runs on one machine
    (a fresh-clone check beside a working copy) do not empty each other's."""
    base = urlparse(Settings().redis_url)
    url = base._replace(path=f"/{int(os.environ.get('TEST_REDIS_DB', '15'))}").geturl()
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        catalog_dir=ROOT / "catalog",
        data_keys=SecretStr(Fernet.generate_key().decode()),
        quiet_hours="",  # pushes at any hour; the quiet-hours tests set their own
        # scripted citizens answer faster than any person: the rate-limit tests set their own limits
        rate_person_per_10s=100_000,
        rate_address_per_second=100_000,
    )


WECHAT_APPID, WECHAT_SECRET = "wx0123456789abcdef", "sim-secret"
MP_APPID, MP_SECRET = "wxfedcba9876543210", "sim-mp-secret"


@pytest.fixture
async def wechat() -> AsyncIterator[TestServer]:
    """The WeChat API simulator over real HTTP (the two apps above)."""
    server = TestServer(WeChatSim({WECHAT_APPID: WECHAT_SECRET, MP_APPID: MP_SECRET}).app())
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, wechat: TestServer) -> TestClient:
    """The app over real HTTP, its mini-program login through the WeChat simulator."""
    configured = settings.model_copy(
        update={
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
        }
    )
    return await aiohttp_client(create_app(configured))  # type: ignore[no-any-return]


async def raw_post(server: TestServer, path: str, headers: dict[str, str], body: bytes) -> int:
    """A POST written byte by byte, headers in UTF-8 as some clients send them (aiohttp's own client
    would refuse or re-encode what is not ASCII) → the status answered."""
    import asyncio

    reader, writer = await asyncio.open_connection(server.host, server.port)
    lines = [f"POST {path} HTTP/1.1", f"Host: {server.host}:{server.port}", f"Content-Length: {len(body)}",
             "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])
