"""Read-only catalog API: GET /api/things (by category and keyword),
GET /api/things/{id} (one guide in full, with its 一次告知 text)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from bot.catalog.export import summary_of, thing_to_dict
from bot.catalog.render import render_guide
from bot.texts import standard as tx
from handlers.keys import SERVICES

CATEGORIES = ("个人", "法人")


class ItemOut(BaseModel):
    key: str
    name: str
    dept: str


class ThingSummary(BaseModel):
    id: str
    seq: int
    name: str
    category: Literal["个人", "法人"]
    summary: str
    lead: list[str]
    items: list[ItemOut]
    version: int


class ThingsOut(BaseModel):
    things: list[ThingSummary]
    count: int


class GuideOut(BaseModel):
    """One guide: every element of the catalog file (see docs/catalog.md), and ``notice``."""

    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    category: Literal["个人", "法人"]
    summary: str
    notice: str  # the whole guide as one text: 一次告知


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


async def list_things(request: web.Request) -> web.Response:
    catalog = request.app[SERVICES].catalog
    category = request.query.get("category")
    if category is not None and category not in CATEGORIES:
        return _error(400, "bad_category", tx.API_BAD_CATEGORY)
    things = catalog.search(request.query.get("q", ""))
    if category:
        things = [t for t in things if t.category == category]
    out = ThingsOut.model_validate({"things": [summary_of(t) for t in things], "count": len(things)})
    return web.json_response(out.model_dump(mode="json"))


async def get_thing(request: web.Request) -> web.Response:
    thing_id = request.match_info["id"]
    thing = request.app[SERVICES].catalog.get(thing_id)
    if thing is None:
        return _error(404, "not_found", tx.API_THING_NOT_FOUND.format(id=thing_id))
    data = thing_to_dict(thing)
    data["notice"] = render_guide(thing)  # 一次告知, ready to show
    return web.json_response(data)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/things", list_things)
    app.router.add_get("/api/things/{id}", get_thing)
