"""Speech recognition for voice messages that arrive without WeChat's own
transcript. Speaks the HTTP contract of FunASR's runtime server
(``runtime/python/http/server.py``):

    POST /recognition   multipart field ``audio`` (a file; its name's suffix
                        tells ffmpeg the format: amr, speex, mp3, wav…)
    → {"text": "…", "sentences": [...], "code": 0}
    → {"msg": "读取音频文件发生错误", "code": 1}   the audio could not be decoded
    → {"msg": "未知错误", "code": -1}

Any failure (down, slow, an error code) raises ``AsrUnavailable``: the
channel then tells the person kindly how to go on.
"""

from __future__ import annotations

import aiohttp

MAX_AUDIO_BYTES = 2 * 1024 * 1024  # WeChat voice messages are at most 60 s of AMR/Speex


class AsrUnavailable(Exception):
    """No transcript: the service is down, too slow, or could not read the audio."""


class AsrClient:
    def __init__(self, base_url: str, timeout: float = 8.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        return self._http

    async def transcribe(self, audio: bytes, filename: str) -> str:
        """What was said ("" for silence)."""
        if len(audio) > MAX_AUDIO_BYTES:
            raise AsrUnavailable(f"audio too long ({len(audio)} bytes)")
        form = aiohttp.FormData()
        form.add_field("audio", audio, filename=filename, content_type="application/octet-stream")
        try:
            async with self._session().post(f"{self.base_url}/recognition", data=form) as resp:
                if resp.status != 200:
                    raise AsrUnavailable(f"HTTP {resp.status}")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AsrUnavailable(type(exc).__name__) from exc
        if not isinstance(body, dict) or body.get("code") != 0:
            raise AsrUnavailable(f"recognition failed: {body.get('msg') if isinstance(body, dict) else body!r}")
        return str(body.get("text") or "").strip()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
