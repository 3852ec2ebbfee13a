"""JSON and URLs from outside: what every API refuses before a handler sees it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from handlers.auth import NulInText, loads
from handlers.odd_urls import odd_urls


@pytest.mark.parametrize(
    "raw",
    [
        b'{"item": "a\\u0000b"}',
        b'{"a\\u0000": 1}',
        b'[[[{"deep": ["ok", "x\\u0000"]}]]]',
        '{"text": "\\u0000"}'.encode("utf-16"),  # json.loads reads UTF-16 too: the check is on the parsed text
    ],
)
def test_a_nul_anywhere_in_json_is_refused(raw: bytes) -> None:
    with pytest.raises(NulInText, match="NUL"):
        loads(raw)


def test_json_without_nul_is_parsed_as_is() -> None:
    value = {"text": "新生儿 \\u0000 是六个字符", "n": [1, 2.5, None, True], "k": {"申请人": "张三"}}
    assert loads(json.dumps(value, ensure_ascii=False).encode()) == value
    assert loads(b"null") is None


def test_json_nested_past_the_parsers_stack_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested"):
        loads(b"[" * 100_000 + b"]" * 100_000)


def test_deep_json_the_parser_takes_is_checked_all_the_way_down() -> None:
    depth = 500  # well under the parser's limit
    assert loads(b'{"a":' * depth + b'"x"' + b"}" * depth) is not None
    with pytest.raises(ValueError, match="NUL"):
        loads(b'{"a":' * depth + b'"\\u0000"' + b"}" * depth)


@pytest.fixture
async def echo(tmp_path: Path) -> AsyncIterator[TestServer]:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["id"], "q": request.query.get("q")})

    (tmp_path / "page.html").write_text("<p>hi</p>", encoding="utf-8")
    app = web.Application(middlewares=[odd_urls])
    app.router.add_get("/things/{id}", handler)
    app.router.add_static("/static/", tmp_path, show_index=False, follow_symlinks=False)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


def url(server: TestServer, path: str) -> URL:
    return URL(str(server.make_url("")).rstrip("/") + path, encoded=True)  # sent as written, %00 included


@pytest.mark.parametrize("path", ["/things/a%00b", "/things/%00?q=1", "/static/%00"])
async def test_a_nul_in_the_path_is_a_400_before_the_handler(echo: TestServer, path: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(url(echo, path)) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body["error"] == "bad_request" and "%00" in body["message"]


async def test_other_urls_pass_through_and_the_query_is_the_handlers_to_judge(echo: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(url(echo, "/things/%E6%96%B0?q=%25")) as resp:
            assert resp.status == 200
            assert await resp.json() == {"id": "新", "q": "%"}
        async with http.get(url(echo, "/things/x?q=a%00")) as resp:
            assert resp.status == 200
            assert await resp.json() == {"id": "x", "q": "a\x00"}
        async with http.get(url(echo, "/static/page.html")) as resp:
            assert resp.status == 200 and "hi" in await resp.text()


@pytest.mark.parametrize("name", ["a" * 256, "a" * 300 + "%2Fb", quote("长" * 100)])  # 长: 3 bytes each
async def test_a_static_name_longer_than_the_file_system_allows_is_a_404(echo: TestServer, name: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(url(echo, f"/static/{name}")) as resp:
        assert resp.status == 404  # aiohttp lets ENAMETOOLONG out as a 500
        assert (await resp.json())["error"] == "not_found"
