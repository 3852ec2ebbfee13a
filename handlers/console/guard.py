"""Who may use a console route. A login is an HttpOnly, SameSite=Strict cookie
naming a session in Redis; every request that changes something must also
carry that session's CSRF token (header ``X-CSRF-Token``; WebSockets: query
``csrf``) and, when the browser sends one, an ``Origin`` of this very host."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlparse

from aiohttp import web

from bot.accounts.sessions import ConsoleSessions, StaffSession
from bot.texts import staff as tx
from handlers.auth import error
from handlers.keys import SERVICES

COOKIE = "lnyjs_console"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STAFF = web.RequestKey("staff", StaffSession)
SAFE = ("GET", "HEAD", "OPTIONS")


def sessions(request: web.Request) -> ConsoleSessions:
    services = request.app[SERVICES]
    return ConsoleSessions(services.redis, services.settings.console_session_minutes)


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser's cross-site request (those carry Origin); the CSRF token still must match
    try:
        return urlparse(origin).netloc == request.host
    except ValueError:  # not a URL at all (e.g. a broken [IPv6] host): certainly not this host
        return False


def csrf_ok(request: web.Request, session: StaffSession) -> bool:
    given = request.headers.get("X-CSRF-Token") or request.query.get("csrf", "")
    return same_origin(request) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), session.csrf.encode())


def staff(role: str, page: bool = False) -> Callable[[Handler], Handler]:
    """Only for a logged-in account that may act as ``role``; ``page``: send a
    browser without a login to the login page instead of answering 401."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            token = request.cookies.get(COOKIE, "")
            session = await sessions(request).get(token)
            if session is not None and await request.app[SERVICES].accounts.get(session.account.id) is None:
                await sessions(request).end(token)  # deactivated meanwhile: its logins end with it
                session = None
            if session is None:
                if page:
                    raise web.HTTPSeeOther(f"/console/login?next={quote(request.path_qs)}")
                return error(401, "login_required", tx.LOGIN_REQUIRED)
            if not session.account.may(role):
                return error(403, "forbidden", tx.FORBIDDEN)
            upgrading = request.headers.get("Upgrade", "").lower() == "websocket"
            if (request.method not in SAFE or upgrading) and not csrf_ok(request, session):
                return error(403, "csrf", tx.CSRF_FAILED)
            request[STAFF] = session
            return await handler(request)

        return guarded

    return wrap
