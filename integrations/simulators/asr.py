"""Simulator of a FunASR runtime HTTP server (see ``integrations/asr.py``).
It cannot hear: it knows the clips a test taught it (by their bytes) and
answers silence for others, and it fails on demand the ways a real one does.

    POST /recognition        multipart ``audio`` → {"text", "sentences", "code": 0}
    POST /_sim/clips {"base64", "text"}          teach a clip
    POST /_sim/fail {"mode": "error"|"undecodable"|"slow", "times": 1}
    GET  /_sim/heard         how many recognitions were asked for
"""

from __future__ import annotations

import asyncio
import base64
import hashlib

from aiohttp import web

UNDECODABLE = {"msg": "读取音频文件发生错误", "code": 1}


class AsrSim:
    def __init__(self, slow_seconds: float = 30.0) -> None:
        self.clips: dict[str, str] = {}  # sha256 of the audio -> what is said in it
        self.failures: list[str] = []
        self.heard = 0
        self.slow_seconds = slow_seconds

    async def recognition(self, request: web.Request) -> web.StreamResponse:
        try:
            form = await request.post()
        except ValueError:
            return web.json_response({"detail": "bad multipart"}, status=422)
        audio = form.get("audio")
        if not isinstance(audio, web.FileField):
            return web.json_response({"detail": [{"loc": ["body", "audio"], "msg": "field required"}]}, status=422)
        data = audio.file.read()
        self.heard += 1
        if self.failures:
            mode = self.failures.pop(0)
            if mode == "error":
                return web.Response(status=500, text="Internal Server Error")
            if mode == "slow":
                await asyncio.sleep(self.slow_seconds)
            if mode == "undecodable":
                return web.json_response(UNDECODABLE)
        if not data:
            return web.json_response(UNDECODABLE)
        text = self.clips.get(hashlib.sha256(data).hexdigest(), "")
        sentences = [{"text": text, "start": 0, "end": 0}] if text else []
        return web.json_response({"text": text, "sentences": sentences, "code": 0})

    async def teach(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.clips[hashlib.sha256(base64.b64decode(body["base64"])).hexdigest()] = str(body["text"])
        return web.json_response({"ok": True})

    async def fail(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.failures.extend([str(body["mode"])] * int(body.get("times", 1)))
        return web.json_response({"ok": True})

    async def count(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"heard": self.heard})

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_post("/recognition", self.recognition)
        application.router.add_post("/_sim/clips", self.teach)
        application.router.add_post("/_sim/fail", self.fail)
        application.router.add_get("/_sim/heard", self.count)
        return application
