"""The one way the core opens Redis (redis-py's asyncio client): one server by its URL
(``redis://``, ``rediss://``, ``unix://``), or the primary that Redis Sentinel names
(``redis+sentinel://``, see ``sentinel_target``), found again after a failover."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelTarget:
    """``redis+sentinel://[:password@]host[:port][,host[:port]…]/service[/db][?sentinel_password=…]``:
    the Sentinels to ask, the name of the monitored primary, its database and password."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int = 0
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)


def sentinel_target(url: str) -> SentinelTarget | None:
    """The Sentinel setting of a ``redis+sentinel://`` URL; None for any other URL; ValueError for a
    Sentinel URL that does not say which Sentinels or which primary."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        return None
    auth, _, hosts = parts.netloc.rpartition("@")
    password = unquote(auth.partition(":")[2]) or None if auth else None
    sentinels = []
    for host in filter(None, hosts.split(",")):
        name, colon, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        name = (name if colon else host).strip("[]")
        sentinels.append((name, int(port) if colon else SENTINEL_PORT))
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path or len(path) > 2:
        raise ValueError(f"{SENTINEL_SCHEME} URL needs host[:port][,host[:port]…]/service[/db]")
    query = parse_qs(parts.query)
    return SentinelTarget(
        sentinels=sentinels,
        service=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        password=password,
        sentinel_password=(query.get("sentinel_password") or [None])[0],
    )


def make_redis(url: str, max_connections: int = 100, wait_seconds: float = 2.0) -> Redis:
    """A client whose pool holds at most ``max_connections``; a command that finds them all busy waits
    up to ``wait_seconds`` for one (then a ConnectionError: an outage's 503), rather than failing at once.
    Commands that block (long polls, agents following a conversation) get a client of their own, so
    that however many of them wait, a turn still finds a connection."""
    # A restarted Redis leaves every pooled connection dead, and from_url's connections never retry:
    # the first command on each failed, one failed request per pooled connection after every restart.
    # Two quick retries on a fresh connection absorb that and a blip; a Redis that stays away fails
    # within about a second (the person is told politely: handlers/outages.py), well inside WeChat's
    # 5 s even when connecting hangs. Not on timeouts: a command that timed out may have run.
    # Behind Sentinel the same retries ride out a failover: a connection to a primary that was
    # demoted is dropped (redis-py turns its READONLY into a connection error) and the next one
    # goes to the primary Sentinel names now.
    retry = Retry(
        ExponentialWithJitterBackoff(cap=0.25, base=0.05), retries=2, supported_errors=(RedisConnectionError,)
    )
    # Short timeouts: a health check or a chat turn must not hang on a dead Redis.
    options: dict[str, Any] = {"decode_responses": True, "socket_connect_timeout": 1, "socket_timeout": 5,
                               "retry": retry}  # fmt: skip
    target = sentinel_target(url)
    if target is None:
        pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=wait_seconds, **options)
        return Redis.from_pool(pool)
    asking = {"socket_connect_timeout": 1, "socket_timeout": 1, "password": target.sentinel_password}
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=asking)
    return sentinel.master_for(target.service, redis_class=Redis, db=target.db, password=target.password,
                               max_connections=max_connections, **options)  # fmt: skip


def channel(redis: Redis, name: str) -> str:
    """A pub/sub channel of this Redis database. Channels are server-wide in Redis, databases are
    not: two deployments (or test runs) on one server, each with a database of its own, would
    otherwise hear each other's announcements."""
    return f"{name}@db{redis.connection_pool.connection_kwargs.get('db', 0)}"
