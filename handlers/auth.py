"""What every API shares: the JSON error body, reading a body with a size limit, and
parsing JSON from outside."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


async def read_limited(request: web.Request, limit: int) -> bytes | web.Response:
    """The whole body, or a 413 when it is (or says it will be) longer than ``limit``."""
    too_large = error(413, "too_large", f"body over {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        return too_large
    body = b""
    while len(body) <= limit:  # read(n) gives what has arrived so far, up to n: loop to the end
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            return body
        body += chunk
    return too_large


async def read_body(request: web.Request) -> bytes:
    """``request.read()``, but its 413 (over the app's ``client_max_size``) is JSON like every other API error."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        limit = request.client_max_size
        body = json.dumps({"error": "too_large", "message": f"body over {limit} bytes"})
        raise web.HTTPRequestEntityTooLarge(limit, text=body, content_type="application/json") from exc


class NulInText(ValueError):
    """JSON that parses, but with a NUL in a string or a key."""


def loads(raw: bytes | str) -> Any:
    """JSON from outside, or ``ValueError``: not JSON, absurdly nested, or holding a NUL in any
    string or key. NUL is refused here, at the edge, once for every API: no text a person or a
    partner system means carries one, and PostgreSQL can neither store nor compare it."""
    try:
        data = json.loads(raw)
    except RecursionError as exc:  # deeper than the parser's stack
        raise ValueError("JSON nested too deeply") from exc
    if _holds_nul(data):
        raise NulInText("a text holds a NUL character (\\u0000)")
    return data


def _holds_nul(data: Any) -> bool:
    stack = [data]  # a loop, not recursion: the parser accepts nesting deeper than a recursive walk could go
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
