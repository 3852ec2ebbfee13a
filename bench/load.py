"""``make bench``, load part: the whole service as production runs it (``serve``
processes on one port, a ``worker``, the simulators of WeChat, the platform and
the e-license service, one Redis, PostgreSQL when one answers else SQLite),
played by the load generator (``bench/loadgen.py``, a process of its own)
through the real WeChat callback and the mini-program API.

Runs, in one go so that the figures compare:
1. one ``serve`` process, embedded NLU;
2. two ``serve`` processes, embedded NLU (how throughput grows);
3. two ``serve`` processes with ``NLU_BACKEND=rasa``, when a trained Rasa model is
   at hand (``make rasa-train``);
4. Rasa's own ``/model/parse`` alone on the same utterances.

CPU per turn is what the ``serve`` processes spent (from ``/proc``) while the
generator measured, divided by the turns. One JSON line per run.

    python -m bench.load [--seconds 20] [--citizens 64] [--only 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
import psycopg
from cryptography.fernet import Fernet

from bot.settings import ROOT, Settings

PY = sys.executable
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_MODEL = ROOT / "var" / "rasa" / "models" / "nlu.tar.gz"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TICKS = os.sysconf("SC_CLK_TCK")
APPID, MP_APPID = "wxload00000000000", "wxloadmp00000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _pids(name: str) -> list[int]:
    """Every process of this name on the machine (PostgreSQL runs one per connection)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return total


@contextmanager
def database() -> Iterator[str]:
    """A fresh PostgreSQL database when a server answers locally, else a SQLite file."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=2, autocommit=True) as c:
            name = f"lnyjs_load_{uuid.uuid4().hex[:8]}"
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'load.db'}"
        return
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    """The processes of one run; stopped together."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with open(self.workdir / f"process-{len(self.procs)}.log", "wb") as log:  # the child keeps its own handle
            proc = subprocess.Popen(
                args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
            )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


async def wait_http(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status < 500:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


async def wait_worker(healthz: str, seconds: float = 120) -> None:
    """Until /healthz counts a live worker: it reports in once its services are built."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(healthz) as resp:
                if (await resp.json())["checks"].get("workers", {}).get("alive", 0) >= 1:
                    return
            await asyncio.sleep(0.3)
    raise RuntimeError("no worker reported in")


def base_env(redis_url: str, database_url: str, ports: dict[str, int], nlu: str, rasa_port: int) -> dict[str, str]:
    aes_key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    app = f"http://127.0.0.1:{ports['serve']}"
    return {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")},
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "DATA_KEYS": Fernet.generate_key().decode(),
        "WECHAT_APPID": APPID,
        "WECHAT_TOKEN": "load-token",
        "WECHAT_AES_KEY": aes_key,
        "MINIPROGRAM_APPID": MP_APPID,
        "WECHAT_API_URL": f"http://127.0.0.1:{ports['wechat']}",
        "ELICENSE_URL": f"http://127.0.0.1:{ports['elicense']}",
        "PLATFORM_URL": f"http://127.0.0.1:{ports['platform']}",
        "PUBLIC_BASE_URL": app,
        "PLATFORM_SIM_PACE_SECONDS": "3600",  # status callbacks are not what is measured here
        "QUIET_HOURS": "",
        "NLU_BACKEND": nlu,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "SIMULATORS": "false",
        # the generator is one address playing many people, each faster than a person
        "RATE_ADDRESS_PER_SECOND": "1000000",
        "RATE_PERSON_PER_10S": "1000000",
    }


async def one_run(args: argparse.Namespace, serves: int, nlu: str, rasa_port: int) -> dict[str, Any]:
    ports = {name: free_port() for name in ("serve", "wechat", "elicense", "platform")}
    redis = urlparse(Settings().redis_url)
    redis_url = redis._replace(path="/9").geturl()  # a database of its own, emptied first
    import redis as redis_sync

    redis_sync.Redis.from_url(redis_url).flushdb()
    with database() as db_url, tempfile.TemporaryDirectory() as tmp:
        env = base_env(redis_url, db_url, ports, nlu, rasa_port)
        stack = Stack(env, Path(tmp))
        try:
            for system in ("wechat", "elicense", "platform"):
                extra = ["--db", str(Path(tmp) / "platform.db"), "--pace", "3600"] if system == "platform" else []
                stack.start(PY, "-m", "integrations.simulators", system, "--port", str(ports[system]), *extra)
            subprocess.run([PY, "-m", "bot", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
            serve = [
                stack.start(PY, "-m", "bot", "serve", "--port", str(ports["serve"]), "--reuse-port")
                for _ in range(serves)
            ]
            worker = stack.start(PY, "-m", "bot", "worker")
            for name in ("wechat", "elicense", "platform"):
                await wait_http(f"http://127.0.0.1:{ports[name]}/")
            await wait_http(f"http://127.0.0.1:{ports['serve']}/healthz")
            await wait_worker(f"http://127.0.0.1:{ports['serve']}/healthz")  # its start-up is not measured
            await asyncio.sleep(2)  # every serve process is up (each answers /healthz when it is)
            gen = await asyncio.create_subprocess_exec(
                PY, "-m", "bench.loadgen", "--url", f"http://127.0.0.1:{ports['serve']}",
                "--citizens", str(args.citizens), "--seconds", str(args.seconds), "--token", env["WECHAT_TOKEN"],
                "--aes-key", env["WECHAT_AES_KEY"], "--appid", APPID, "--announce",
                cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert gen.stdout is not None
            assert (await gen.stdout.readline()).strip() == b"measuring"  # the warm-up is over
            others = {"generator": [gen.pid], "redis": _pids("redis-server"), "postgresql": _pids("postgres")}
            before = {p.pid: cpu_seconds(p.pid) for p in [*serve, worker]}
            before_others = {k: _cpu_of(v) for k, v in others.items()}
            line = await gen.stdout.readline()
            after = {p.pid: cpu_seconds(p.pid) for p in [*serve, worker]}
            after_others = {k: _cpu_of(v) for k, v in others.items()}
            await gen.wait()
            result = json.loads(line)
        finally:
            stack.stop()
    serve_cpu = sum(after[p.pid] - before[p.pid] for p in serve)
    worker_cpu = after[worker.pid] - before[worker.pid]
    turns = max(result["turns"], 1)
    return {
        "bench": "load",
        "serve_processes": serves,
        "nlu_backend": nlu,
        "database": db_url.split(":", 1)[0],
        "citizens": args.citizens,
        **result,
        "serve_cpu_ms_per_turn": round(serve_cpu * 1000 / turns, 3),
        "worker_cpu_ms_per_turn": round(worker_cpu * 1000 / turns, 3),
        "serve_cpu_utilisation": round(serve_cpu / result["seconds"], 2),
        # where the machine's two cores went meanwhile (the generator plays the citizens)
        **{f"{k}_cpu_ms_per_turn": round((after_others[k] - before_others[k]) * 1000 / turns, 3) for k in others},
    }


async def rasa_alone(port: int, utterances: list[str], concurrency: int = 8) -> dict[str, Any]:
    """Rasa's own /model/parse on the utterances the citizens say, measured alone."""
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        gate = asyncio.Semaphore(concurrency)

        async def parse(text: str) -> None:
            async with gate:
                started = time.perf_counter()
                async with http.post(f"http://127.0.0.1:{port}/model/parse", json={"text": text}) as resp:
                    await resp.read()
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(parse(u) for u in utterances))
        seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "bench": "rasa.model_parse",
        "parses": len(latencies),
        "concurrency": concurrency,
        "parses_per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
    }


def utterances() -> list[str]:
    from bench.loadgen import OPENINGS
    from bot.catalog import load_catalog

    catalog = load_catalog(ROOT / "catalog")
    said = list(OPENINGS.values())
    for thing_id in OPENINGS:
        said += [f.example for f in catalog.things[thing_id].form.fields if f.example]
    return said * 10


@contextmanager
def rasa_server() -> Iterator[int | None]:
    if not (RASA.exists() and RASA_MODEL.exists()):
        yield None
        return
    port = free_port()
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    cmd = [
        str(RASA),
        "run",
        "--enable-api",
        "--model",
        str(RASA_MODEL),
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        asyncio.run(wait_http(f"http://127.0.0.1:{port}/", seconds=300))
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--citizens", type=int, default=64)
    parser.add_argument("--only", default="1,2,rasa", help="which runs: 1 (one serve), 2 (two), rasa")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    if "1" in wanted:
        print(json.dumps(asyncio.run(one_run(args, 1, "embedded", 0)), ensure_ascii=False), flush=True)
    if "2" in wanted:
        print(json.dumps(asyncio.run(one_run(args, 2, "embedded", 0)), ensure_ascii=False), flush=True)
    if "rasa" in wanted:
        with rasa_server() as port:
            if port is None:
                print(json.dumps({"bench": "load", "nlu_backend": "rasa", "skipped": "no Rasa model: make rasa-train"}))
                return
            print(json.dumps(asyncio.run(one_run(args, 2, "rasa", port)), ensure_ascii=False), flush=True)
            print(json.dumps(asyncio.run(rasa_alone(port, utterances())), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
