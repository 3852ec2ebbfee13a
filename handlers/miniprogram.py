"""The mini-program / 辽事通 API: knows its JSON and its login, nothing of the
dialogue. The contract is served as OpenAPI at /api/openapi.json
(``handlers/openapi.py``), and tests check responses against it.

POST /api/mp/login            {"code"} (wx.login) → {"token", "expires_in"}
POST /api/chat                {"text"} or {"choice"} → {"replies": [Reply…]}
GET  /api/me/applications     → {"applications": [...]}: per-item status
GET  /api/things/{id}/form    the merged form: fields, what is filled, what is missing
PUT  /api/things/{id}/draft   {"answers": {field: text}}: saved with the chat's validators
POST /api/things/{id}/submit  → 201 {"id"}, or 422 with what is missing
The form pages and the chat share one draft: a field filled in either shows in both.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from bot.crypto import InvalidToken
from bot.dialogue.messages import Inbound, Reply
from bot.outbox import RetryLater
from bot.texts import standard as tx
from handlers.auth import error
from handlers.keys import SERVICES
from handlers.services import Services

CHANNEL = "miniprogram"
TOKEN_SECONDS = 7200


class LoginIn(BaseModel):
    code: str = Field(min_length=1, max_length=128)


class LoginOut(BaseModel):
    token: str
    expires_in: int


class ChatIn(BaseModel):
    text: str = Field(default="", max_length=2000)
    choice: str | None = Field(default=None, max_length=64)


class ChatOut(BaseModel):
    replies: list[Reply]


class ItemStatus(BaseModel):
    key: str
    name: str
    status: str


class Application(BaseModel):
    id: str
    thing: str
    number: str | None
    status: str
    at: str
    items: list[ItemStatus]


class ApplicationsOut(BaseModel):
    applications: list[Application]


class ErrorOut(BaseModel):
    error: str
    message: str


class FormField(BaseModel):
    id: str
    label: str
    type: str
    required: bool
    help: str
    example: str
    options: list[str] | None
    in_play: bool  # its branch holds and an item still in play needs it
    value: str | int | float | bool | None


class FormOut(BaseModel):
    thing: str
    fields: list[FormField]
    missing: list[str]


class DraftIn(BaseModel):
    answers: dict[str, str] = Field(min_length=1, max_length=100)


class DraftOut(BaseModel):
    problems: dict[str, str]  # field id -> what is wrong, in the chat's words
    form: FormOut


class SubmitOut(BaseModel):
    id: str


class IncompleteOut(BaseModel):
    error: str
    message: str
    missing: list[str]


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


async def _json(request: web.Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(json.loads(await request.read() or b"null"))
    except (ValueError, ValidationError):
        return None


def _user(request: web.Request) -> str | web.Response:
    """The person behind the bearer token: ``mp:<openid>``."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token:
        return error(401, "login_required", tx.API_TOKEN_REQUIRED)
    try:
        claims = json.loads(_services(request).settings.vault().decrypt(token, ttl=TOKEN_SECONDS))
    except (InvalidToken, ValueError):
        return error(401, "token_expired", tx.API_TOKEN_EXPIRED)
    return f"mp:{claims['openid']}"


async def login(request: web.Request) -> web.StreamResponse:
    body = await _json(request, LoginIn)
    if body is None:
        return error(400, "bad_request", tx.API_LOGIN_CODE)
    services = _services(request)
    if services.wechat_api is None:
        return error(503, "login_unavailable", tx.API_LOGIN_UNAVAILABLE)
    try:
        session = await services.wechat_api.code2session(body.code)
    except RetryLater:
        return error(503, "login_unavailable", tx.API_LOGIN_UNAVAILABLE)
    if session is None:
        return error(401, "login_failed", tx.API_LOGIN_FAILED)
    # Fernet: signed, encrypted and time-stamped, so expiry needs no server state
    claims = {"openid": session.get("unionid") or session["openid"], "iat": int(time.time())}
    token = services.settings.vault().encrypt(json.dumps(claims))
    return web.json_response(LoginOut(token=token, expires_in=TOKEN_SECONDS).model_dump())


async def chat(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    if isinstance(user, web.Response):
        return user
    body = await _json(request, ChatIn)
    if body is None or (not body.text.strip() and not body.choice):
        return error(400, "bad_request", tx.API_CHAT_BODY)
    replies = await _services(request).dialogue.handle(
        Inbound(user=user, channel=CHANNEL, text=body.text, choice=body.choice)
    )
    return web.json_response(ChatOut(replies=replies).model_dump(mode="json"))


async def my_applications(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    if isinstance(user, web.Response):
        return user
    apps = await _services(request).applications.progress(user)
    return web.json_response(ApplicationsOut.model_validate({"applications": apps}).model_dump(mode="json"))


def setup(app: web.Application) -> None:
    app.router.add_post("/api/mp/login", login)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/me/applications", my_applications)
    app.router.add_get("/api/things/{id}/form", get_form)
    app.router.add_put("/api/things/{id}/draft", save_draft)
    app.router.add_post("/api/things/{id}/submit", submit)


def _thing(request: web.Request) -> str | web.Response:
    thing_id = request.match_info["id"]
    if _services(request).catalog.get(thing_id) is None:
        return error(404, "not_found", tx.API_THING_NOT_FOUND.format(id=thing_id))
    return thing_id


def _user_and_thing(request: web.Request) -> tuple[str, str] | web.Response:
    user = _user(request)
    if isinstance(user, web.Response):
        return user
    thing_id = _thing(request)
    return thing_id if isinstance(thing_id, web.Response) else (user, thing_id)


async def _form(services: Services, user: str, thing_id: str) -> FormOut:
    state = await services.dialogue.form_state(user, CHANNEL, thing_id)
    thing = services.catalog.things[thing_id]
    fields = [
        FormField(
            id=f.id, label=f.label, type=f.type.value, required=f.required, help=f.help, example=f.example,
            options=f.options, in_play=f.id in state["fields"], value=state["answers"].get(f.id),
        )
        for f in thing.form.fields
    ]  # fmt: skip
    return FormOut(thing=thing_id, fields=fields, missing=state["problems"])


async def get_form(request: web.Request) -> web.StreamResponse:
    who = _user_and_thing(request)
    if isinstance(who, web.Response):
        return who
    user, thing_id = who
    return web.json_response((await _form(_services(request), user, thing_id)).model_dump(mode="json"))


async def save_draft(request: web.Request) -> web.StreamResponse:
    who = _user_and_thing(request)
    if isinstance(who, web.Response):
        return who
    user, thing_id = who
    body = await _json(request, DraftIn)
    if body is None:
        return error(400, "bad_request", tx.API_FORM_BODY)
    services = _services(request)
    problems = await services.dialogue.fill(user, CHANNEL, thing_id, body.answers)
    out = DraftOut(problems=problems, form=await _form(services, user, thing_id))
    return web.json_response(out.model_dump(mode="json"))


async def submit(request: web.Request) -> web.StreamResponse:
    who = _user_and_thing(request)
    if isinstance(who, web.Response):
        return who
    user, thing_id = who
    app_id, missing = await _services(request).dialogue.submit_form(user, CHANNEL, thing_id)
    if app_id is None:
        body = IncompleteOut(error="incomplete", message=tx.API_FORM_INCOMPLETE, missing=missing)
        return web.json_response(body.model_dump(), status=422)
    return web.json_response(SubmitOut(id=app_id).model_dump(), status=201)
