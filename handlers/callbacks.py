"""Signed status callbacks from outside systems: knows their wire formats and
signatures, nothing of the dialogue.

POST /callbacks/platform   the unified platform (docs/platform-api.md), X-Platform-* headers
POST /callbacks/hotline    the 12345 platform (docs/hotline-api.md), X-Hotline-* headers
  200 taken (or a duplicate, or older than what we have: the sender must stop sending it)
  401 bad or stale signature · 400 malformed · 404 unknown application, item or work order
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from bot.applications.progress import StatusEvent, Taken
from handlers.auth import error, loads, read_limited
from handlers.keys import SERVICES
from integrations.hotline import BadCallback, verify_callback
from integrations.platform import signature_ok

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_SEQ = 2**31 - 1  # seq is stored in 32-bit INTEGER columns: beyond that the database errs


class PlatformEvent(BaseModel):
    event_id: str = Field(min_length=1, max_length=64)
    number: str = Field(min_length=1, max_length=32)
    item: str = Field(min_length=1, max_length=48)
    status: Literal["已受理", "审批中", "需补正", "已办结", "不予受理"]
    note: str = Field(default="", max_length=2000)
    seq: int = Field(ge=1, le=MAX_SEQ)
    at: str = ""
    detail: dict[str, Any] = {}


async def platform_status(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    body = await read_limited(request, MAX_BODY)
    stamp = request.headers.get("X-Platform-Timestamp", "")
    signature = request.headers.get("X-Platform-Signature", "")
    if not signature_ok(services.settings.platform_callback_secret.get_secret_value(), stamp, body, signature):
        log.warning("platform callback refused: bad or stale signature (from %s)", request.remote)
        return error(401, "bad_signature", "signature does not match or is too old")
    try:
        event = PlatformEvent.model_validate(loads(body))
    except (ValueError, ValidationError) as exc:
        log.warning("platform callback refused: malformed (%s)", type(exc).__name__)
        return error(400, "malformed", "not a status event")
    taken = await services.progress.apply(
        StatusEvent(
            event_id=event.event_id,
            number=event.number,
            item=event.item,
            status=event.status,
            seq=event.seq,
            note=event.note,
            detail=event.detail,
        )
    )
    if taken in (Taken.unknown_application, Taken.unknown_item):
        log.warning("platform callback for %s %s refused: %s", event.number, event.item, taken.value)
        return error(404, taken.value, "no such application or item here")
    return web.json_response({"ok": True, "taken": taken.value})


async def hotline_status(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    body = await read_limited(request, MAX_BODY)
    try:
        event = verify_callback(services.settings.hotline_callback_secret.get_secret_value(), request.headers, body)
    except BadCallback as exc:
        log.warning("12345 callback refused: %s (from %s)", exc, request.remote)
        status = 400 if str(exc).startswith("payload") else 401
        return error(status, "bad_callback", "not a genuine, fresh 12345 callback")
    except RecursionError:  # signed, but JSON nested past Python's limit: verify_callback lets that through
        log.warning("12345 callback refused: payload nested too deeply (from %s)", request.remote)
        return error(400, "bad_callback", "not a genuine, fresh 12345 callback")
    seq = int(event["seq"])
    if not 1 <= seq <= MAX_SEQ:
        log.warning("12345 callback refused: seq %s out of range", seq)
        return error(400, "bad_callback", "not a genuine, fresh 12345 callback")
    result = "；".join(x for x in (event.get("result"), event.get("feedback")) if x)
    order = await services.work_orders.move(event["external_id"], event["status"], seq, result)
    if order is None:
        if not await services.work_orders.exists(event["external_id"]):
            log.warning("12345 callback for unknown work order %s", event["external_id"])
            return error(404, "unknown_work_order", "no such work order here")
        return web.json_response({"ok": True, "taken": "stale"})
    await services.work_orders.tell(services.notices, order, event["number"], event["status"], result)
    return web.json_response({"ok": True, "taken": "applied"})


def setup(app: web.Application) -> None:
    app.router.add_post("/callbacks/platform", platform_status)
    app.router.add_post("/callbacks/hotline", hotline_status)
