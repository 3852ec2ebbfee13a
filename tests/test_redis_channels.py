"""Announcements (a guide published, an NLU model activated) travel on channels of
their own Redis database: pub/sub is server-wide in Redis, so without that two
deployments or test runs sharing a server, each with a database, would act on
each other's announcements."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from bot.catalog.follow import PUBLISHED, announce
from bot.redis_client import channel, make_redis


async def test_an_announcement_is_heard_in_its_own_database_only(redis_url: str) -> None:
    ours = make_redis(redis_url)
    db = int(urlparse(redis_url).path.strip("/"))
    neighbour = make_redis(urlparse(redis_url)._replace(path=f"/{(db + 1) % 16}").geturl())
    assert channel(ours, PUBLISHED) != channel(neighbour, PUBLISHED)
    listening = ours.pubsub()
    try:
        await listening.subscribe(channel(ours, PUBLISHED))
        await listening.get_message(timeout=1.0)  # the subscription's confirmation
        await announce(neighbour, "newborn", 7)  # another deployment on the same server
        assert await listening.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
        await announce(ours, "newborn", 8)
        heard = await listening.get_message(ignore_subscribe_messages=True, timeout=2.0)
        assert heard is not None and '"version": 8' in heard["data"]
    finally:
        await listening.aclose()
        await asyncio.gather(ours.aclose(), neighbour.aclose())
