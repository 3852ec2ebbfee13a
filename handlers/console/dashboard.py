"""The admins' dashboard: its figures as JSON (the page draws the charts).

GET /console/api/dashboard?days=30&thing=<id>   days 1–366; thing: the funnel of one one-thing
"""

from __future__ import annotations

from aiohttp import web

from bot.analytics.dashboard import Dashboard
from bot.texts import staff as tx
from handlers.auth import error
from handlers.console.guard import staff
from handlers.keys import SERVICES


@staff("admin")
async def figures(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    raw = request.query.get("days", "30")
    thing = request.query.get("thing") or None
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        return error(400, "bad_request", tx.DASHBOARD_DAYS)
    if thing is not None and services.catalog.get(thing) is None:
        return error(404, "not_found", tx.NOT_FOUND.format(what=thing))
    dashboard = Dashboard(services.counters, services.db, services.catalog, services.ratings)
    return web.json_response(await dashboard.figures(int(raw), thing))


def setup(app: web.Application) -> None:
    app.router.add_get("/console/api/dashboard", figures)
