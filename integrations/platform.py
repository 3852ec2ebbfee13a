"""Client of the unified government service platform (docs/platform-api.md).

Knows this one outside system: submit with an idempotency key, read an
application's status, check a callback's signature. Errors are split in two:
``PlatformUnavailable`` (try again later) and ``PlatformRefused`` (the request
itself is wrong: retrying cannot help, people must look).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from bot.applications.ports import PlatformRefused, PlatformUnavailable, Submitted
from integrations.json_api import JsonApiClient

__all__ = ["PlatformClient", "PlatformRefused", "PlatformUnavailable", "Submitted", "sign", "signature_ok"]

RETRYABLE = {401, 408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300) -> bool:
    """A callback is genuine and fresh (replays older than ``max_age`` seconds are refused)."""
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return False
    # bytes: a header that is not ASCII would make compare_digest raise on two str
    return age <= max_age and hmac.compare_digest(
        sign(secret, timestamp, body).encode(), signature.encode("utf-8", "surrogatepass")
    )


class PlatformClient(JsonApiClient):
    unavailable = PlatformUnavailable

    async def submit(self, application_id: str, payload: dict[str, Any]) -> Submitted:
        status, body = await self._call(
            "POST", "/v1/applications", json=payload, headers={"Idempotency-Key": application_id}
        )
        if status in (200, 201) and isinstance(body, dict) and body.get("number"):
            return Submitted(number=str(body["number"]), items=list(body.get("items") or []), replayed=status == 200)
        if status in RETRYABLE or status >= 500 or status in (200, 201):
            raise PlatformUnavailable(f"HTTP {status}")
        message = body.get("message", "") if isinstance(body, dict) else ""
        raise PlatformRefused(status, message)

    async def status(self, number: str) -> list[dict[str, Any]] | None:
        """Each item's status, or None when the platform does not know the number."""
        code, body = await self._call("GET", f"/v1/applications/{number}")
        if code == 404:
            return None
        if code != 200 or not isinstance(body, dict):
            raise PlatformUnavailable(f"HTTP {code}")
        return list(body.get("items") or [])

    async def supplement(self, number: str, item: str, text: str, attachments: list[str]) -> None:
        """Hand in what an item in 需补正 asked for."""
        code, body = await self._call(
            "POST",
            f"/v1/applications/{number}/supplements",
            json={"item": item, "text": text, "attachments": attachments},
        )
        if code in (200, 202):
            return
        if code in RETRYABLE or code >= 500:
            raise PlatformUnavailable(f"HTTP {code}")
        raise PlatformRefused(code, str(body.get("error") if isinstance(body, dict) else body))
