"""Every serve and worker process keeps its catalog in step with the guides
published in the console: a publish is announced on a Redis channel and each
process swaps in the newest stored version at once; a check of the newest
version numbers every ``every`` seconds (and on each (re)subscription)
catches whatever a process missed (a message lost while Redis was away, a
process that was busy starting)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.catalog.edits import CatalogEdits
from bot.redis_client import channel

log = logging.getLogger(__name__)

PUBLISHED = "catalog:published"  # Redis channel: {"thing": id, "version": N}
CHECK_SECONDS = 30.0


async def announce(redis: Redis, thing_id: str, version: int) -> None:
    """Tell every process; the version is stored already, so a lost message only delays
    the others until their next check."""
    try:
        await redis.publish(channel(redis, PUBLISHED), json.dumps({"thing": thing_id, "version": version}))
    except (RedisError, OSError) as exc:
        log.warning("could not announce %s version %s, other processes catch up within %ss: %s",
                    thing_id, version, CHECK_SECONDS, exc)  # fmt: skip


async def follow_published(
    edits: CatalogEdits, redis: Redis, stop: asyncio.Event, every: float = CHECK_SECONDS
) -> None:
    """Run in every process until ``stop`` is set (a stop event rather than cancellation:
    redis-py can swallow a cancel inside get_message)."""
    due = 0.0  # monotonic time of the next full check; 0: at once

    async def check_if_due() -> None:
        nonlocal due
        if time.monotonic() < due:
            return
        due = time.monotonic() + every
        try:
            await edits.refresh()
        except Exception:  # the database away for a moment: try again at the next check
            log.exception("could not check for newly published guides")

    while not stop.is_set():
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(channel(redis, PUBLISHED))
            due = 0.0  # what was published while we were not listening
            while not stop.is_set():
                await check_if_due()
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    await _take(edits, message["data"])
        except (RedisError, OSError) as exc:
            log.warning("guide publication listener lost Redis, retrying: %s", exc)
            await check_if_due()  # the database still tells what is newest
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), 2)


async def _take(edits: CatalogEdits, data: str) -> None:
    try:
        thing_id = str(json.loads(data)["thing"])
        await edits.refresh(only=[thing_id])
    except Exception:  # a bad message must not stop the listener; the next check repairs
        log.exception("could not take the announced guide %r", data)


class GuideFollower:
    """``follow_published`` as a background task of one process, started and stopped."""

    def __init__(self, edits: CatalogEdits, redis: Redis, every: float = CHECK_SECONDS) -> None:
        self.edits, self.redis, self.every = edits, redis, every
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(follow_published(self.edits, self.redis, self._stop, self.every))

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        done, _ = await asyncio.wait([self._task], timeout=5)
        if not done:
            self._task.cancel()
        self._task = None
