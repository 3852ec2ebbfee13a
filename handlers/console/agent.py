"""The hotline agents' console API: the line of people waiting for a human,
claiming one, the conversation live (WebSocket), handing back to the bot or
closing, and drafts started on the phone. Personal data is masked in all that
an agent sees; every action is audited.

GET  /console/api/queue                        waiting (why, which one-thing, how long) and mine
POST /console/api/handovers/{id}/claim         → 200 | 409 someone else has it
GET  /console/api/handovers/{id}               the transcript (masked), the state of the form, the guide
POST /console/api/handovers/{id}/messages      {"text"} → to the person through their own channel
POST /console/api/handovers/{id}/handback      {"point": "form" | "start" | "none"} → the bot resumes there
POST /console/api/handovers/{id}/close         {"summary"} → closed; the person is asked to rate
POST /console/api/handovers/{id}/release       → back into line
GET  /console/ws/handovers/{id}?csrf=…         the conversation live; {"type": "say", "text"} sends
POST /console/api/phone-drafts                 {"thing", "phone", "answers"} → a code by SMS
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Literal

from aiohttp import WSMsgType, web
from pydantic import BaseModel, Field, ValidationError

from bot.audit import audit
from bot.dialogue.fields import parse_value
from bot.dialogue.form import field_of
from bot.handover.desk import CLAIMED, Handover
from bot.handover.log import CURSOR, Entry
from bot.masking import mask_text
from bot.texts import staff as tx
from bot.texts import standard as citizen_tx
from bot.validators import mobile_problem
from handlers.auth import loads, read_model, refuse
from handlers.console.guard import STAFF, Handler, staff
from handlers.keys import SERVICES
from handlers.services import Services
from integrations.hotline import HotlineRefused, HotlineUnavailable

log = logging.getLogger(__name__)
FOLLOW_BLOCK_MS = 3000  # below the Redis client's socket timeout


class SayIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class HandbackIn(BaseModel):
    point: Literal["form", "start", "none"]


class CloseIn(BaseModel):
    summary: str = Field(min_length=1, max_length=2000)


class PhoneDraftIn(BaseModel):
    thing: str = Field(min_length=1, max_length=48)
    phone: str = Field(min_length=11, max_length=11)
    answers: dict[str, str] = Field(min_length=1, max_length=60)


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


def _agent(request: web.Request) -> str:
    return request[STAFF].account.username


def _summary(services: Services, h: Handover) -> dict[str, Any]:
    thing = services.catalog.get(h.thing_id) if h.thing_id else None
    return {
        "id": h.id,
        "status": h.status,
        "reason": h.reason,
        "reason_label": tx.REASONS.get(h.reason, h.reason),
        "thing": h.thing_id or None,
        "thing_name": thing.name if thing else None,
        "channel": h.channel,
        "waited_seconds": h.waited_seconds(),
        "told": h.told_at is not None,
        "agent": h.agent,
    }


def _entry(e: Entry) -> dict[str, Any]:
    return {"id": e.id, "role": e.role, "text": mask_text(e.text), "at": e.at_ms, "agent": e.agent}


@staff("agent")
async def queue(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    waiting = [_summary(services, h) for h in await services.desk.waiting()]
    mine = [_summary(services, h) for h in await services.desk.claimed_by(_agent(request))]
    return web.json_response({"waiting": waiting, "mine": mine})


HANDOVER = web.RequestKey("handover", Handover)


def mine(handler: Handler) -> Handler:
    """Only for the agent who holds the conversation of ``{id}`` (404 unknown, 409 someone else's)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        h = await _services(request).desk.get(request.match_info["id"])
        if h is None:
            refuse(404, "not_found", tx.NOT_FOUND.format(what=request.match_info["id"]))
        if h.status != CLAIMED or h.agent != _agent(request):
            refuse(409, "not_yours", tx.HANDOVER_NOT_YOURS)
        request[HANDOVER] = h
        return await handler(request)

    return guarded


@staff("agent")
async def claim(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    account = request[STAFF].account
    h = await services.desk.claim(request.match_info["id"], account.username)
    if h is None:
        refuse(409, "taken", tx.HANDOVER_TAKEN)
    await services.dialogue.agent_joined(h.user, account.display_name, h.id)
    return web.json_response(_summary(services, h))


@staff("agent")
@mine
async def detail(request: web.Request) -> web.StreamResponse:
    h = request[HANDOVER]
    services = _services(request)
    transcript = [_entry(e) for e in await services.conversation_log.history(h.user)]
    case = await services.dialogue.case_file(h.user)
    focus = case["current"] or h.thing_id
    thing = services.catalog.get(focus) if focus else None
    async with services.db.begin() as conn:
        await audit(conn, _agent(request), "handover.view", h.id)
    return web.json_response(
        {
            "handover": _summary(services, h),
            "transcript": transcript,
            "case": case,
            "guide": {"thing": thing.id, "name": thing.name} if thing else None,
        }
    )


async def _say(request: web.Request, h: Handover, text: str) -> None:
    services = _services(request)
    account = request[STAFF].account
    await services.dialogue.agent_says(h.user, account.display_name, text)
    async with services.db.begin() as conn:
        await audit(conn, account.username, "handover.say", h.id, chars=len(text))


@staff("agent")
@mine
async def say(request: web.Request) -> web.StreamResponse:
    h = request[HANDOVER]
    body = await read_model(request, SayIn, tx.MESSAGE_BODY)
    if not body.text.strip():
        refuse(400, "bad_request", tx.MESSAGE_BODY)
    await _say(request, h, body.text.strip())
    return web.json_response({"sent": True}, status=201)


@staff("agent")
@mine
async def handback(request: web.Request) -> web.StreamResponse:
    h = request[HANDOVER]
    body = await read_model(request, HandbackIn, tx.HANDBACK_BODY)
    services = _services(request)
    if await services.desk.close(h.id, _agent(request), "handed_back", f"交还机器人：{body.point}") is None:
        refuse(409, "not_yours", tx.HANDOVER_NOT_YOURS)
    await services.dialogue.agent_left(h.user, h.id, body.point)
    return web.json_response({"status": "closed", "point": body.point})


@staff("agent")
@mine
async def close(request: web.Request) -> web.StreamResponse:
    h = request[HANDOVER]
    body = await read_model(request, CloseIn, tx.CLOSE_BODY)
    if not body.summary.strip():
        refuse(400, "bad_request", tx.CLOSE_BODY)
    services = _services(request)
    if await services.desk.close(h.id, _agent(request), "closed", body.summary.strip()) is None:
        refuse(409, "not_yours", tx.HANDOVER_NOT_YOURS)
    await services.dialogue.agent_left(h.user, h.id, "none")
    return web.json_response({"status": "closed"})


@staff("agent")
@mine
async def release(request: web.Request) -> web.StreamResponse:
    h = request[HANDOVER]
    services = _services(request)
    if not await services.desk.release(h.id, _agent(request)):
        refuse(409, "not_yours", tx.HANDOVER_NOT_YOURS)
    await services.dialogue.agent_left(h.user, h.id, "none", requeued=True)
    return web.json_response({"status": "waiting"})


@staff("agent")
@mine
async def live(request: web.Request) -> web.StreamResponse:
    """The conversation as it happens; the agent's words come back the same way."""
    h = request[HANDOVER]
    services = _services(request)
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=8 * 1024)
    await ws.prepare(request)
    cursor = request.query.get("after", "")
    if not CURSOR.match(cursor):
        cursor = await services.conversation_log.last_id(h.user)

    async def follow() -> None:
        nonlocal cursor
        while not ws.closed:
            # shielded: cancelling a database write midway (the socket closed) makes SQLAlchemy throw the
            # connection away, and its cleanup task can outlive the loop; the write just finishes instead
            if not await asyncio.shield(services.desk.seen(h.id, _agent(request))):
                await ws.send_json({"type": "closed"})
                await ws.close()
                return
            for e in await services.conversation_log.after(h.user, cursor, block_ms=FOLLOW_BLOCK_MS):
                cursor = e.id
                await ws.send_json({"type": "entry", "entry": _entry(e)})

    follower = asyncio.create_task(follow())
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                said = SayIn.model_validate(loads(msg.data).get("say", {}))
            except (ValueError, ValidationError, AttributeError):
                await ws.send_json({"type": "error", "message": tx.MESSAGE_BODY})
                continue
            await _say(request, h, said.text.strip())
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await follower
    return ws


@staff("agent")
async def phone_draft(request: web.Request) -> web.StreamResponse:
    body = await read_model(request, PhoneDraftIn, tx.PHONE_DRAFT_BODY)
    services = _services(request)
    thing = services.catalog.get(body.thing)
    if thing is None:
        refuse(400, "bad_request", tx.PHONE_DRAFT_BODY)
    problem = mobile_problem(body.phone)
    if problem is not None:
        refuse(422, "invalid", tx.PHONE_DRAFT_PHONE.format(problem=problem))
    problems: dict[str, str] = {}
    for field_id, text in body.answers.items():
        f = field_of(thing, field_id)
        if f is None:
            problems[field_id] = citizen_tx.API_UNKNOWN_FIELD
            continue
        parsed = parse_value(f, text, services.dialogue.today())
        if not parsed.ok:
            problems[field_id] = citizen_tx.PROBLEM[parsed.problem].format(**parsed.params)
    if problems:
        return web.json_response(
            {"error": "invalid", "message": tx.PHONE_DRAFT_FIELDS, "problems": problems}, status=422
        )
    agent = _agent(request)
    draft_id, code = await services.phone_drafts.create(agent, thing.id, body.answers, body.phone)
    sms = "failed"
    if services.hotline is not None:
        try:
            text = citizen_tx.PHONE_CODE_SMS.format(name=thing.name, code=code)
            await services.hotline.send_sms(body.phone, text, message_id=f"phone-draft-{draft_id}")
            sms = "sent"
        except (HotlineUnavailable, HotlineRefused) as exc:
            log.warning("phone-draft SMS not sent: %s", exc)
    note = tx.PHONE_SMS_SENT if sms == "sent" else tx.PHONE_SMS_FAILED
    return web.json_response({"id": draft_id, "code": code, "sms": sms, "message": note}, status=201)


def setup(app: web.Application) -> None:
    app.router.add_get("/console/api/queue", queue)
    app.router.add_post("/console/api/handovers/{id}/claim", claim)
    app.router.add_get("/console/api/handovers/{id}", detail)
    app.router.add_post("/console/api/handovers/{id}/messages", say)
    app.router.add_post("/console/api/handovers/{id}/handback", handback)
    app.router.add_post("/console/api/handovers/{id}/close", close)
    app.router.add_post("/console/api/handovers/{id}/release", release)
    app.router.add_get("/console/ws/handovers/{id}", live)
    app.router.add_post("/console/api/phone-drafts", phone_draft)
