"""The demo page: the mini-program as a phone in the browser, at ``/``.

The page (``handlers/static/demo/``) is plain HTML, CSS and JavaScript and
talks to the service only through the public mini-program API (login, chat,
my applications, the catalog), so it shows what any client of that API can
build. Nothing here knows the dialogue.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static" / "demo"
# Everything comes from this origin: no inline script, no third-party host.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC / "index.html",
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",  # a new deploy's page is picked up at once
        },
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/demo/", STATIC, show_index=False, follow_symlinks=False)
