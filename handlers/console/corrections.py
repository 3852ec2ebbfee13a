"""Agents teach the NLU too: on a line the person said in the conversation they
hold, an agent marks the intent it should have been (标注意图). The line is
taken from the conversation's own log (not from the request, so nothing but
what the person said gets in), masked like the console shows it, and lands in
the admins' inbox (``nlu_fallbacks``, ``source="agent"``) with the agent's
suggestion; audited.

GET  /console/api/intents                        the intents a line can be marked with, with names
POST /console/api/handovers/{id}/corrections     {"entry", "intent"} → 201 {"id", "merged", "message"}
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from bot.handover.log import CURSOR
from bot.masking import mask_text
from bot.texts import staff as tx
from handlers.auth import error, loads, read_body
from handlers.console.agent import HANDOVER, mine
from handlers.console.guard import STAFF, staff
from handlers.keys import SERVICES
from handlers.nlu_api import intent_name
from handlers.services import Services


class CorrectionIn(BaseModel):
    entry: str = Field(min_length=1, max_length=32)  # the log's id of the person's line
    intent: str = Field(min_length=1, max_length=64)


async def _intents(services: Services) -> list[str]:
    """The admins' working set when there is one, else nlu_data/ as shipped."""
    return [i["intent"] for i in await services.nlu_store.intents()] or services.nlu_trainer.shipped.intents


@staff("agent")
async def intents(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    names = [{"intent": i, "name": intent_name(services, i)} for i in await _intents(services)]
    return web.json_response({"intents": names})


@staff("agent")
@mine
async def correct(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    h = request[HANDOVER]
    try:
        body = CorrectionIn.model_validate(loads(await read_body(request) or b"null"))
    except (ValueError, ValidationError):
        return error(400, "bad_request", tx.CORRECTION_BODY)
    if not CURSOR.match(body.entry) or body.entry == "0":
        return error(400, "bad_request", tx.CORRECTION_BODY)
    if body.intent not in await _intents(services):
        return error(400, "bad_intent", tx.CORRECTION_INTENT.format(intent=body.intent))
    said = next((e for e in await services.conversation_log.history(h.user) if e.id == body.entry), None)
    text = mask_text(said.text).strip() if said is not None and said.role == "citizen" else ""
    if not text:
        return error(422, "not_citizen", tx.CORRECTION_ENTRY)
    agent = request[STAFF].account.username
    fallback_id, merged = await services.nlu_store.record_correction(h.channel, text, body.intent, agent, h.id)
    return web.json_response({"id": fallback_id, "merged": merged, "message": tx.CORRECTION_SAVED}, status=201)


def setup(app: web.Application) -> None:
    app.router.add_get("/console/api/intents", intents)
    app.router.add_post("/console/api/handovers/{id}/corrections", correct)
