"""What the clients of partners' JSON APIs share: a bearer key, a session opened
on first use (and again after a close), and one call that answers the status
and the parsed body, or raises the client's own "unavailable" error when the
partner cannot be reached at all. What a status means is each client's to say."""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp


class JsonApiClient:
    unavailable: ClassVar[type[Exception]]  # raised when the partner cannot be reached (try again later)

    def __init__(self, base_url: str, api_key: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
        return self._session

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """The status and the JSON body (None when the body is not JSON)."""
        try:
            async with self._http().request(method, f"{self.base_url}{path}", **kwargs) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
                return resp.status, body
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self.unavailable(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
