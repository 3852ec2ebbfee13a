"""Redis behind Sentinel, with real servers: a primary, its replica and a Sentinel
watching them, all redis-server processes of the test's own. The app is given only
the Sentinel (``REDIS_URL=redis+sentinel://…``); a person is halfway through the
form when Sentinel hands the primary's role to the replica, and the conversation
goes on where it stood, on the new primary, and the application goes in once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer

from bot.redis_client import SentinelTarget, sentinel_target
from bot.settings import ROOT, Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from handlers.services import Services
from tests.test_faults import RedisServer, asks_field, citizen_in_app, configured, stored_applications, values
from tests.test_processes import free_port

SERVICE = "yjs-primary"


def test_a_sentinel_url_names_the_sentinels_the_primary_and_its_database() -> None:
    assert sentinel_target("redis://127.0.0.1:6379/0") is None
    assert sentinel_target("redis+sentinel://s1:26380,s2,[::1]:26381/yjs/3?sentinel_password=p%40ss") == SentinelTarget(
        sentinels=[("s1", 26380), ("s2", 26379), ("::1", 26381)], service="yjs", db=3, sentinel_password="p@ss"
    )
    with_password = sentinel_target("redis+sentinel://:se%2Fcret@s1/yjs")
    assert with_password is not None and with_password.password == "se/cret" and with_password.db == 0
    assert "se/cret" not in repr(with_password)  # never in a log line
    for bad in ("redis+sentinel://s1", "redis+sentinel:///yjs", "redis+sentinel://s1/yjs/0/extra"):
        with pytest.raises(ValueError, match="service"):
            sentinel_target(bad)


@dataclass
class SentinelSet:
    primary: RedisServer
    replica: RedisServer
    sentinel_port: int

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def ask(self, *command: Any) -> Any:
        with redis.Redis(port=self.sentinel_port, decode_responses=True, socket_timeout=2) as s:
            return s.execute_command(*command)

    def knows(self, replica_port: int) -> bool:
        return any(int(r["port"]) == replica_port for r in self.ask("SENTINEL", "REPLICAS", SERVICE))

    def primary_port(self) -> int:
        return int(self.ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)[1])


def wait_for(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout:.0f} s: {what}")
        time.sleep(0.1)


def role(port: int) -> str:
    with redis.Redis(port=port, decode_responses=True) as r:
        return str(r.info("replication")["role"])


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite: this is about Redis; the database matrix is covered elsewhere."""
    return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    primary, replica = RedisServer(tmp_path / "primary", True), RedisServer(tmp_path / "replica", True)
    primary.start()
    replica.start()
    with redis.Redis(port=replica.port) as r:
        r.replicaof("127.0.0.1", primary.port)
    wait_for(
        lambda: redis.Redis(port=replica.port).info("replication")["master_link_status"] == "up", "replica in sync"
    )
    port = free_port()
    conf = tmp_path / "sentinel.conf"  # Sentinel rewrites its file as it learns: a file of its own
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor {SERVICE} 127.0.0.1 {primary.port} 1\n"
        f"sentinel down-after-milliseconds {SERVICE} 1000\nsentinel failover-timeout {SERVICE} 10000\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(["redis-server", str(conf), "--sentinel", "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # fmt: skip
    found = SentinelSet(primary, replica, port)
    try:
        wait_for(lambda: _answers(port), "sentinel up")
        # Sentinel learns the replica from the primary's INFO: failing over needs it
        wait_for(lambda: found.knows(replica.port), "sentinel knows the replica")
        yield found
    finally:
        proc.kill()
        proc.wait()
        primary.kill()
        replica.kill()


def _answers(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_connect_timeout=0.2) as r:
            return bool(r.ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
async def on_sentinel(aiohttp_client: Any, settings: Settings, wechat: TestServer, sentinel_set: SentinelSet) -> Any:
    return await aiohttp_client(create_app(configured(settings, wechat, redis_url=sentinel_set.url)))


async def test_a_failover_mid_form_the_conversation_goes_on_on_the_new_primary(
    on_sentinel: TestClient, sentinel_set: SentinelSet
) -> None:
    client = on_sentinel
    services: Services = client.server.app[SERVICES]
    assert sentinel_set.primary_port() == sentinel_set.primary.port
    citizen = await citizen_in_app(client, "code-of-failover")
    await citizen.answer_until(asks_field(3))
    _, before = await citizen.form()
    assert len(values(before)) >= 3
    with redis.Redis(port=sentinel_set.primary.port) as r:
        assert r.dbsize() > 0  # the app's keys are on the primary the Sentinel named
        assert r.execute_command("WAIT", 1, 5000) == 1  # and the replica has them (replication is asynchronous)

    assert sentinel_set.ask("SENTINEL", "FAILOVER", SERVICE) in ("OK", True)  # ---- the roles change
    wait_for(lambda: sentinel_set.primary_port() == sentinel_set.replica.port, "sentinel names the new primary")
    wait_for(lambda: role(sentinel_set.replica.port) == "master", "the replica promoted")
    wait_for(lambda: role(sentinel_set.primary.port) == "slave", "the old primary demoted")

    answer = citizen.next_answer()
    assert answer is not None
    status, body = await citizen.say(answer)  # the next answer, taken where the form stood
    assert status == 200, body
    _, after = await citizen.form()
    assert values(before).items() < values(after).items()
    await citizen.answer_until()
    assert standard.SUBMITTED in citizen.text()
    assert len(await stored_applications(services)) == 1
    assert (await client.get("/healthz")).status == 200
    with redis.Redis(port=sentinel_set.replica.port, decode_responses=True) as r:
        assert r.info("replication")["role"] == "master" and r.dbsize() > 0


def test_make_setup_checks_the_sentinels_of_a_sentinel_url(sentinel_set: SentinelSet) -> None:
    def ensure(url: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "scripts" / "ensure_redis.py")], env={**os.environ, "REDIS_URL": url},
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    answered = ensure(sentinel_set.url)
    assert answered.returncode == 0 and "sentinel answers" in answered.stdout, answered
    dead = f"redis+sentinel://127.0.0.1:{free_port()}/{SERVICE}/0"
    refused = ensure(dead)
    assert refused.returncode == 1 and "no Sentinel of REDIS_URL answers" in refused.stderr, refused
