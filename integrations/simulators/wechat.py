"""Simulator of the WeChat API (the parts we use): access tokens, customer-
service and template messages, recording what it received, and able to
answer with any error code, so tests and `make run` use the real client.

    GET  /cgi-bin/token?grant_type=client_credential&appid&secret
    POST /cgi-bin/message/custom/send?access_token
    POST /cgi-bin/message/template/send?access_token
    GET  /sns/jscode2session?appid&secret&js_code&grant_type   (codes starting "bad" are invalid)
    POST /_sim/errors {"path": "/cgi-bin/message/custom/send", "errcode": 45015, "times": 1}
    POST /_sim/expire_tokens        every issued token becomes invalid (40001)
    GET  /_sim/sent                 what was delivered; GET /_sim/tokens: how many were issued
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from aiohttp import web

ERRMSG = {40029: "invalid code", 40001: "invalid credential", 42001: "access_token expired", 43004: "require subscribe",
          45009: "reach max api daily quota limit", 45015: "response out of time limit or subscription is canceled",
          45047: "out of response count limit", 40125: "invalid appsecret"}  # fmt: skip


class WeChatSim:
    def __init__(self, appid: str, secret: str) -> None:
        self.appid = appid
        self.secret = secret
        self.tokens: set[str] = set()
        self.issued = 0
        self.sent: list[dict[str, Any]] = []
        self.errors: dict[str, list[int]] = {}

    def _error(self, errcode: int) -> web.Response:
        return web.json_response({"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")})

    async def token(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("appid") != self.appid or q.get("secret") != self.secret:
            return self._error(40125)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        self.issued += 1
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _send(self, request: web.Request, kind: str) -> web.StreamResponse:
        if request.query.get("access_token") not in self.tokens:
            return self._error(40001)
        queued = self.errors.get(request.path)
        if queued:
            return self._error(queued.pop(0))
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"errcode": 47001, "errmsg": "data format error"})
        self.sent.append({"kind": kind, **body})
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)})

    async def custom(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "custom")

    async def template(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "template")

    async def set_errors(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.errors.setdefault(body["path"], []).extend([int(body["errcode"])] * int(body.get("times", 1)))
        return web.json_response({"ok": True})

    async def expire(self, request: web.Request) -> web.StreamResponse:
        self.tokens.clear()
        return web.json_response({"ok": True})

    async def list_sent(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.sent)

    async def token_count(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"issued": self.issued})

    async def code2session(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("appid") != self.appid or q.get("secret") != self.secret:
            return self._error(40125)
        code = q.get("js_code", "")
        if not code or code.startswith("bad"):
            return web.json_response({"errcode": 40029, "errmsg": "invalid code"})
        openid = "o" + hashlib.sha256(code.encode()).hexdigest()[:27]
        return web.json_response({"openid": openid, "session_key": secrets.token_urlsafe(16)})

    def app(self) -> web.Application:
        application = web.Application()
        r = application.router
        r.add_get("/cgi-bin/token", self.token)
        r.add_get("/sns/jscode2session", self.code2session)
        r.add_post("/cgi-bin/message/custom/send", self.custom)
        r.add_post("/cgi-bin/message/template/send", self.template)
        r.add_post("/_sim/errors", self.set_errors)
        r.add_post("/_sim/expire_tokens", self.expire)
        r.add_get("/_sim/sent", self.list_sent)
        r.add_get("/_sim/tokens", self.token_count)
        return application
