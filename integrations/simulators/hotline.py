"""Simulator of the 12345 政务服务便民热线 platform: the contract of
docs/hotline-api.md over real HTTP, persistent (SQLite file), with work orders
that progress on their own (已受理 → 已派单 → 办理中 every ``pace`` seconds),
signed status callbacks retried with backoff (optionally duplicated and out of
order), SMS and voice calls, and injectable failures. See the doc for the
``/_sim`` controls.

It keeps phone numbers masked only: nothing it stores or shows carries a
full number, as a test double of a system holding personal data should."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import random
import re
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from aiohttp import web
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, ValidationError

from integrations.hotline import SIGNATURE_HEADER, TIMESTAMP_HEADER, AppealKind, Channel, OrderStatus, sign
from integrations.simulators.callbacks import SignedPoster, running

log = logging.getLogger(__name__)

CST = timezone(timedelta(hours=8), "CST")  # the platform's clock: numbers and deadlines are Beijing dates
FLOW = {"已受理": "已派单", "已派单": "办理中"}  # what the pacer does; 办结 and 回访 come from /_sim/outcome
CLOSED = ("已办结", "已回访")  # no supplement is taken any more: a new matter is a new order
MAX_TEXT = 500  # SMS and TTS text, characters
MAX_CONTEXT = 20_000  # serialised characters

# Default 办理时限 in working days (Mon–Fri; no holiday calendar) when the caller
# sends none. Placeholder values of the simulator, NOT an official Liaoning rule:
# callers that must meet a rule pass ``deadline`` themselves.
DEADLINE_WORKING_DAYS = {"咨询": 1, "求助": 5, "投诉": 1, "举报": 15, "建议": 15, "表扬": 5}

LIAONING_CITIES = ("沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳", "盘锦", "铁岭",
                   "朝阳", "葫芦岛")  # fmt: skip
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (number TEXT PRIMARY KEY, external_id TEXT UNIQUE NOT NULL, channel TEXT NOT NULL,
  kind TEXT NOT NULL, citizen_name TEXT NOT NULL, confidential INTEGER NOT NULL, phone TEXT NOT NULL,
  content TEXT NOT NULL, region TEXT NOT NULL, application_number TEXT, department TEXT NOT NULL,
  accepted_at TEXT NOT NULL, deadline TEXT NOT NULL, context TEXT NOT NULL, callback_url TEXT,
  status TEXT NOT NULL, result TEXT, feedback TEXT, seq INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, number TEXT NOT NULL, body TEXT NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
  last_error TEXT);
CREATE TABLE IF NOT EXISTS supplements (supplement_id TEXT PRIMARY KEY, number TEXT NOT NULL, content TEXT NOT NULL,
  at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sms (receipt_id TEXT PRIMARY KEY, message_id TEXT UNIQUE NOT NULL, phone TEXT NOT NULL,
  text TEXT NOT NULL, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, message_id TEXT UNIQUE NOT NULL, phone TEXT NOT NULL,
  text TEXT NOT NULL, status TEXT NOT NULL, placed_at TEXT NOT NULL, placed_ts REAL NOT NULL, ended_at TEXT);
"""

_ORDER_COLUMNS = ("number, external_id, channel, kind, citizen_name, confidential, phone, content, region, "
                  "application_number, department, accepted_at, deadline, context, status, result, feedback, seq, "
                  "updated_at")  # fmt: skip


# ---- what requests must look like ------------------------------------------------


def _key(value: str) -> str:
    if not KEY.fullmatch(value):
        raise ValueError("1–64 characters of A–Z a–z 0–9 _ . : -")
    return value


def _phone(value: str) -> str:
    if not (MOBILE.fullmatch(value) or LANDLINE.fullmatch(value)):
        raise ValueError("a mobile number (11 digits) or a landline with its area code (024-12345678)")
    return value


def _mobile(value: str) -> str:
    if not MOBILE.fullmatch(value):
        raise ValueError("SMS goes to mobile numbers only (11 digits, 1[3-9]…)")
    return value


def _region(value: str) -> str:
    if not (value.startswith("辽宁省") or any(value.startswith(c) for c in LIAONING_CITIES)):
        raise ValueError("a place in Liaoning, city first: 沈阳市和平区")
    return value


def _context(value: Any) -> Any:
    if value is not None and len(json.dumps(value, ensure_ascii=False)) > MAX_CONTEXT:
        raise ValueError(f"at most {MAX_CONTEXT} characters once serialised")
    return value


class _In(BaseModel):
    # unknown fields are refused: a simulator stricter than the real thing catches our typos
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrderIn(_In):
    external_id: Annotated[str, AfterValidator(_key)]
    channel: Channel
    kind: AppealKind
    citizen_name: str = Field(min_length=1, max_length=50)
    confidential: StrictBool = False
    phone: Annotated[str, AfterValidator(_phone)]
    content: str = Field(min_length=1, max_length=2000)
    region: Annotated[str, Field(max_length=50), AfterValidator(_region)]
    department: str = Field(min_length=1, max_length=100)
    application_number: str | None = Field(None, pattern=r"^SB\d{14}$")
    deadline: AwareDatetime | None = None
    context: Annotated[dict[str, Any] | str | None, AfterValidator(_context)] = None
    callback_url: str | None = Field(None, pattern=r"^https?://\S+$", max_length=500)


class SupplementIn(_In):
    supplement_id: Annotated[str, AfterValidator(_key)]
    content: str = Field(min_length=1, max_length=2000)


class SmsIn(_In):
    phone: Annotated[str, AfterValidator(_mobile)]
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    message_id: Annotated[str, AfterValidator(_key)]


class CallIn(_In):
    phone: Annotated[str, AfterValidator(_phone)]
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    message_id: Annotated[str, AfterValidator(_key)]


class FaultsIn(_In):
    failure_rate: float = Field(0.0, ge=0.0, le=1.0)
    delay_seconds: float = Field(0.0, ge=0.0, le=60.0)
    outage: StrictBool = False
    duplicate_callbacks: StrictBool = False
    shuffle_callbacks: StrictBool = False


class OutcomeIn(_In):
    number: str
    status: OrderStatus
    result: str | None = Field(None, min_length=1, max_length=2000)
    feedback: str | None = Field(None, min_length=1, max_length=2000)


class CallOutcomeIn(_In):
    call_id: str
    outcome: Literal["answered", "no_answer", "busy"]  # how the call ended


T = TypeVar("T", bound=BaseModel)


def _error(status: int, error: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


def _invalid(exc: ValidationError) -> web.Response:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
        if e["loc"]
        else {"field": "(body)", "message": "must be a JSON object"}
        for e in exc.errors()
    ]
    first = problems[0]
    if any(p["field"] == "text" and "at most" in p["message"] for p in problems):
        return _error(422, "text_too_long", f"text: at most {MAX_TEXT} characters", errors=problems)
    return _error(422, "invalid", f"{first['field']}: {first['message']}", errors=problems)


async def _body(request: web.Request, model: type[T]) -> T | web.Response:
    raw = await request.read()
    try:
        data = json.loads(raw)
    except ValueError:
        return _error(400, "bad_request", "body is not JSON")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return _invalid(exc)


@web.middleware
async def _json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """aiohttp's own refusals (unknown path, wrong method, body too large) as JSON like ours."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)


def mask_phone(phone: str) -> str:
    """138****1234; 024-****5678: the first three and last four characters kept."""
    return "".join("*" if 3 <= i < len(phone) - 4 and ch.isdigit() else ch for i, ch in enumerate(phone))


def mask_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1)


class HotlineSim:
    def __init__(
        self,
        db_path: Path | str,
        api_key: str,
        callback_secret: str,
        pace: float = 30.0,
        *,
        call_seconds: float = 5.0,
        retry_base: float = 1.0,
        tick: float = 0.2,
        seed: int = 12345,
    ) -> None:
        """``pace``: seconds between two automatic steps of every open order (0: never);
        ``call_seconds``: a call rings this long before it is answered (unless
        ``/_sim/calls`` says otherwise); ``retry_base``: first callback retry delay,
        doubled each failure up to 300 s; ``tick``: how often the background loop looks."""
        if str(db_path) != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
        # WAL, synced at checkpoints: a busy hotline should not wait on the disk for every SMS
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.api_key = api_key
        self.secret = callback_secret
        self.pace = pace
        self.call_seconds = call_seconds
        self.retry_base = retry_base
        self.tick = tick
        self.faults = FaultsIn()
        self.rng = random.Random(seed)
        self.poster = SignedPoster(self.secret, sign, TIMESTAMP_HEADER, SIGNATURE_HEADER)
        self._delivering = asyncio.Lock()  # the loop and a test may both deliver: never the same event twice

    # ---- the contract -----------------------------------------------------

    async def _gate(self, request: web.Request) -> web.Response | None:
        """Authentication, then whatever failure the tests asked for."""
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            return _error(401, "unauthorized", "Authorization: Bearer <key> missing or wrong")
        if self.faults.outage:
            return _error(503, "unavailable", "outage")
        if self.faults.failure_rate and self.rng.random() < self.faults.failure_rate:
            return _error(503, "unavailable", "try again later")
        if self.faults.delay_seconds:
            await asyncio.sleep(self.faults.delay_seconds)
        return None

    async def create_order(self, request: web.Request) -> web.StreamResponse:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        body = await _body(request, OrderIn)
        if isinstance(body, web.Response):
            return body
        now = _now()
        if body.deadline is not None and body.deadline <= now:
            return _error(422, "invalid", "deadline: must be in the future")
        # no await from here to the INSERT: the check and the write are one step
        seen = self._order_row("external_id", body.external_id)
        if seen is not None:
            return web.json_response(_order_json(seen), status=200)
        number = self._next_id("orders", "number", "GD", now)
        deadline = body.deadline or _add_working_days(now, DEADLINE_WORKING_DAYS[body.kind])
        self.db.execute("BEGIN")
        self.db.execute(
            f"INSERT INTO orders ({_ORDER_COLUMNS}, callback_url) VALUES ({', '.join('?' * 20)})",
            (number, body.external_id, body.channel, body.kind, body.citizen_name, int(body.confidential),
             mask_phone(body.phone), body.content, body.region, body.application_number, body.department,
             _iso(now), _iso(deadline), json.dumps(body.context, ensure_ascii=False), "已受理", None, None, 1,
             _iso(now), body.callback_url),
        )  # fmt: skip
        self._event(number, 1)
        self.db.execute("COMMIT")
        row = self._order_row("number", number)
        assert row is not None
        return web.json_response(_order_json(row), status=201)

    async def read_order(self, request: web.Request) -> web.StreamResponse:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        row = self._order_row("number", request.match_info["number"])
        if row is None:
            return _error(404, "not_found", "no such work order")
        return web.json_response(_order_json(row))

    async def add_supplement(self, request: web.Request) -> web.StreamResponse:
        """补充诉求: more words from the citizen on an open order (a later 差评 of the same application)."""
        refused = await self._gate(request)
        if refused is not None:
            return refused
        body = await _body(request, SupplementIn)
        if isinstance(body, web.Response):
            return body
        number = request.match_info["number"]
        seen = self.db.execute("SELECT * FROM supplements WHERE supplement_id = ?", (body.supplement_id,)).fetchone()
        if seen is not None:
            return web.json_response(_supplement_json(seen), status=200)
        row = self._order_row("number", number)
        if row is None:
            return _error(404, "not_found", "no such work order")
        if row[14] in CLOSED:
            return _error(409, "closed", f"the order is {row[14]}: open a new one")
        added = (body.supplement_id, number, body.content, _iso(_now()))
        self.db.execute("INSERT INTO supplements VALUES (?, ?, ?, ?)", added)
        return web.json_response(_supplement_json(added), status=201)

    async def send_sms(self, request: web.Request) -> web.StreamResponse:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        body = await _body(request, SmsIn)
        if isinstance(body, web.Response):
            return body
        seen = self.db.execute("SELECT * FROM sms WHERE message_id = ?", (body.message_id,)).fetchone()
        if seen is not None:
            return web.json_response(_sms_json(seen), status=200)
        now = _now()
        receipt = (self._next_id("sms", "receipt_id", "SM", now), body.message_id, mask_phone(body.phone),
                   body.text, _iso(now))  # fmt: skip
        self.db.execute("INSERT INTO sms VALUES (?, ?, ?, ?, ?)", receipt)
        return web.json_response(_sms_json(receipt), status=201)

    async def place_call(self, request: web.Request) -> web.StreamResponse:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        body = await _body(request, CallIn)
        if isinstance(body, web.Response):
            return body
        seen = self._call_row(body.message_id, by="message_id")
        if seen is not None:
            return web.json_response(_call_json(seen), status=200)
        now = _now()
        call_id = self._next_id("calls", "call_id", "VC", now)
        self.db.execute(
            "INSERT INTO calls VALUES (?, ?, ?, ?, 'calling', ?, ?, NULL)",
            (call_id, body.message_id, mask_phone(body.phone), body.text, _iso(now), time.time()),
        )
        row = self._call_row(call_id)
        assert row is not None
        return web.json_response(_call_json(row), status=201)

    async def read_call(self, request: web.Request) -> web.StreamResponse:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        row = self._call_row(request.match_info["call_id"])
        if row is None:
            return _error(404, "not_found", "no such call")
        return web.json_response(_call_json(row))

    # ---- storage helpers ------------------------------------------------------

    def _order_row(self, column: Literal["number", "external_id"], value: str) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.db.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE {column} = ?", (value,)
        ).fetchone()
        return row

    def _call_row(self, value: str, by: Literal["call_id", "message_id"] = "call_id") -> tuple[Any, ...] | None:
        """The call, its ringing resolved: after ``call_seconds`` an unanswered call is answered."""
        row: tuple[Any, ...] | None = self.db.execute(f"SELECT * FROM calls WHERE {by} = ?", (value,)).fetchone()
        if row is not None and row[4] == "calling" and time.time() - row[6] >= self.call_seconds:
            self._end_call(row[0], "answered")
            row = self.db.execute("SELECT * FROM calls WHERE call_id = ?", (row[0],)).fetchone()
        return row

    def _end_call(self, call_id: str, outcome: str) -> bool:
        cur = self.db.execute(
            "UPDATE calls SET status = ?, ended_at = ? WHERE call_id = ?", (outcome, _iso(_now()), call_id)
        )
        return cur.rowcount > 0

    def _next_id(self, table: str, column: str, prefix: str, now: datetime) -> str:
        """prefix + yyyymmdd + 6-digit sequence of that day."""
        day = f"{prefix}{now.strftime('%Y%m%d')}"
        last = self.db.execute(f"SELECT MAX({column}) FROM {table} WHERE {column} LIKE ?", (day + "%",)).fetchone()[0]
        return f"{day}{(int(last[len(day) :]) if last else 0) + 1:06d}"

    # ---- progress and callbacks -------------------------------------------

    def _event(self, number: str, seq: int) -> None:
        """The callback of the order's current state (called inside the write's transaction)."""
        external_id, status, result, feedback = self.db.execute(
            "SELECT external_id, status, result, feedback FROM orders WHERE number = ?", (number,)
        ).fetchone()
        body = {"event_id": uuid.uuid4().hex, "number": number, "external_id": external_id, "status": status,
                "result": result, "feedback": feedback, "seq": seq, "at": _iso(_now())}  # fmt: skip
        self.db.execute(
            "INSERT INTO events (event_id, number, body, next_at) VALUES (?, ?, ?, ?)",
            (body["event_id"], number, json.dumps(body, ensure_ascii=False), time.time()),
        )

    def set_status(self, number: str, status: str, result: str | None = None, feedback: str | None = None) -> bool:
        """Move one order to ``status`` (result and feedback kept unless given), with its callback."""
        row = self.db.execute("SELECT seq FROM orders WHERE number = ?", (number,)).fetchone()
        if row is None:
            return False
        seq = row[0] + 1
        self.db.execute("BEGIN")
        self.db.execute(
            "UPDATE orders SET status = ?, result = COALESCE(?, result), feedback = COALESCE(?, feedback), seq = ?, "
            "updated_at = ? WHERE number = ?",
            (status, result, feedback, seq, _iso(_now()), number),
        )
        self._event(number, seq)
        self.db.execute("COMMIT")
        return True

    def advance(self) -> int:
        """Every open order one step along 已受理 → 已派单 → 办理中."""
        rows = self.db.execute(
            "SELECT number, status FROM orders WHERE status IN (?, ?) ORDER BY number", tuple(FLOW)
        ).fetchall()
        return sum(self.set_status(number, FLOW[status]) for number, status in rows)

    async def deliver_callbacks(self) -> int:
        """Post every due callback; the number acknowledged (2xx).

        In order of ``seq`` for each order: a later event waits while an earlier
        one is being retried, unless ``shuffle_callbacks`` is on (then newest first)."""
        async with self._delivering:
            pending = self.db.execute(
                "SELECT e.event_id, e.number, e.body, o.callback_url, e.attempts, e.next_at FROM events e "
                "JOIN orders o ON o.number = e.number WHERE e.delivered = 0 AND o.callback_url IS NOT NULL "
                "ORDER BY e.rowid LIMIT 500"
            ).fetchall()
            now = time.time()
            if self.faults.shuffle_callbacks:
                due = [p for p in pending if p[5] <= now]
                due.reverse()
            else:
                due, blocked = [], set()
                for p in pending:
                    if p[1] not in blocked and p[5] <= now:
                        due.append(p)
                    else:
                        blocked.add(p[1])
            sent = 0
            failed: set[str] = set()
            for event_id, number, body, url, attempts, _ in due:
                if number in failed and not self.faults.shuffle_callbacks:
                    continue  # its earlier event just failed: keep the order
                error = await self.poster.post(url, body.encode())
                if error is None and self.faults.duplicate_callbacks:
                    await self.poster.post(url, body.encode())  # the same event again: its answer changes nothing
                if error is None:
                    self.db.execute("UPDATE events SET delivered = 1, attempts = attempts + 1 WHERE event_id = ?",
                                    (event_id,))  # fmt: skip
                    sent += 1
                else:
                    failed.add(number)
                    delay = min(self.retry_base * 2**attempts, 300)
                    self.db.execute(
                        "UPDATE events SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE event_id = ?",
                        (time.time() + delay, error, event_id),
                    )
            return sent

    async def run_background(self, stop: asyncio.Event) -> None:
        last_step = time.monotonic()
        while not stop.is_set():
            if not self.faults.outage:  # an outage stops the platform's work and its callbacks alike
                if self.pace > 0 and time.monotonic() - last_step >= self.pace:
                    self.advance()
                    last_step = time.monotonic()
                try:
                    await self.deliver_callbacks()
                except Exception:  # the simulator keeps going, like the real thing
                    log.exception("callback delivery failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick)

    # ---- controls -----------------------------------------------------------

    async def set_faults(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request, FaultsIn)
        if isinstance(body, web.Response):
            return body
        self.faults = body  # every field not given goes back to its default
        return web.json_response(body.model_dump())

    async def advance_now(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"moved": self.advance()})

    async def outcome(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request, OutcomeIn)
        if isinstance(body, web.Response):
            return body
        if body.status == "已办结" and body.result is None:
            return _error(422, "invalid", "result: 已办结 needs the 办理结果")
        if body.status == "已回访" and body.feedback is None:
            return _error(422, "invalid", "feedback: 已回访 needs the 回访结果")
        if not self.set_status(body.number, body.status, body.result, body.feedback):
            return _error(404, "not_found", "no such work order")
        row = self._order_row("number", body.number)
        assert row is not None
        return web.json_response(_order_json(row))

    async def list_orders(self, request: web.Request) -> web.StreamResponse:
        rows = self.db.execute(f"SELECT {_ORDER_COLUMNS}, callback_url FROM orders ORDER BY number").fetchall()
        added = self.db.execute("SELECT number, content FROM supplements ORDER BY at, rowid").fetchall()
        return web.json_response(
            [
                {**_order_json(r[:-1]), "callback_url": r[-1], "supplements": [c for n, c in added if n == r[0]]}
                for r in rows
            ]
        )

    async def list_callbacks(self, request: web.Request) -> web.StreamResponse:
        rows = self.db.execute("SELECT body, delivered, attempts, last_error FROM events ORDER BY rowid").fetchall()
        return web.json_response(
            [{**json.loads(b), "delivered": bool(d), "attempts": a, "last_error": e} for b, d, a, e in rows]
        )

    async def list_sms(self, request: web.Request) -> web.StreamResponse:
        rows = self.db.execute("SELECT * FROM sms ORDER BY receipt_id").fetchall()
        return web.json_response([{**_sms_json(r), "text": r[3]} for r in rows])

    async def list_calls(self, request: web.Request) -> web.StreamResponse:
        ids = [r[0] for r in self.db.execute("SELECT call_id FROM calls ORDER BY call_id").fetchall()]
        rows = [self._call_row(i) for i in ids]
        return web.json_response([{**_call_json(r), "text": r[3]} for r in rows if r is not None])

    async def call_outcome(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request, CallOutcomeIn)
        if isinstance(body, web.Response):
            return body
        if not self._end_call(body.call_id, body.outcome):
            return _error(404, "not_found", "no such call")
        row = self._call_row(body.call_id)
        assert row is not None
        return web.json_response(_call_json(row))

    def app(self) -> web.Application:
        application = web.Application(middlewares=[_json_errors])
        r = application.router
        r.add_post("/v1/orders", self.create_order)
        r.add_get("/v1/orders/{number}", self.read_order)
        r.add_post("/v1/orders/{number}/supplements", self.add_supplement)
        r.add_post("/v1/sms", self.send_sms)
        r.add_post("/v1/calls", self.place_call)
        r.add_get("/v1/calls/{call_id}", self.read_call)
        r.add_post("/_sim/faults", self.set_faults)
        r.add_post("/_sim/advance", self.advance_now)
        r.add_post("/_sim/outcome", self.outcome)
        r.add_get("/_sim/orders", self.list_orders)
        r.add_get("/_sim/callbacks", self.list_callbacks)
        r.add_get("/_sim/sms", self.list_sms)
        r.add_get("/_sim/calls", self.list_calls)
        r.add_post("/_sim/calls", self.call_outcome)

        application.cleanup_ctx.append(running(self.run_background, self._close))
        return application

    async def _close(self) -> None:
        await self.poster.close()
        self.db.close()


# ---- answers ------------------------------------------------------------------


def _order_json(row: tuple[Any, ...]) -> dict[str, Any]:
    (number, external_id, channel, kind, name, confidential, phone, content, region, application_number, department,
     accepted_at, deadline, context, status, result, feedback, seq, updated_at) = row  # fmt: skip
    return {"number": number, "external_id": external_id, "channel": channel, "kind": kind,
            "citizen_name": mask_name(name) if confidential else name, "confidential": bool(confidential),
            "phone": phone, "content": content, "region": region, "application_number": application_number,
            "department": department, "accepted_at": accepted_at, "deadline": deadline, "status": status,
            "result": result, "feedback": feedback, "context": json.loads(context), "seq": seq,
            "updated_at": updated_at}  # fmt: skip


def _supplement_json(row: tuple[Any, ...]) -> dict[str, Any]:
    supplement_id, number, content, at = row
    return {"supplement_id": supplement_id, "number": number, "content": content, "at": at}


def _sms_json(row: tuple[Any, ...]) -> dict[str, Any]:
    receipt_id, message_id, phone, _text, sent_at = row
    return {"receipt_id": receipt_id, "message_id": message_id, "phone": phone, "status": "sent", "sent_at": sent_at}


def _call_json(row: tuple[Any, ...]) -> dict[str, Any]:
    call_id, message_id, phone, _text, status, placed_at, _ts, ended_at = row
    return {"call_id": call_id, "message_id": message_id, "phone": phone, "status": status, "placed_at": placed_at,
            "ended_at": ended_at}  # fmt: skip


def _add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days (Mon–Fri) after ``start``, same time of day; no holiday calendar."""
    current: date = start.date()
    left = days
    while left:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return datetime.combine(current, start.timetz())


def _now() -> datetime:
    return datetime.now(UTC).astimezone(CST).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")
