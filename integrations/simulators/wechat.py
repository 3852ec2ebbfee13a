"""Simulator of the WeChat API (the parts we use), for any number of apps
(the official account and the mini-program each have an AppID and secret).
It records what it received and can answer with any error code, so tests
and `make run` use the real client code.

    GET  /cgi-bin/token?grant_type=client_credential&appid&secret
    POST /cgi-bin/message/custom/send?access_token            customer-service message
    POST /cgi-bin/message/template/send?access_token          template message
    POST /cgi-bin/message/subscribe/bizsend?access_token      official account 订阅通知
    POST /cgi-bin/message/subscribe/send?access_token         mini-program subscribe message
    GET  /cgi-bin/media/get?access_token&media_id             a temporary media file (40007: unknown id)
    GET  /sns/jscode2session?appid&secret&js_code&grant_type  codes starting "bad" are invalid

Test controls:
    POST /_sim/errors {"path": "/cgi-bin/message/custom/send", "errcode": 45015, "times": 1}
    POST /_sim/expire_tokens        every issued token becomes invalid (40001)
    POST /_sim/media {"media_id", "base64", "content_type"}   what a person sent (voice, image)
    GET  /_sim/sent                 what was delivered (each with "app" and "kind")
    GET  /_sim/tokens               how many tokens were issued
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from aiohttp import web

ERRMSG = {40029: "invalid code", 40001: "invalid credential", 42001: "access_token expired", 43004: "require subscribe",
          45009: "reach max api daily quota limit", 45015: "response out of time limit or subscription is canceled",
          45047: "out of response count limit", 40125: "invalid appsecret", 40007: "invalid media_id",
          47003: "argument invalid", 47001: "data format error",
          43101: "user refuse to accept the msg"}  # fmt: skip

# what each kind of message must carry (WeChat answers 47003 otherwise)
REQUIRED = {
    "custom": ("touser", "msgtype"),
    "template": ("touser", "template_id", "data"),
    "bizsend": ("touser", "template_id", "data"),
    "subscribe": ("touser", "template_id", "data"),
}


class WeChatSim:
    def __init__(self, apps: dict[str, str]) -> None:
        self.apps = dict(apps)  # AppID -> AppSecret
        self.tokens: dict[str, str] = {}  # token -> AppID
        self.issued = 0
        self.sent: list[dict[str, Any]] = []
        self.errors: dict[str, list[int]] = {}
        self.media: dict[str, tuple[bytes, str]] = {}

    def _error(self, errcode: int) -> web.Response:
        return web.json_response({"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")})

    def _known(self, q: Any) -> bool:
        return q.get("appid") in self.apps and self.apps[q["appid"]] == q.get("secret")

    async def token(self, request: web.Request) -> web.StreamResponse:
        if not self._known(request.query):
            return self._error(40125)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = request.query["appid"]
        self.issued += 1
        return web.json_response({"access_token": token, "expires_in": 7200})

    def _caller(self, request: web.Request) -> str | web.Response:
        """The AppID behind the access token, or the error WeChat would give."""
        app = self.tokens.get(request.query.get("access_token", ""))
        if app is None:
            return self._error(40001)
        queued = self.errors.get(request.path)
        if queued:
            return self._error(queued.pop(0))
        return app

    async def _send(self, request: web.Request, kind: str) -> web.StreamResponse:
        app = self._caller(request)
        if isinstance(app, web.Response):
            return app
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._error(47001)
        if not isinstance(body, dict) or not all(body.get(k) for k in REQUIRED[kind]):
            return self._error(47003)
        self.sent.append({"app": app, "kind": kind, **body})
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)})

    async def custom(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "custom")

    async def template(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "template")

    async def bizsend(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "bizsend")

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, "subscribe")

    async def media_get(self, request: web.Request) -> web.StreamResponse:
        app = self._caller(request)
        if isinstance(app, web.Response):
            return app
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return self._error(40007)
        data, content_type = found
        return web.Response(body=data, content_type=content_type)

    async def code2session(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if not self._known(q):
            return self._error(40125)
        code = q.get("js_code", "")
        if not code or code.startswith("bad"):
            return self._error(40029)
        openid = "o" + hashlib.sha256(code.encode()).hexdigest()[:27]
        return web.json_response({"openid": openid, "session_key": secrets.token_urlsafe(16)})

    # ---- test controls ---------------------------------------------------------

    async def set_errors(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.errors.setdefault(body["path"], []).extend([int(body["errcode"])] * int(body.get("times", 1)))
        return web.json_response({"ok": True})

    async def expire(self, request: web.Request) -> web.StreamResponse:
        self.tokens.clear()
        return web.json_response({"ok": True})

    async def put_media(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.media[str(body["media_id"])] = (base64.b64decode(body["base64"]), str(body["content_type"]))
        return web.json_response({"ok": True})

    async def list_sent(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.sent)

    async def token_count(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"issued": self.issued})

    def app(self) -> web.Application:
        application = web.Application()
        r = application.router
        r.add_get("/cgi-bin/token", self.token)
        r.add_get("/sns/jscode2session", self.code2session)
        r.add_post("/cgi-bin/message/custom/send", self.custom)
        r.add_post("/cgi-bin/message/template/send", self.template)
        r.add_post("/cgi-bin/message/subscribe/bizsend", self.bizsend)
        r.add_post("/cgi-bin/message/subscribe/send", self.subscribe)
        r.add_get("/cgi-bin/media/get", self.media_get)
        r.add_post("/_sim/errors", self.set_errors)
        r.add_post("/_sim/expire_tokens", self.expire)
        r.add_post("/_sim/media", self.put_media)
        r.add_get("/_sim/sent", self.list_sent)
        r.add_get("/_sim/tokens", self.token_count)
        return application
