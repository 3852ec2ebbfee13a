"""What admins watch after submission: the dead-letter list (with what each
channel said, and sending one again) and the 好差评 ratings with their 12345
work orders. Personal data masked; every retry audited.

GET  /console/api/admin/dead-letters
POST /console/api/admin/dead-letters/{id}/retry
GET  /console/api/admin/ratings
"""

from __future__ import annotations

from aiohttp import web

from bot.notify.dead_letters import DeadLetters
from bot.texts import staff as tx
from handlers.auth import error
from handlers.console.guard import STAFF, staff
from handlers.keys import SERVICES


def _letters(request: web.Request) -> DeadLetters:
    services = request.app[SERVICES]
    return DeadLetters(services.db, services.settings.vault())


@staff("admin")
async def dead_letters(request: web.Request) -> web.StreamResponse:
    return web.json_response({"dead_letters": await _letters(request).listing()})


@staff("admin")
async def retry(request: web.Request) -> web.StreamResponse:
    raw = request.match_info["id"]
    if not raw.isdigit() or not await _letters(request).retry(int(raw), request[STAFF].account.username):
        return error(404, "not_found", tx.NOT_FOUND.format(what=raw))
    return web.json_response({"queued": True})


@staff("admin")
async def ratings(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ratings": await request.app[SERVICES].ratings.recent()})


def setup(app: web.Application) -> None:
    app.router.add_get("/console/api/admin/dead-letters", dead_letters)
    app.router.add_post("/console/api/admin/dead-letters/{id}/retry", retry)
    app.router.add_get("/console/api/admin/ratings", ratings)
