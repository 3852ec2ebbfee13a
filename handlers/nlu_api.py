"""The admin API of the NLU, for console accounts with the ``admin`` role
(login cookie; CSRF token on every change, see ``handlers/console/guard.py``).

POST   /api/admin/nlu/parse                  {"text"}: Rasa-shaped parse
GET    /api/admin/nlu/intents                intents with example counts
GET    /api/admin/nlu/examples?intent=X      examples
POST   /api/admin/nlu/examples               {"intent", "text"} -> 201
PUT    /api/admin/nlu/examples/{id}          {"intent"?, "text"?}
DELETE /api/admin/nlu/examples/{id}
GET    /api/admin/nlu/fallbacks?all=1        utterances that fell back (masked)
POST   /api/admin/nlu/fallbacks/{id}/label   {"intent"}: becomes an example
POST   /api/admin/nlu/models                 retrain; evaluation against the active model
GET    /api/admin/nlu/models                 versions
POST   /api/admin/nlu/models/{v}/activate    {"force"?}
POST   /api/admin/nlu/models/rollback
GET    /api/admin/nlu/export                 the data as Rasa YAML (nlu_data/ format)

Who made a change is the logged-in account, in the audit log.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.nlu.data import dump, parse_example
from bot.nlu.store import DuplicateExample, NotFound
from bot.nlu.training import ActivationRefused
from bot.texts import standard as tx
from handlers.auth import error
from handlers.console.guard import STAFF, staff
from handlers.keys import SERVICES
from handlers.services import Services

MAX_TEXT = 500
_NEW_INTENT = re.compile(r"^thing_[a-z][a-z0-9_]{1,40}$")


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


def _actor(request: web.Request) -> str:
    return request[STAFF].account.username


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, "bad_json", tx.API_BAD_JSON)
    if not isinstance(body, dict):
        return error(400, "bad_json", tx.API_BAD_JSON)
    return body


def _int(request: web.Request, name: str) -> int | None:
    try:
        return int(request.match_info[name])
    except ValueError:
        return None


async def _seeded(services: Services) -> None:
    """The database starts as a copy of nlu_data/ as shipped."""
    await services.nlu_store.seed_if_empty(services.nlu_trainer.shipped)


async def _valid_intent(services: Services, intent: Any) -> bool:
    if not isinstance(intent, str):
        return False
    known = {i["intent"] for i in await services.nlu_store.intents()}
    return intent in known or bool(_NEW_INTENT.match(intent))


def _valid_text(text: Any) -> bool:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return False
    return bool(parse_example(text.strip(), "x").text.strip())


@staff("admin")
async def parse(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return error(400, "bad_text", tx.API_TEXT_REQUIRED)
    return web.json_response(await _services(request).nlu.parse(text, channel="admin"))


@staff("admin")
async def list_intents(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    return web.json_response({"intents": await services.nlu_store.intents()})


@staff("admin")
async def list_examples(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    return web.json_response({"examples": await services.nlu_store.examples(request.query.get("intent"))})


@staff("admin")
async def add_example(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    if not await _valid_intent(services, body.get("intent")):
        return error(400, "bad_intent", tx.API_BAD_INTENT)
    if not _valid_text(body.get("text")):
        return error(400, "bad_text", tx.API_EXAMPLE_TEXT)
    try:
        example_id = await services.nlu_store.add_example(body["intent"], body["text"].strip(), _actor(request))
    except DuplicateExample:
        return error(409, "duplicate", tx.API_DUPLICATE_EXAMPLE)
    return web.json_response({"id": example_id}, status=201)


@staff("admin")
async def edit_example(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    example_id = _int(request, "id")
    intent, text = body.get("intent"), body.get("text")
    if intent is not None and not await _valid_intent(services, intent):
        return error(400, "bad_intent", tx.API_BAD_INTENT)
    if text is not None and not _valid_text(text):
        return error(400, "bad_text", tx.API_EXAMPLE_TEXT)
    if example_id is None:
        return error(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["id"]))
    try:
        await services.nlu_store.update_example(example_id, _actor(request), intent, text.strip() if text else None)
    except NotFound:
        return error(404, "not_found", tx.API_NOT_FOUND.format(what=example_id))
    except DuplicateExample:
        return error(409, "duplicate", tx.API_DUPLICATE_EXAMPLE)
    return web.json_response({"id": example_id})


@staff("admin")
async def remove_example(request: web.Request) -> web.StreamResponse:
    example_id = _int(request, "id")
    try:
        if example_id is None:
            raise NotFound(request.match_info["id"])
        await _services(request).nlu_store.delete_example(example_id, _actor(request))
    except NotFound:
        return error(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["id"]))
    return web.json_response({"id": example_id})


@staff("admin")
async def list_fallbacks(request: web.Request) -> web.StreamResponse:
    rows = await _services(request).nlu_store.fallbacks(unlabelled_only=request.query.get("all") != "1")
    return web.json_response({"fallbacks": rows})


@staff("admin")
async def label_fallback(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    if not await _valid_intent(services, body.get("intent")):
        return error(400, "bad_intent", tx.API_BAD_INTENT)
    fallback_id = _int(request, "id")
    try:
        if fallback_id is None:
            raise NotFound(request.match_info["id"])
        example_id = await services.nlu_store.label_fallback(fallback_id, body["intent"], _actor(request))
    except NotFound:
        return error(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["id"]))
    except DuplicateExample:
        return error(409, "duplicate", tx.API_DUPLICATE_EXAMPLE)
    return web.json_response({"example_id": example_id}, status=201)


@staff("admin")
async def retrain(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    try:
        result = await services.nlu_trainer.retrain(_actor(request))
    except ValueError as exc:  # e.g. an intent with too few examples
        return error(422, "training_failed", tx.API_TRAINING_FAILED.format(reason=exc))
    return web.json_response(result, status=201)


@staff("admin")
async def list_models(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    models = [m.public() for m in await services.nlu_store.models()]
    return web.json_response({"models": models, "in_use": services.nlu.version})


@staff("admin")
async def activate(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    body: dict[str, Any] = {}
    if request.can_read_body:
        parsed = await _body(request)
        if isinstance(parsed, web.Response):
            return parsed
        body = parsed
    version = _int(request, "version")
    try:
        if version is None:
            raise NotFound(request.match_info["version"])
        result = await services.nlu_trainer.activate(version, _actor(request), force=body.get("force") is True)
    except NotFound:
        return error(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["version"]))
    except ActivationRefused as exc:
        message = tx.API_ACTIVATION_REFUSED.format(drop=exc, margin=services.nlu_trainer.margin)
        return error(409, "accuracy_drop", message)
    return web.json_response(result)


@staff("admin")
async def rollback(request: web.Request) -> web.StreamResponse:
    try:
        result = await _services(request).nlu_trainer.rollback(_actor(request))
    except LookupError:
        return error(409, "no_previous", tx.API_NO_ROLLBACK)
    return web.json_response(result)


@staff("admin")
async def export(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    data = await services.nlu_store.training_data(services.nlu_trainer.shipped)
    return web.Response(text=dump(data), content_type="application/x-yaml", charset="utf-8")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/admin/nlu/parse", parse)
    r.add_get("/api/admin/nlu/intents", list_intents)
    r.add_get("/api/admin/nlu/examples", list_examples)
    r.add_post("/api/admin/nlu/examples", add_example)
    r.add_put("/api/admin/nlu/examples/{id}", edit_example)
    r.add_delete("/api/admin/nlu/examples/{id}", remove_example)
    r.add_get("/api/admin/nlu/fallbacks", list_fallbacks)
    r.add_post("/api/admin/nlu/fallbacks/{id}/label", label_fallback)
    r.add_post("/api/admin/nlu/models", retrain)
    r.add_get("/api/admin/nlu/models", list_models)
    r.add_post("/api/admin/nlu/models/rollback", rollback)
    r.add_post("/api/admin/nlu/models/{version}/activate", activate)
    r.add_get("/api/admin/nlu/export", export)
