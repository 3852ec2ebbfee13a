"""Requests per source address (``RATE_ADDRESS_PER_SECOND``): beyond it a 429
with a clear message. The doors that partners sign (the WeChat callback, the
platform's and 12345's callbacks, the IVR) are not limited by address: a few
servers send everything there, and each request is verified; a person's own
pace is limited in the dialogue (``bot/limits.py``). Behind a reverse proxy,
its ``X-Forwarded-For`` is believed only from ``TRUSTED_PROXIES``."""

from __future__ import annotations

from aiohttp import web

from bot.limits import AddressPace
from bot.texts import standard as tx
from handlers.auth import error
from handlers.console.guard import Handler
from handlers.keys import SERVICES

SIGNED = ("/wechat", "/callbacks/", "/ivr/")
STATIC = ("/demo/", "/console/static/")


def address_of(request: web.Request, trusted: set[str]) -> str:
    """The client's address: the last one before our own proxies in X-Forwarded-For."""
    remote = request.remote or "?"
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote


def client_address(request: web.Request) -> str:
    """The client's address as the settings' trusted proxies let us know it."""
    s = request.app[SERVICES].settings
    return address_of(request, {a.strip() for a in s.trusted_proxies.split(",") if a.strip()})


@web.middleware
async def limit_addresses(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path.startswith(SIGNED) or path.startswith(STATIC) or path == "/healthz":
        return await handler(request)
    services = request.app[SERVICES]
    if not await AddressPace(services.redis, services.settings.rate_address_per_second).allows(client_address(request)):
        resp = error(429, "too_many_requests", tx.API_TOO_MANY)
        resp.headers["Retry-After"] = "1"
        return resp
    return await handler(request)
