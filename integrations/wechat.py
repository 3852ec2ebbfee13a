"""Outbound WeChat: wechatpy builds every call (endpoint, JSON body, its
API's arguments) and aiohttp sends it, so a busy notifier waits on sockets,
not on a pool of threads running blocking ``requests``. The access token is
shared by all processes in Redis, with a Redis lock around its refresh
(wechatpy has none: two processes refreshing at once would invalidate each
other's token). Media downloads, rare and binary, keep wechatpy's own blocking
client off the event loop.

Errors: 40001/42001/40014 (token invalid or expired) → refresh and retry once;
45009 (rate limit), HTTP errors, -1 (busy) → ``RetryLater``; 43004 (not
following), 43101 (no subscribe grant), 45015/45047 (outside the 48-hour
window, over count) → ``SendRefused(fallback=True)``; anything else → ``SendRefused(fallback=False)``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from redis.asyncio import Redis
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.messaging import SendRefused
from bot.outbox import RetryLater

TOKEN_ERRORS = {40001, 42001, 40014}
RETRY_ERRORS = {45009, -1}
FALLBACK_ERRORS = {43004, 43101, 45015, 45047}  # 43101: no subscribe grant (left)
OFFICIAL_API = "https://api.weixin.qq.com"


class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at a configurable base URL (the simulator in tests)."""

    def __init__(self, base_url: str, appid: str, secret: str, token: str | None, timeout: float) -> None:
        super().__init__(appid, secret, access_token=token, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = f"{base_url}/cgi-bin/"
        self.wxa.API_BASE_URL = f"{base_url}/"  # the mini-program API has its own, hard-coded base
        self._token_url = f"{base_url}/cgi-bin/token"
        self._http.trust_env = False  # no .netrc or proxy variables read on every call

    def fetch_access_token(self) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        return self._fetch_access_token(url=self._token_url, params=params)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Call:
    """One API call as wechatpy would make it."""

    method: str
    url: str
    params: dict[str, Any]
    body: bytes | None


class _Planner(_Client):
    """wechatpy's API objects, whose every request is handed back as a ``_Call`` instead of sent."""

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> _Call:
        base = kwargs.pop("api_base_url", self.API_BASE_URL)
        url = url_or_endpoint if url_or_endpoint.startswith(("http://", "https://")) else base + url_or_endpoint
        params = dict(kwargs.get("params") or {})
        params.setdefault("access_token", self.access_token)
        data = kwargs.get("data")
        body = json.dumps(data, ensure_ascii=False).encode() if isinstance(data, dict) else data
        return _Call(method.upper(), url, params, body)


class WeChatApi:
    def __init__(
        self, redis: Redis, appid: str, secret: str, base_url: str = OFFICIAL_API, timeout: float = 5.0
    ) -> None:
        self.redis = redis
        self.appid = appid
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token_key = f"wx:token:{appid}"
        self._planners: dict[str, _Planner] = {}  # by token (the newest only)
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=64),  # WeChat allows many; the simulator too
            )
        return self._http

    async def token(self, stale: str | None = None) -> str:
        """The shared token; ``stale``: the one WeChat just refused, to be replaced."""
        current = await self.redis.get(self.token_key)
        if current and current != stale:
            return str(current)
        async with self.redis.lock(f"{self.token_key}:lock", timeout=15, blocking_timeout=15):
            current = await self.redis.get(self.token_key)
            if current and current != stale:
                return str(current)  # another process refreshed while we waited
            client = _Client(self.base_url, self.appid, self.secret, None, self.timeout)
            try:
                result = await asyncio.to_thread(client.fetch_access_token)
            except WeChatClientException as exc:
                raise RetryLater(f"token: {exc.errcode} {exc.errmsg}") from exc
            except Exception as exc:  # requests' connection errors
                raise RetryLater(f"token: {type(exc).__name__}") from exc
            token = str(result["access_token"])
            ttl = max(int(result.get("expires_in", 7200)) - 300, 60)  # refresh before WeChat expires it
            await self.redis.set(self.token_key, token, ex=ttl)
            return token

    def _planner(self, token: str) -> _Planner:
        planner = self._planners.get(token)
        if planner is None:
            planner = _Planner(self.base_url, self.appid, self.secret, token, self.timeout)
            self._planners = {token: planner}
        return planner

    async def _send(self, call: _Call) -> Any:
        """Make the call; WeChat's errcode raised as wechatpy raises it."""
        async with self._session().request(call.method, call.url, params=call.params, data=call.body) as resp:
            if resp.status >= 400:
                raise WeChatClientException(None, f"HTTP {resp.status}")
            raw = await resp.read()
        try:
            result = json.loads(raw.decode("utf-8", "ignore"), strict=False)
        except ValueError as exc:
            raise WeChatClientException(None, "not JSON") from exc
        if isinstance(result, dict) and int(result.get("errcode", 0) or 0) != 0:
            raise WeChatClientException(int(result["errcode"]), result.get("errmsg", ""))
        return result

    async def _call(self, action: Callable[[WeChatClient], Any]) -> Any:
        """``action`` uses wechatpy's API objects on the client it is given (one call)."""
        return await self._with_token(lambda token: self._send(action(self._planner(token))))

    async def _call_blocking(self, action: Callable[[WeChatClient], Any]) -> Any:
        """The same through wechatpy's own blocking client, in a thread (binary answers)."""

        async def run(token: str) -> Any:
            client = _Client(self.base_url, self.appid, self.secret, token, self.timeout)
            return await asyncio.to_thread(action, client)

        return await self._with_token(run)

    async def _with_token(self, attempt_with: Callable[[str], Any]) -> Any:
        stale: str | None = None
        for attempt in (1, 2):
            token = await self.token(stale)
            try:
                return await attempt_with(token)
            except WeChatClientException as exc:
                code = exc.errcode
                if code in TOKEN_ERRORS and attempt == 1:
                    stale = token
                    continue
                if code is None or code in RETRY_ERRORS or code in TOKEN_ERRORS:
                    raise RetryLater(f"{code}: {exc.errmsg}") from exc
                raise SendRefused(code, str(exc.errmsg), fallback=code in FALLBACK_ERRORS) from exc
            except Exception as exc:  # connection refused, timeouts
                raise RetryLater(type(exc).__name__) from exc
        raise RetryLater("token refused twice")

    async def send_text(self, openid: str, text: str) -> None:
        await self._call(lambda c: c.message.send_text(openid, text))

    async def send_template(self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None) -> None:
        """A template message of the official account (to a follower)."""
        await self._call(lambda c: c.message.send_template(openid, template_id, data, url=url))

    async def send_subscription_notice(
        self, openid: str, template_id: str, data: dict[str, Any], page: str | None = None
    ) -> None:
        """The official account's 订阅通知 (``subscribe/bizsend``)."""
        await self._call(lambda c: c.message.send_subscribe_message(openid, template_id, data, page=page))

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, Any], page: str | None = None
    ) -> None:
        """The mini-program's subscribe message (``subscribe/send``): one per grant the person gave."""
        await self._call(lambda c: c.wxa.send_subscribe_message(openid, template_id, data, page=page))

    async def download_media(self, media_id: str) -> tuple[bytes, str]:
        """A temporary media file a person sent (voice, image): its bytes and content type."""
        response = await self._call_blocking(lambda c: c.media.download(media_id))
        if isinstance(response, dict):  # wechatpy hands back JSON it could parse, errors aside
            raise SendRefused(None, "media/get answered JSON, not a file", fallback=False)
        return bytes(response.content), str(response.headers.get("Content-Type", "application/octet-stream"))

    async def code2session(self, js_code: str) -> dict[str, Any] | None:
        """The mini-program login: a ``wx.login`` code → openid (and unionid); None for a bad code."""
        params = {"appid": self.appid, "secret": self.secret, "js_code": js_code, "grant_type": "authorization_code"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as http,
                http.get(f"{self.base_url}/sns/jscode2session", params=params) as resp,
            ):
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RetryLater(f"code2session: {type(exc).__name__}") from exc
        if not isinstance(body, dict):
            raise RetryLater("code2session: not JSON")
        if body.get("errcode") in RETRY_ERRORS:
            raise RetryLater(f"code2session: {body.get('errcode')}")
        return body if body.get("openid") else None
