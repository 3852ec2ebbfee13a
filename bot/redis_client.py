"""The one way the core opens Redis (redis-py's asyncio client)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def make_redis(url: str) -> Redis:
    # A restarted Redis leaves every pooled connection dead, and from_url's connections never retry:
    # the first command on each failed, one failed request per pooled connection after every restart.
    # Two quick retries on a fresh connection absorb that and a blip; a Redis that stays away fails
    # within about a second (the person is told politely: handlers/outages.py), well inside WeChat's
    # 5 s even when connecting hangs. Not on timeouts: a command that timed out may have run.
    retry = Retry(
        ExponentialWithJitterBackoff(cap=0.25, base=0.05), retries=2, supported_errors=(RedisConnectionError,)
    )
    # Short timeouts: a health check or a chat turn must not hang on a dead Redis.
    return Redis.from_url(url, decode_responses=True, socket_connect_timeout=1, socket_timeout=5, retry=retry)
