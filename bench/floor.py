"""``make bench``, the machine's floor: what this machine carries when a request does
almost nothing, with the same parts as a turn (aiohttp on uvloop, one Redis command over
redis-py, ``serve`` processes sharing a port, an aiohttp client in a process of its own on
the same cores). No dialogue, no crypto, no database.

Machines of the same kind have differed threefold in speed from one day to the next; a
turn's throughput read against this floor, measured in the same run, is what compares
across them. It is also a ceiling: no turn can be cheaper than a request that does nothing.

    python -m bench.floor [--seconds 10] [--clients 64] [--serve 1,2]
    python -m bench.floor serve --port P     (one server process; used by the above)
    python -m bench.floor load --url U ...   (the client process; used by the above)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlparse

import aiohttp
import uvloop
from aiohttp import web
from redis.asyncio import Redis

from bench.load import cpu_seconds, free_port, wait_http
from bench.loadgen import is_loopback, percentile
from bot.settings import ROOT, Settings

KEY_PREFIX = "floor:"  # kept 60 s; one key per client


def floor_app(redis: Redis) -> web.Application:
    async def turn(request: web.Request) -> web.Response:
        body = await request.read()
        await redis.set(KEY_PREFIX + request.query.get("who", "-"), body, ex=60)
        return web.Response(text="ok")

    async def alive(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/turn", turn)
    app.router.add_get("/", alive)
    return app


def serve(port: int, redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    web.run_app(
        floor_app(redis), host="127.0.0.1", port=port, reuse_port=True, access_log=None, print=None,
        loop=uvloop.new_event_loop(),
    )  # fmt: skip


async def load(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """Each client posts a 300-byte body (about a WeChat message's size), then again, until time is up."""
    latencies: list[float] = []
    errors = 0
    body = b"x" * 300
    connector = aiohttp.TCPConnector(limit=clients + 8)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def client(n: int, until: float) -> None:
            nonlocal errors
            while time.monotonic() < until:
                started = time.perf_counter()
                async with http.post(f"{url}/turn", params={"who": str(n)}, data=body) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                        continue
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(client(n, time.monotonic() + 1) for n in range(clients)))  # warm-up
        latencies.clear()
        print("measuring", flush=True)  # for whoever samples the servers' CPU around the window
        started = time.monotonic()
        await asyncio.gather(*(client(n, started + seconds) for n in range(clients)))
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "errors": errors,
    }


def measure(serves: int, clients: int, seconds: float) -> dict[str, Any]:
    """Start ``serves`` server processes and the client process; → the client's figures and the CPU
    each side spent in the measured window."""
    port = free_port()
    redis_url = urlparse(Settings().redis_url)._replace(path="/9").geturl()  # the load bench's database
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.floor", "serve", "--port", str(port), "--redis", redis_url],
            cwd=ROOT,
        )
        for _ in range(serves)
    ]
    try:
        asyncio.run(wait_http(f"http://127.0.0.1:{port}/", seconds=30))
        time.sleep(1)  # every server process is up
        client = subprocess.Popen(
            [sys.executable, "-m", "bench.floor", "load", "--url", f"http://127.0.0.1:{port}",
             "--clients", str(clients), "--seconds", str(seconds)],
            cwd=ROOT, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert client.stdout is not None
        if client.stdout.readline().strip() != b"measuring":
            raise RuntimeError("the floor's client did not start")
        before = sum(cpu_seconds(p.pid) for p in servers), cpu_seconds(client.pid)
        line = client.stdout.readline()
        after = sum(cpu_seconds(p.pid) for p in servers), cpu_seconds(client.pid)
        if client.wait(timeout=30) != 0:
            raise RuntimeError("the floor's client failed")
    finally:
        for p in servers:
            p.terminate()
        for p in servers:
            p.wait(timeout=15)
    result = json.loads(line)
    requests = max(result["requests"], 1)
    return {
        "bench": "floor",
        "serve_processes": serves,
        "clients": clients,
        **result,
        "serve_cpu_ms_per_request": round((after[0] - before[0]) * 1000 / requests, 3),
        "client_cpu_ms_per_request": round((after[1] - before[1]) * 1000 / requests, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part")
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--redis", required=True)
    ld = sub.add_parser("load")
    ld.add_argument("--url", required=True)
    for p in (parser, ld):
        p.add_argument("--clients", type=int, default=64)
        p.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--serve", default="1,2", help="how many server processes, one run each")
    args = parser.parse_args(argv)
    if args.part == "serve":
        serve(args.port, args.redis)
    elif args.part == "load":
        if not is_loopback(args.url):
            parser.error("the floor's client only talks to this machine (loopback)")
        print(json.dumps(uvloop.run(load(args.url, args.clients, args.seconds))), flush=True)
    else:
        for serves in (int(n) for n in args.serve.split(",")):
            print(json.dumps(measure(serves, args.clients, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
