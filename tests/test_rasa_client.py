"""integrations/rasa.py over real HTTP: answers pass through, every failure is
RasaUnavailable (so the app can fall back to the embedded engine)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from integrations.rasa import RasaClient, RasaUnavailable

PARSE = {
    "text": "你好",
    "intent": {"name": "greet", "confidence": 0.97},
    "entities": [],
    "intent_ranking": [{"name": "greet", "confidence": 0.97}],
}


async def _server(handler) -> TestServer:  # type: ignore[no-untyped-def]
    app = web.Application()
    app.router.add_post("/model/parse", handler)
    server = TestServer(app)
    await server.start_server()
    return server


async def test_parse_returns_rasa_answer() -> None:
    async def ok(request: web.Request) -> web.Response:
        assert (await request.json()) == {"text": "你好"}
        return web.json_response(PARSE)

    server = await _server(ok)
    try:
        async with RasaClient(str(server.make_url(""))) as client:
            assert await client.parse("你好") == PARSE
    finally:
        await server.close()


@pytest.mark.parametrize("failure", ["http_500", "not_json", "no_intent", "slow"])
async def test_failures_are_one_exception(failure: str) -> None:
    async def bad(request: web.Request) -> web.Response:
        if failure == "http_500":
            return web.Response(status=500, text="model not loaded")
        if failure == "not_json":
            return web.Response(text="<html>gateway</html>")
        if failure == "no_intent":
            return web.json_response({"text": "x"})
        await asyncio.sleep(1)
        return web.json_response(PARSE)

    server = await _server(bad)
    try:
        async with RasaClient(str(server.make_url("")), timeout=0.2) as client:
            with pytest.raises(RasaUnavailable):
                await client.parse("你好")
    finally:
        await server.close()


async def test_connection_refused_is_unavailable(unused_tcp_port: int) -> None:
    async with RasaClient(f"http://127.0.0.1:{unused_tcp_port}", timeout=1) as client:
        with pytest.raises(RasaUnavailable):
            await client.parse("你好")
