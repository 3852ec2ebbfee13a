"""What admins watch after submission: the dead-letter list (with what each
channel said, and sending one again) and the 好差评 ratings with their 12345
work orders. Personal data masked; every retry audited.

GET  /console/api/admin/dead-letters
POST /console/api/admin/dead-letters/{id}/retry
GET  /console/api/admin/ratings
POST /console/api/admin/privacy/forget        {"user"} or {"application"}: a person's data erased (PIPL)
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from bot.db.schema import applications
from bot.notify.dead_letters import DeadLetters
from bot.privacy import Privacy, summary
from bot.texts import staff as tx
from handlers.auth import error, loads, read_body
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
    # ASCII digits that fit the database's integers (PostgreSQL errs on a longer number)
    valid = raw.isascii() and raw.isdigit() and len(raw) <= 15
    if not valid or not await _letters(request).retry(int(raw), request[STAFF].account.username):
        return error(404, "not_found", tx.NOT_FOUND.format(what=raw))
    return web.json_response({"queued": True})


@staff("admin")
async def ratings(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ratings": await request.app[SERVICES].ratings.recent()})


class ForgetIn(BaseModel):
    user: str | None = Field(default=None, min_length=3, max_length=128)  # the channel's id: wechat:…, mp:…
    application: str | None = Field(default=None, min_length=1, max_length=32)  # or any application of theirs


@staff("admin")
async def forget(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    try:
        body = ForgetIn.model_validate(loads(await read_body(request) or b"null"))
    except (ValueError, ValidationError):
        body = None
    if body is None or (body.user is None) == (body.application is None):
        return error(400, "bad_request", tx.FORGET_BODY)
    user = body.user
    if body.application is not None:
        async with services.db.connect() as conn:
            row = (
                await conn.execute(select(applications.c.user_ref).where(applications.c.id == body.application))
            ).first()
        if row is None:
            return error(404, "not_found", tx.NOT_FOUND.format(what=body.application))
        user = services.settings.vault().decrypt(row.user_ref)
        if not user:
            return error(409, "already_forgotten", tx.FORGET_DONE_BEFORE)
    assert user is not None
    done = await Privacy(services.db, services.redis, services.settings.vault()).forget(
        user, request[STAFF].account.username
    )
    return web.json_response(summary(done))


def setup(app: web.Application) -> None:
    app.router.add_get("/console/api/admin/dead-letters", dead_letters)
    app.router.add_post("/console/api/admin/dead-letters/{id}/retry", retry)
    app.router.add_get("/console/api/admin/ratings", ratings)
    app.router.add_post("/console/api/admin/privacy/forget", forget)
