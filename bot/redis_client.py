"""The one way the core opens Redis (redis-py's asyncio client)."""

from __future__ import annotations

from redis.asyncio import Redis


def make_redis(url: str) -> Redis:
    # Short timeouts: a health check or a chat turn must not hang on a dead Redis.
    return Redis.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5)
