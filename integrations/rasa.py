"""Rasa Open Source as the NLU service: its HTTP API ``POST /model/parse``.

Knows Rasa's wire format and nothing of the dialogue. Any failure to get an
answer in time (connection refused, timeout, 5xx, malformed JSON) is one
exception, :class:`RasaUnavailable`, so callers can fall back to the
embedded engine.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp

from bot.nlu.service import RemoteNluUnavailable


class RasaUnavailable(RemoteNluUnavailable):
    """Rasa did not answer a parse in time or answered nonsense."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 2.0, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> RasaClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def parse(self, text: str) -> dict[str, Any]:
        """Rasa's parse result: text, intent, entities, intent_ranking."""
        try:
            async with self._http().post(
                f"{self.base_url}/model/parse", json={"text": text}, timeout=self.timeout
            ) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {resp.status}")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("intent"), dict):
            raise RasaUnavailable("Rasa's answer has no intent")
        body.setdefault("entities", [])
        body.setdefault("intent_ranking", [body["intent"]])
        return body

    async def status(self) -> dict[str, Any]:
        """``GET /status``: which model is loaded."""
        try:
            async with self._http().get(f"{self.base_url}/status", timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {resp.status}")
                return dict(await resp.json(content_type=None))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
