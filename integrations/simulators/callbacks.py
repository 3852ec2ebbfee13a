"""What the platform's and 12345's simulators share: calling the app back with a
signed JSON body (each partner names its own headers), and running their
background work (advancing cases, delivering callbacks) for the life of the
simulator's web app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

Signer = Callable[[str, str, bytes], str]  # (secret, timestamp, body) -> signature


class SignedPoster:
    def __init__(self, secret: str, sign: Signer, timestamp_header: str, signature_header: str) -> None:
        self.secret = secret
        self.sign = sign
        self.headers = (timestamp_header, signature_header)
        self.http: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes) -> str | None:
        """None when the app acknowledged it (2xx), else what went wrong."""
        if self.http is None or self.http.closed:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        stamp = str(int(time.time()))
        stamp_header, signature_header = self.headers
        headers = {"Content-Type": "application/json", stamp_header: stamp,
                   signature_header: self.sign(self.secret, stamp, body)}  # fmt: skip
        try:
            async with self.http.post(url, data=body, headers=headers) as resp:
                return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


def running(
    work: Callable[[asyncio.Event], Awaitable[None]], closing: Callable[[], Awaitable[None]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: ``work(stop)`` runs while the app serves; then it is stopped and ``closing`` runs."""

    async def context(_: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(work(stop))
        yield
        stop.set()
        await task
        await closing()

    return context
