"""Simulator of the unified government service platform: the contract of
docs/platform-api.md over real HTTP, persistent (SQLite file), with items that
progress on their own, signed callbacks (optionally duplicated and out of
order) and injectable failures. See the doc for the ``/_sim`` controls."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from integrations.platform import sign
from integrations.simulators.callbacks import SignedPoster, running

log = logging.getLogger(__name__)

FLOW = {"已受理": "审批中", "审批中": "已办结", "需补正": "审批中"}
FINAL = {"已办结", "不予受理"}
STATUSES = {"已受理", "审批中", "已办结", "需补正", "不予受理"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (number TEXT PRIMARY KEY, idem_key TEXT UNIQUE NOT NULL, body_hash TEXT NOT NULL,
  request TEXT NOT NULL, response TEXT NOT NULL, callback_url TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS items (number TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, note TEXT NOT NULL,
  seq INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (number, key));
CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, number TEXT NOT NULL, body TEXT NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL);
"""


class PlatformSim:
    def __init__(self, db_path: Path | str, api_key: str, callback_secret: str, pace: float = 30.0) -> None:
        if str(db_path) != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
        self.db.executescript(_SCHEMA)
        with contextlib.suppress(sqlite3.OperationalError):  # a store from before items had a detail
            self.db.execute("ALTER TABLE items ADD COLUMN detail TEXT")
        self.api_key = api_key
        self.secret = callback_secret
        self.pace = pace
        self.mode = "ok"
        self.failure_rate = 0.0
        self.duplicate = False
        self.shuffle = False
        self.supplements: list[dict[str, Any]] = []  # what people supplied (补正), for tests
        self.rng = random.Random(11)
        self.poster = SignedPoster(callback_secret, sign, "X-Platform-Timestamp", "X-Platform-Signature")

    # ---- the contract -----------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), self.api_key.encode())

    async def _fault(self) -> web.Response | None:
        if self.mode == "down" or (self.mode == "flaky" and self.rng.random() < self.failure_rate):
            return web.json_response({"error": "unavailable"}, status=503)
        if self.mode == "slow":
            await asyncio.sleep(30)
        return None

    async def submit(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        failed = await self._fault()
        if failed is not None:
            return failed
        key = request.headers.get("Idempotency-Key", "")
        if not key or len(key) > 64:
            return web.json_response({"error": "bad_request", "message": "Idempotency-Key required"}, status=400)
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": "bad_request", "message": "body is not JSON"}, status=400)
        problem = _invalid(body)
        if problem:
            return web.json_response({"error": "invalid", "message": problem}, status=422)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        seen = self.db.execute("SELECT body_hash, response FROM apps WHERE idem_key = ?", (key,)).fetchone()
        if seen is not None:
            if seen[0] != digest:
                return web.json_response({"error": "conflict", "message": "key reused for another body"}, status=409)
            return web.json_response(json.loads(seen[1]), status=200)
        number = self._next_number()
        items = [{"key": i["key"], "accepted": True} for i in body["items"]]
        response = {"number": number, "items": items}
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT INTO apps VALUES (?, ?, ?, ?, ?, ?, ?)",
            (number, key, digest, json.dumps(body, ensure_ascii=False), json.dumps(response, ensure_ascii=False),
             body.get("callback_url"), time.time()),
        )  # fmt: skip
        for item in items:
            self.db.execute(
                "INSERT INTO items (number, key, status, note, seq, updated_at) VALUES (?, ?, '已受理', '', 1, ?)",
                (number, item["key"], _now()),
            )
            self._event(number, item["key"], "已受理", "", 1)
        self.db.execute("COMMIT")
        if self.mode == "drop_after_commit":
            # stored, but the caller never hears: its retry must get this number back
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        return web.json_response(response, status=201)

    def _next_number(self) -> str:
        count = self.db.execute("SELECT COUNT(*) FROM apps").fetchone()[0]
        return f"SB{datetime.now(UTC).astimezone().strftime('%Y%m%d')}{count + 1:06d}"

    async def status(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        failed = await self._fault()
        if failed is not None:
            return failed
        number = request.match_info["number"]
        rows = self.db.execute(
            "SELECT key, status, note, updated_at, seq, detail FROM items WHERE number = ? ORDER BY rowid", (number,)
        ).fetchall()
        if not rows:
            return web.json_response({"error": "not_found"}, status=404)
        items = [{"key": k, "status": s, "note": n, "updated_at": u, "seq": q, "detail": json.loads(d or "{}")}
                 for k, s, n, u, q, d in rows]  # fmt: skip
        return web.json_response({"number": number, "items": items})

    # ---- progress and callbacks -------------------------------------------

    def _event(
        self, number: str, item: str, status: str, note: str, seq: int, detail: dict[str, Any] | None = None
    ) -> None:
        body = {"event_id": uuid.uuid4().hex, "number": number, "item": item, "status": status,
                "note": note, "seq": seq, "at": _now(), "detail": detail or {}}  # fmt: skip
        self.db.execute(
            "INSERT INTO events (event_id, number, body, next_at) VALUES (?, ?, ?, ?)",
            (body["event_id"], number, json.dumps(body, ensure_ascii=False), time.time()),
        )

    def set_status(
        self, number: str, item: str, status: str, note: str = "", detail: dict[str, Any] | None = None
    ) -> bool:
        row = self.db.execute("SELECT seq FROM items WHERE number = ? AND key = ?", (number, item)).fetchone()
        if row is None:
            return False
        seq = row[0] + 1
        if detail is None and status == "已办结":
            detail = {"delivery": {"method": "电子证照"}}  # what most items end with
        self.db.execute("BEGIN")
        self.db.execute(
            "UPDATE items SET status = ?, note = ?, seq = ?, updated_at = ?, detail = ? WHERE number = ? AND key = ?",
            (status, note, seq, _now(), json.dumps(detail or {}, ensure_ascii=False), number, item),
        )
        self._event(number, item, status, note, seq, detail)
        self.db.execute("COMMIT")
        return True

    async def supplement(self, request: web.Request) -> web.StreamResponse:
        """补正: what the person supplied for an item in 需补正; the item goes back to 审批中."""
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        failed = await self._fault()
        if failed is not None:
            return failed
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "bad json"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("item"), str):
            return web.json_response({"error": "item is required"}, status=400)
        if not body.get("text") and not body.get("attachments"):
            return web.json_response({"error": "text or attachments are required"}, status=400)
        number = request.match_info["number"]
        row = self.db.execute(
            "SELECT status FROM items WHERE number = ? AND key = ?", (number, body["item"])
        ).fetchone()
        if row is None:
            return web.json_response({"error": "not_found"}, status=404)
        if row[0] != "需补正":
            return web.json_response({"error": "not_awaiting_supplement", "status": row[0]}, status=409)
        self.supplements.append({"number": number, **body})
        self.set_status(number, body["item"], "审批中", "补正材料已收到")
        return web.json_response({"ok": True}, status=202)

    def advance(self) -> int:
        """Move every open item one step along 已受理 → 审批中 → 已办结."""
        rows = self.db.execute("SELECT number, key, status FROM items").fetchall()
        moved = 0
        for number, key, status in rows:
            if status in FLOW:
                moved += self.set_status(number, key, FLOW[status])
        return moved

    async def deliver_callbacks(self) -> int:
        due = self.db.execute(
            "SELECT e.event_id, e.body, a.callback_url, e.attempts FROM events e JOIN apps a ON a.number = e.number "
            "WHERE e.delivered = 0 AND e.next_at <= ? AND a.callback_url IS NOT NULL ORDER BY e.rowid LIMIT 100",
            (time.time(),),
        ).fetchall()
        if self.shuffle:
            due.reverse()
        sent = 0
        for event_id, body, url, attempts in due:
            copies = 2 if self.duplicate else 1
            ok = False
            for _ in range(copies):
                ok = await self.poster.post(url, body.encode()) is None or ok
            if ok:
                self.db.execute("UPDATE events SET delivered = 1 WHERE event_id = ?", (event_id,))
                sent += 1
            else:
                delay = min(2**attempts, 300)
                self.db.execute(
                    "UPDATE events SET attempts = attempts + 1, next_at = ? WHERE event_id = ?",
                    (time.time() + delay, event_id),
                )
        return sent

    async def run_background(self, stop: asyncio.Event) -> None:
        last_step = time.monotonic()
        while not stop.is_set():
            if self.pace > 0 and time.monotonic() - last_step >= self.pace:
                self.advance()
                last_step = time.monotonic()
            try:
                await self.deliver_callbacks()
            except Exception:  # the simulator keeps going, like the real thing
                log.exception("callback delivery failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)

    # ---- controls -----------------------------------------------------------

    async def faults(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "bad json"}, status=400)
        if not isinstance(body, dict) or body.get("mode", "ok") not in (
            "ok",
            "down",
            "slow",
            "flaky",
            "drop_after_commit",
        ):
            return web.json_response({"error": "unknown mode"}, status=400)
        self.mode = body.get("mode", "ok")
        self.failure_rate = float(body.get("failure_rate", 0.5 if self.mode == "flaky" else 0.0))
        self.duplicate = bool(body.get("duplicate_callbacks", False))
        self.shuffle = bool(body.get("shuffle_callbacks", False))
        return web.json_response({"mode": self.mode})

    async def advance_now(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"moved": self.advance()})

    async def outcome(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "bad json"}, status=400)
        if not isinstance(body, dict) or body.get("status") not in STATUSES:
            return web.json_response({"error": "status must be one of " + "、".join(sorted(STATUSES))}, status=400)
        detail = body.get("detail")
        if detail is not None and not isinstance(detail, dict):
            return web.json_response({"error": "detail must be an object"}, status=400)
        if not self.set_status(
            str(body.get("number")), str(body.get("item")), body["status"], str(body.get("note", "")), detail
        ):
            return web.json_response({"error": "not_found"}, status=404)
        return web.json_response({"ok": True})

    async def list_supplements(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.supplements)

    async def applications(self, request: web.Request) -> web.StreamResponse:
        rows = self.db.execute("SELECT number, idem_key, request FROM apps ORDER BY created_at").fetchall()
        return web.json_response([{"number": n, "idempotency_key": k, "request": json.loads(r)} for n, k, r in rows])

    def app(self) -> web.Application:
        application = web.Application()
        r = application.router
        r.add_post("/v1/applications", self.submit)
        r.add_get("/v1/applications/{number}", self.status)
        r.add_post("/v1/applications/{number}/supplements", self.supplement)
        r.add_post("/_sim/faults", self.faults)
        r.add_post("/_sim/advance", self.advance_now)
        r.add_post("/_sim/outcome", self.outcome)
        r.add_get("/_sim/applications", self.applications)
        r.add_get("/_sim/supplements", self.list_supplements)

        application.cleanup_ctx.append(running(self.run_background, self._close))
        return application

    async def _close(self) -> None:
        await self.poster.close()
        self.db.close()


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be an object"
    if not isinstance(body.get("thing_id"), str) or not body["thing_id"]:
        return "thing_id required"
    items = body.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) and i.get("key") for i in items):
        return "items: a non-empty list of {key, name, dept}"
    if not isinstance(body.get("form"), dict):
        return "form must be an object"
    return None


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")
