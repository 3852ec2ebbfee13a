"""URLs no route can mean, answered before they reach one: a NUL in the path
(``%00``; the HTTP parser refuses a raw one) is a 400, since PostgreSQL can
neither store nor compare it; a path segment longer than a file name may be
is a 404, where aiohttp's static files would let the file system's
ENAMETOOLONG out as a 500. The query is left to each handler, which says
what is wrong with its own parameters."""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.texts import standard as tx
from handlers.auth import error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def odd_urls(request: web.Request, handler: Handler) -> web.StreamResponse:
    if "%00" in request.rel_url.raw_path:
        return error(400, "bad_request", tx.API_NUL_IN_URL)
    try:
        return await handler(request)
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            raise
        return error(404, "not_found", tx.API_NOT_FOUND.format(what=request.path[:80]))
