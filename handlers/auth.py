"""What every API shares: one way of answering a refusal (``refuse``: raise it, a JSON body
``{"error", "message"}``), reading a body with a size limit, parsing JSON from outside into a
model, and the bearer-token door of the mini-program's routes (``@citizen``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


_REFUSALS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
    409: web.HTTPConflict, 422: web.HTTPUnprocessableEntity, 429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}  # fmt: skip


def refuse(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> NoReturn:
    """Answer the request with this refusal, wherever the handler is: ``{"error", "message"}``."""
    body = json.dumps({"error": code, "message": message})
    if status == 413:
        raise web.HTTPRequestEntityTooLarge(0, text=body, content_type="application/json", headers=headers)
    raise _REFUSALS[status](text=body, content_type="application/json", headers=headers)


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The whole body; a 413 when it is (or says it will be) longer than ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        refuse(413, "too_large", f"body over {limit} bytes")
    body = b""
    while len(body) <= limit:  # read(n) gives what has arrived so far, up to n: loop to the end
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            return body
        body += chunk
    refuse(413, "too_large", f"body over {limit} bytes")


async def read_model(request: web.Request, model: type[M], message: str, empty: bool = False) -> M:
    """The JSON body read into ``model``; a 400 with ``message`` when it is not that (``empty``:
    no body at all reads as ``{}``)."""
    raw = await read_body(request)
    try:
        return model.model_validate(loads(raw or (b"{}" if empty else b"null")))
    except (ValueError, ValidationError):
        refuse(400, "bad_request", message)


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
