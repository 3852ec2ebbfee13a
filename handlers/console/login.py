"""Console login and logout (JSON), and who is logged in.

POST /console/api/login   {"username", "password"} → 200 {"username", "role", "csrf"} + the cookie
                          401 wrong · 429 too many failures · 400 malformed
POST /console/api/logout  (CSRF) → 204
GET  /console/api/me      → {"username", "display_name", "role", "csrf"}
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from bot.audit import audit
from bot.texts import staff as tx
from handlers.auth import error, loads, read_body
from handlers.console.guard import COOKIE, STAFF, same_origin, sessions, staff
from handlers.keys import SERVICES
from handlers.limits import client_address


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


async def login(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        return error(403, "csrf", tx.CSRF_FAILED)  # login CSRF: another site logging a browser in
    try:
        body = LoginIn.model_validate(loads(await read_body(request) or b"null"))
    except (ValueError, ValidationError):
        return error(400, "bad_request", tx.LOGIN_BODY)
    services = request.app[SERVICES]
    store = sessions(request)
    address = client_address(request)
    wait = await store.attempt(body.username, address)
    if wait:
        resp = error(429, "throttled", tx.LOGIN_THROTTLED.format(minutes=max(1, -(-wait // 60))))
        resp.headers["Retry-After"] = str(wait)
        return resp
    account = await services.accounts.verify(body.username, body.password)
    if account is None:
        await store.failed(body.username, address)
        async with services.db.begin() as conn:
            await audit(conn, body.username[:64], "console.login_failed", "", address=address)
        return error(401, "login_failed", tx.LOGIN_FAILED)
    await store.succeeded(body.username, address)
    token, session = await store.start(account)
    async with services.db.begin() as conn:
        await audit(conn, account.username, "console.login", "", address=address)
    resp = web.json_response({"username": account.username, "role": account.role, "csrf": session.csrf})
    resp.set_cookie(
        COOKIE,
        token,
        max_age=services.settings.console_session_minutes * 60,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=services.settings.console_secure_cookie,
    )
    return resp


@staff("agent")
async def logout(request: web.Request) -> web.StreamResponse:
    session = request[STAFF]
    await sessions(request).end(request.cookies.get(COOKIE, ""))
    async with request.app[SERVICES].db.begin() as conn:
        await audit(conn, session.account.username, "console.logout")
    resp = web.Response(status=204)
    resp.del_cookie(COOKIE, path="/")
    return resp


@staff("agent")
async def me(request: web.Request) -> web.StreamResponse:
    s = request[STAFF]
    a = s.account
    return web.json_response({"username": a.username, "display_name": a.display_name, "role": a.role, "csrf": s.csrf})


def setup(app: web.Application) -> None:
    app.router.add_post("/console/api/login", login)
    app.router.add_post("/console/api/logout", logout)
    app.router.add_get("/console/api/me", me)
