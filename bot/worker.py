"""The background worker: runs the consumers (the outbox's deliveries to the platform, WeChat and
12345; notifications; the agents' queue; retention) and reports that it is alive, so /healthz
can tell."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

log = logging.getLogger(__name__)

ALIVE_KEY = "workers:alive"  # sorted set: worker id -> last heartbeat (unix time)


@dataclass(frozen=True)
class Consumer:
    name: str
    run: Callable[[asyncio.Event], Awaitable[None]]  # returns when the event is set


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def alive_workers(redis: Redis, within: float) -> int:
    """How many workers reported in the last ``within`` seconds."""
    return await redis.zcount(ALIVE_KEY, time.time() - within, "+inf")


async def _heartbeat(redis: Redis, me: str, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            now = time.time()
            async with redis.pipeline(transaction=True) as pipe:
                pipe.zadd(ALIVE_KEY, {me: now})
                pipe.zremrangebyscore(ALIVE_KEY, "-inf", now - 60 * every)  # forget long-dead ones
                await pipe.execute()
        except Exception as exc:  # Redis down: keep running, report again later
            log.warning("worker heartbeat failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def run_worker(redis: Redis, consumers: Sequence[Consumer], heartbeat: float, stop: asyncio.Event) -> None:
    me = worker_id()
    log.info("worker %s started with consumers: %s", me, [c.name for c in consumers] or "none yet")
    tasks = [asyncio.create_task(_heartbeat(redis, me, heartbeat, stop), name="heartbeat")]
    tasks += [asyncio.create_task(c.run(stop), name=c.name) for c in consumers]
    try:
        await stop.wait()
    finally:
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await redis.zrem(ALIVE_KEY, me)
        log.info("worker %s stopped", me)
