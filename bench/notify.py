"""``make bench``, notification part: notices per second from the outbox to
the simulators (WeChat API and 12345, real HTTP, in a process of their own),
through the whole notifier (inbox, channel choice, grants, delivery log).

A mix of people: mini-program users with a subscribe grant, official-account
followers, and people only an SMS reaches. Afterwards every notice must have
been delivered exactly once: the simulators' counts are checked against the
rows. Uses PostgreSQL when one answers on 127.0.0.1 (else SQLite), the
configured Redis (its own key space), and prints one JSON line.

    python -m bench.notify [--notices N] [--workers W]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from pydantic import SecretStr
from sqlalchemy import func, insert, select

from bot.db.schema import outbox
from bot.settings import get_settings
from handlers.services import build_services

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MIX = (("mp", 0.4), ("wechat", 0.3), ("sms", 0.3))
APPID, SECRET, MP_APPID, MP_SECRET, HOTLINE_KEY = "wxbench", "s", "wxbenchmp", "s2", "bench-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _simulators(wechat_port: int, hotline_port: int, db: str) -> None:
    """The outside world, in its own process (as it would be on its own machines)."""
    from aiohttp import web

    from integrations.simulators.hotline import HotlineSim
    from integrations.simulators.wechat import WeChatSim

    async def serve() -> None:
        runners = []
        for app, port in (
            (WeChatSim({APPID: SECRET, MP_APPID: MP_SECRET}).app(), wechat_port),
            (HotlineSim(db, HOTLINE_KEY, "cb", pace=0).app(), hotline_port),
        ):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            runners.append(runner)
        await asyncio.Event().wait()

    asyncio.run(serve())


def _database(tmp: Path) -> tuple[str, str | None]:
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2, autocommit=True) as c:
            name = f"lnyjs_bench_{uuid.uuid4().hex[:8]}"
            c.execute(f'CREATE DATABASE "{name}"')
            return PG.rsplit("/", 1)[0] + f"/{name}", name
    except psycopg.Error:
        return f"sqlite+aiosqlite:///{tmp / 'bench.db'}", None


def _drop(name: str | None) -> None:
    if name:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"simulator on {port} did not start")


async def run(notices: int, workers: int) -> dict[str, Any]:
    wechat_port, hotline_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        sims = multiprocessing.get_context("spawn").Process(
            target=_simulators, args=(wechat_port, hotline_port, str(Path(tmp) / "hotline.db")), daemon=True
        )
        sims.start()
        database_url, pg_name = _database(Path(tmp))
        try:
            await _wait_for(wechat_port)
            await _wait_for(hotline_port)
            overrides = {
                    "database_url": database_url,
                    "wechat_appid": APPID, "wechat_secret": SECRET,
                    "miniprogram_appid": MP_APPID, "miniprogram_secret": MP_SECRET,
                    "wechat_api_url": f"http://127.0.0.1:{wechat_port}",
                    "hotline_url": f"http://127.0.0.1:{hotline_port}", "hotline_key": HOTLINE_KEY,
                    "quiet_hours": "",
                }  # fmt: skip
            services = await build_services(_settings(overrides))
            try:
                return await _measure(services, overrides, notices, workers, wechat_port, hotline_port, database_url)
            finally:
                await services.close()
        finally:
            sims.terminate()
            _drop(pg_name)


def _settings(overrides: dict[str, Any]) -> Any:
    """The configured settings with the bench's own outside world. Secrets travel to the worker
    processes as plain strings (pickled SecretStr would do too, but one form is simpler) and are
    wrapped here, once."""
    base = get_settings()
    secret = {k for k, f in type(base).model_fields.items() if f.annotation in (SecretStr, SecretStr | None)}
    return base.model_copy(update={k: SecretStr(v) if k in secret else v for k, v in overrides.items()})


async def _measure(
    services: Any,
    overrides: dict[str, Any],
    notices: int,
    workers: int,
    wechat_port: int,
    hotline_port: int,
    database_url: str,
) -> dict[str, Any]:
    vault = services.settings.vault()
    template = services.settings.miniprogram_progress_template
    run_id = uuid.uuid4().hex[:6]
    rows = []
    granted: list[str] = []
    expected = {"mp": 0, "wechat": 0, "sms": 0}
    for n in range(notices):
        kind = MIX[0][0] if n % 10 < 4 else MIX[1][0] if n % 10 < 7 else MIX[2][0]
        expected[kind] += 1
        user = {"mp": f"mp:oB{run_id}{n}", "wechat": f"wechat:oB{run_id}{n}", "sms": f"ivr:{run_id}{n}"}[kind]
        if kind == "mp":
            granted.append(user)
        notice = {"kind": "status", "thing": "newborn", "number": f"SB{n:014d}", "item": "birth_registration",
                  "status": "审批中", "note": "", "detail": {}}  # fmt: skip
        payload = {"user": user, "channel": kind, "phone": "13840012345", "urgent": False, "notice": notice}
        rows.append({"kind": "notify", "ref": f"bench{n}", "payload": vault.encrypt(json.dumps(payload))})
    gate = asyncio.Semaphore(16)

    async def grant(user: str) -> None:
        async with gate:
            await services.contacts.record_grants(user, {template: "accept"})

    await asyncio.gather(*(grant(u) for u in granted))
    async with services.db.begin() as conn:
        await conn.execute(insert(outbox), rows)
    ctx = multiprocessing.get_context("spawn")
    go, ready = ctx.Event(), ctx.Semaphore(0)
    child = dict(overrides)
    if services.settings.data_keys is not None:  # else: the same key file as this process
        child["data_keys"] = services.settings.data_keys.get_secret_value()
    procs = [ctx.Process(target=_worker, args=(child, go, ready), daemon=True) for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        if not ready.acquire(timeout=60):  # every worker has built its services
            raise RuntimeError("a bench worker did not start")
    started = time.perf_counter()
    go.set()
    for p in procs:
        await asyncio.to_thread(p.join)
    elapsed = time.perf_counter() - started
    async with services.db.connect() as conn:
        left = (await conn.execute(select(func.count()).where(outbox.c.delivered_at.is_(None)))).scalar_one()
        retried = (await conn.execute(select(func.count()).where(outbox.c.attempts > 1))).scalar_one()
        errors = [
            r[0][:120]
            for r in await conn.execute(select(outbox.c.last_error).where(outbox.c.last_error != "").limit(3))
        ]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{wechat_port}/_sim/sent") as resp:
            sent = await resp.json()
        async with http.get(f"http://127.0.0.1:{hotline_port}/_sim/sms") as resp:
            sms = await resp.json()
    got = {"mp": sum(m["kind"] == "subscribe" for m in sent), "wechat": sum(m["kind"] == "template" for m in sent),
           "sms": len(sms)}  # fmt: skip
    return {
        "bench": "notifications",
        "database": database_url.split(":", 1)[0],
        "notices": notices,
        "worker_processes": workers,
        "concurrency_per_worker": services.settings.notify_concurrency,
        "seconds": round(elapsed, 2),
        "per_second": round(notices / elapsed),
        "undelivered": left,
        "retried": retried,
        "errors": errors,
        "delivered_by_channel": got,
        "exactly_once": got == expected and left == 0,
    }


def _worker(overrides: dict[str, Any], go: Any, ready: Any) -> None:
    """One `python -m bot worker` process, reduced to its notifier, until nothing is due."""

    async def work() -> None:
        services = await build_services(_settings(overrides), migrate=False)
        try:
            notifier = services.notifier()
            ready.release()
            await asyncio.to_thread(go.wait, 120)
            idle = 0
            while idle < 3:
                idle = idle + 1 if await notifier.deliver_due() == 0 else 0
        finally:
            await services.close()

    asyncio.run(work())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.notify")
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    result = asyncio.run(run(args.notices, args.workers))
    print(json.dumps(result, ensure_ascii=False))
    sys.exit(0 if result["exactly_once"] else 1)


if __name__ == "__main__":
    main()
