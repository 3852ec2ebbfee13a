"""Bearer-token guard of the admin API (user accounts come with the console)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.texts import standard as tx
from handlers.keys import SERVICES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def admin_only(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.app[SERVICES].settings.admin_token
        if token is None:
            return error(503, "admin_disabled", tx.API_ADMIN_DISABLED)
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            return error(401, "unauthorized", tx.API_UNAUTHORIZED)
        return await handler(request)

    return guarded
