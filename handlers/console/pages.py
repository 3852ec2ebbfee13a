"""The console pages: plain HTML, CSS and JavaScript from this origin, which
talk to the console API only. The agent page needs a login (else: the login
page); the assets themselves hold nothing secret."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from handlers.console.guard import staff

STATIC = Path(__file__).parent.parent / "static" / "console"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page(name: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers=HEADERS)


async def login_page(request: web.Request) -> web.StreamResponse:
    return _page("login.html")


@staff("agent", page=True)
async def agent_page(request: web.Request) -> web.StreamResponse:
    return _page("agent.html")


@staff("admin", page=True)
async def admin_page(request: web.Request) -> web.StreamResponse:
    return _page("admin.html")


@staff("admin", page=True)
async def intents_page(request: web.Request) -> web.StreamResponse:
    return _page("intents.html")


@staff("admin", page=True)
async def dashboard_page(request: web.Request) -> web.StreamResponse:
    return _page("dashboard.html")


@staff("admin", page=True)
async def catalog_page(request: web.Request) -> web.StreamResponse:
    return _page("catalog.html")


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/agent")


def setup(app: web.Application) -> None:
    app.router.add_get("/console", home)
    app.router.add_get("/console/", home)
    app.router.add_get("/console/login", login_page)
    app.router.add_get("/console/agent", agent_page)
    app.router.add_get("/console/admin", admin_page)
    app.router.add_get("/console/catalog", catalog_page)
    app.router.add_get("/console/intents", intents_page)
    app.router.add_get("/console/dashboard", dashboard_page)
    app.router.add_static("/console/static/", STATIC, show_index=False, follow_symlinks=False)
