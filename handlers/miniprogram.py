"""The mini-program / 辽事通 API: knows its JSON and its login, nothing of the
dialogue. The contract is served as OpenAPI at /api/openapi.json
(``handlers/openapi.py``), and tests check responses against it.

POST /api/mp/login            {"code", "identity"?} (wx.login; 辽事通's signed 实名) → {"token", …}
POST /api/chat                {"text"} or {"choice"} → {"replies": [Reply…], "cursor"}
GET  /api/chat/updates?after= what came outside a turn (an agent's words …), long poll → {"updates", "cursor"}
GET  /api/me/applications     → {"applications": [...]}: per-item status, finished, rating
POST /api/me/applications/{id}/rating   {"score": 1-5, "criteria"?, "comment"?} (好差评 when finished; again: 追评)
POST /api/me/subscriptions    what wx.requestSubscribeMessage answered → grants recorded
GET  /api/things/{id}/form    the merged form: fields, what is filled, what is missing
PUT  /api/things/{id}/draft   {"answers": {field: text}}: saved with the chat's validators
POST /api/things/{id}/submit  → 201 {"id"}, or 422 with what is missing
The form pages and the chat share one draft: a field filled in either shows in both.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from functools import wraps
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, Field

from bot.applications.ratings import FINISHED, LEVELS, Rated
from bot.crypto import InvalidToken
from bot.dialogue.messages import Inbound, Reply
from bot.handover.log import CURSOR
from bot.handover.polls import unless_ended
from bot.outbox import RetryLater
from bot.people.ref import MINIPROGRAM, UserRef
from bot.settings import Settings
from bot.texts import standard as tx
from bot.validators import id_card_problem
from handlers.auth import Handler, read_model, refuse
from handlers.keys import SERVICES
from handlers.services import Services

CHANNEL = "miniprogram"
TOKEN_SECONDS = 7200


def _encodable(text: str) -> str:
    text.encode()  # JSON's \ud800 escapes carry lone surrogates, which no UTF-8 (nor an HMAC over it) can hold
    return text


Text = Annotated[str, AfterValidator(_encodable)]


class IdentityVoucher(BaseModel):
    """辽事通's word for who is logged in (实名认证): HMAC-SHA256, hex, of
    ``"{id_number}|{name}|{issued_at}|{code}"`` under the key shared with 辽事通, ``code`` being the
    login code it comes with: a voucher is for that one login, once."""

    name: Text = Field(min_length=1, max_length=30)
    id_number: Text = Field(min_length=18, max_length=18)
    issued_at: int  # Unix seconds
    signature: Text = Field(min_length=64, max_length=64)


class LoginIn(BaseModel):
    code: str = Field(min_length=1, max_length=128)
    identity: IdentityVoucher | None = None  # only from 辽事通; absent in WeChat


class LoginOut(BaseModel):
    token: str
    expires_in: int
    verified: bool = False  # a real-name identity came with the login and will fill the applicant's part


class GrantsIn(BaseModel):
    """What wx.requestSubscribeMessage answered, per template id."""

    results: dict[str, Literal["accept", "reject", "ban", "filter"]] = Field(min_length=1, max_length=3)


class GrantsOut(BaseModel):
    granted: dict[str, int]  # template id -> messages it now allows


Score = Annotated[int, Field(ge=1, le=5)]


class RatingIn(BaseModel):
    """好差评 on the five national levels: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意."""

    score: Score
    criteria: dict[Literal["overall", "efficiency", "guide_accuracy", "convenience", "usability"], Score] = {}
    comment: str = Field(default="", max_length=500)


class RatingOut(BaseModel):
    application: str
    score: int
    level: str  # the score's name: 非常满意 … 非常不满意
    follow_up: bool  # a later rating of the same application (追评)
    called_back: bool  # 差评: 12345 will call back within one working day


class ChatIn(BaseModel):
    text: str = Field(default="", max_length=2000)
    choice: str | None = Field(default=None, max_length=64)


class ChatOut(BaseModel):
    replies: list[Reply]
    style: Literal["standard", "elderly", "voice"]  # the assistant's wording now: lay the page out to match
    cursor: str = "0"  # follow /api/chat/updates from here for what comes outside a turn


class Update(BaseModel):
    id: str
    role: Literal["agent", "bot", "system"]
    text: str
    agent: str = ""


class UpdatesOut(BaseModel):
    updates: list[Update]  # a hotline agent's words, the bot resuming after them, notices about the queue
    cursor: str


class ItemStatus(BaseModel):
    key: str
    name: str
    status: str  # 待报送 / 已受理 / 审批中 / 需补正 / 已办结 / 不予受理
    note: str = ""
    detail: dict[str, Any] = {}  # 需补正: missing, reason, deadline; 已办结: delivery


class Application(BaseModel):
    id: str
    thing: str
    number: str | None
    status: str
    at: str
    items: list[ItemStatus]
    finished: bool  # every item decided: it may be rated
    rating: int | None  # the person's score, once rated


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


CLAIMS = web.RequestKey("citizen_claims", dict)


def citizen(handler: Handler) -> Handler:
    """The bearer-token door of the mini-program's routes (as ``@staff`` is the consoles'): the
    token's claims in ``request[CLAIMS]``, or a 401."""

    @wraps(handler)
    async def door(request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token:
            refuse(401, "login_required", tx.API_TOKEN_REQUIRED)
        try:
            claims = json.loads(_services(request).settings.vault().redeem(token, ttl=TOKEN_SECONDS))
        except (InvalidToken, ValueError):
            refuse(401, "token_expired", tx.API_TOKEN_EXPIRED)
        request[CLAIMS] = dict(claims)
        return await handler(request)

    return door


def _user(request: web.Request) -> str:
    """The person behind the bearer token."""
    return str(UserRef(MINIPROGRAM, request[CLAIMS]["openid"]))


def _voucher_problem(settings: Settings, v: IdentityVoucher, code: str) -> str | None:
    key = settings.liaoshitong_identity_key.get_secret_value().encode()
    signed = f"{v.id_number}|{v.name}|{v.issued_at}|{code}".encode("utf-8", "surrogatepass")
    expected = hmac.new(key, signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), v.signature.lower().encode()):  # str: ASCII only, else TypeError
        return tx.API_IDENTITY_SIGNATURE
    if abs(time.time() - v.issued_at) > settings.identity_voucher_max_age_seconds:
        return tx.API_IDENTITY_EXPIRED
    if id_card_problem(v.id_number.upper()) is not None:
        return tx.API_IDENTITY_SIGNATURE  # signed, yet not an ID number: not 辽事通's doing
    return None


async def _voucher_spent(services: Services, v: IdentityVoucher) -> bool:
    """Whether this voucher was used before (a voucher logs in once; kept while it could be fresh)."""
    seen = "idv:" + hashlib.sha256(v.signature.lower().encode()).hexdigest()[:32]
    window = 2 * services.settings.identity_voucher_max_age_seconds
    return not await services.redis.set(seen, "1", nx=True, ex=window)


async def login(request: web.Request) -> web.StreamResponse:
    body = await read_model(request, LoginIn, tx.API_LOGIN_CODE)
    services = _services(request)
    if body.identity is not None:
        problem = _voucher_problem(services.settings, body.identity, body.code)
        if problem is None and await _voucher_spent(services, body.identity):
            problem = tx.API_IDENTITY_USED
        if problem is not None:
            refuse(401, "identity_refused", problem)
    if services.miniprogram_api is None:
        refuse(503, "login_unavailable", tx.API_LOGIN_UNAVAILABLE)
    try:
        session = await services.miniprogram_api.code2session(body.code)
    except RetryLater:
        refuse(503, "login_unavailable", tx.API_LOGIN_UNAVAILABLE)
    if session is None:
        refuse(401, "login_failed", tx.API_LOGIN_FAILED)
    # Fernet: signed, encrypted and time-stamped, so expiry needs no server state
    claims: dict[str, Any] = {"openid": session.get("unionid") or session["openid"], "iat": int(time.time())}
    if body.identity is not None:  # the token is encrypted: the identity stays unreadable to the client
        claims["verified"] = {"name": body.identity.name, "id_number": body.identity.id_number.upper()}
    token = services.settings.vault().issue(json.dumps(claims, ensure_ascii=False))
    out = LoginOut(token=token, expires_in=TOKEN_SECONDS, verified=body.identity is not None)
    return web.json_response(out.model_dump())


@citizen
async def chat(request: web.Request) -> web.StreamResponse:
    claims = request[CLAIMS]
    body = await read_model(request, ChatIn, tx.API_CHAT_BODY)
    if not body.text.strip() and not body.choice:
        refuse(400, "bad_request", tx.API_CHAT_BODY)
    metadata = {"verified": claims["verified"]} if "verified" in claims else {}
    services = _services(request)
    user = _user(request)
    result = await services.dialogue.turn(
        Inbound(user=user, channel=CHANNEL, text=body.text, choice=body.choice, metadata=metadata)
    )
    cursor = result.cursor or await services.conversation_log.last_id(user)
    out = ChatOut(replies=result.replies, style=result.style, cursor=cursor)
    return web.json_response(out.model_dump(mode="json"))


UPDATES_WAIT_SECONDS = 20  # a long poll: the page asks again at once after each answer
UPDATES_BLOCK_MS = 3000  # one blocking read; a poll another process superseded ends within it


@citizen
async def updates(request: web.Request) -> web.StreamResponse:
    """What reached the person outside their own turns since ``after`` (long poll)."""
    user = _user(request)
    after = request.query.get("after", "0")
    if not (after.isascii() and CURSOR.fullmatch(after)):  # CURSOR's \d and $ let other digits and a "\n" by
        refuse(400, "bad_request", tx.API_CURSOR)
    services = _services(request)
    log = services.conversation_log
    loop = asyncio.get_running_loop()
    until = loop.time() + UPDATES_WAIT_SECONDS
    async with services.polls.hold(user) as poll:
        while True:
            read = asyncio.ensure_future(log.after(user, after, block_ms=UPDATES_BLOCK_MS))
            if not await unless_ended(poll, read) or await poll.superseded(services.waiting_redis):
                refuse(409, "superseded", tx.API_POLL_SUPERSEDED)
            entries = read.result()
            if entries:
                after = entries[-1].id
            pushed = [Update(id=e.id, role=e.role, text=e.text, agent=e.agent) for e in entries if e.pushed]
            if pushed or loop.time() >= until:
                return web.json_response(UpdatesOut(updates=pushed, cursor=after).model_dump(mode="json"))


@citizen
async def my_applications(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    services = _services(request)
    apps = await services.applications.progress(user)
    rated = await services.ratings.of(user)
    for a in apps:
        a["finished"] = bool(a["items"]) and all(i["status"] in FINISHED for i in a["items"])
        a["rating"] = rated.get(a["id"])
    return web.json_response(ApplicationsOut.model_validate({"applications": apps}).model_dump(mode="json"))


@citizen
async def record_grants(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    body = await read_model(request, GrantsIn, tx.API_GRANTS_BODY)
    services = _services(request)
    known = {services.settings.miniprogram_progress_template}
    unknown = set(body.results) - known
    if unknown:
        refuse(400, "unknown_template", tx.API_GRANTS_UNKNOWN)
    granted = await services.contacts.record_grants(user, body.results)
    return web.json_response(GrantsOut(granted=granted).model_dump())


@citizen
async def rate(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    body = await read_model(request, RatingIn, tx.API_RATING_BODY)
    app_id = request.match_info["id"]
    rating = await _services(request).ratings.rate(
        user, app_id, body.score, body.comment.strip(), {str(k): v for k, v in body.criteria.items()}
    )
    if rating.outcome is Rated.not_found:
        refuse(404, "not_found", tx.API_APPLICATION_NOT_FOUND)
    if rating.outcome is Rated.not_finished:
        refuse(409, "not_finished", tx.API_RATING_NOT_FINISHED)
    out = RatingOut(
        application=app_id,
        score=body.score,
        level=LEVELS[body.score],
        follow_up=rating.follow_up,
        called_back=rating.work_order is not None,
    )
    return web.json_response(out.model_dump(), status=201)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/mp/login", login)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/chat/updates", updates)
    app.router.add_get("/api/me/applications", my_applications)
    app.router.add_post("/api/me/applications/{id}/rating", rate)
    app.router.add_post("/api/me/subscriptions", record_grants)
    app.router.add_get("/api/things/{id}/form", get_form)
    app.router.add_put("/api/things/{id}/draft", save_draft)
    app.router.add_post("/api/things/{id}/submit", submit)


def _thing(request: web.Request) -> str:
    thing_id = request.match_info["id"]
    if _services(request).catalog.get(thing_id) is None:
        refuse(404, "not_found", tx.API_THING_NOT_FOUND.format(id=thing_id))
    return thing_id


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


@citizen
async def get_form(request: web.Request) -> web.StreamResponse:
    user, thing_id = _user(request), _thing(request)
    return web.json_response((await _form(_services(request), user, thing_id)).model_dump(mode="json"))


@citizen
async def save_draft(request: web.Request) -> web.StreamResponse:
    user, thing_id = _user(request), _thing(request)
    body = await read_model(request, DraftIn, tx.API_FORM_BODY)
    services = _services(request)
    problems = await services.dialogue.fill(user, CHANNEL, thing_id, body.answers)
    out = DraftOut(problems=problems, form=await _form(services, user, thing_id))
    return web.json_response(out.model_dump(mode="json"))


@citizen
async def submit(request: web.Request) -> web.StreamResponse:
    user, thing_id = _user(request), _thing(request)
    app_id, missing = await _services(request).dialogue.submit_form(user, CHANNEL, thing_id)
    if app_id is None:
        body = IncompleteOut(error="incomplete", message=tx.API_FORM_INCOMPLETE, missing=missing)
        return web.json_response(body.model_dump(), status=422)
    return web.json_response(SubmitOut(id=app_id).model_dump(), status=201)
