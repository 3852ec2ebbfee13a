"""Redis or the database away for a while (a restart, a failover, a network
blip): every request that needs them gets a 503 with a polite message and a
Retry-After instead of a 500 and a stack trace. A 503 is also what makes the
platform's and 12345's callbacks come again later (any non-2xx does). The
WeChat callback answers a polite passive reply itself (``handlers/wechat.py``):
WeChat shows its own “该公众号暂时无法提供服务” on a 5xx. Nothing needs
restarting afterwards: the Redis client reconnects and the database pool
replaces dead connections (``pool_pre_ping``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.texts import standard as tx
from handlers.auth import error

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# BusyLoadingError (Redis reading its append-only file back after a restart) is a ConnectionError.
_OUTAGES = (RedisConnectionError, RedisTimeoutError, OperationalError, InterfaceError, PoolTimeoutError)


def is_outage(exc: BaseException) -> bool:
    """Redis or the database cannot be reached now (as opposed to a bug, which stays a 500)."""
    if isinstance(exc, _OUTAGES):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def which(exc: BaseException) -> str:
    return "redis" if isinstance(exc, RedisConnectionError | RedisTimeoutError) else "database"


def unavailable() -> web.Response:
    resp = error(503, "unavailable", tx.API_UNAVAILABLE)
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


@web.middleware
async def outages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Exception as exc:
        if not is_outage(exc):
            raise
        # one line, not a stack trace per request: an outage makes many at once
        log.warning("%s %s: %s unavailable (%s: %s)", request.method, request.path, which(exc),
                    type(exc).__name__, str(exc)[:200])  # fmt: skip
        return unavailable()
