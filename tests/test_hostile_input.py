"""Hostile and bad input to every public route, over real HTTP (hypothesis).

The real app (``create_app``) runs on a real ``TestServer`` with the WeChat and platform
simulators; hypothesis drives every public route with what an attacker, a broken client
or a confused proxy might send: random bytes, random and malformed XML (entity bombs,
external entities, deep nesting), JSON of every shape and wrong types, huge strings,
Unicode with control characters and lone surrogates, random path segments and traversal
attempts, random, forged, missing or replayed signatures and tokens, oversized bodies
(declared or chunked), console requests without a login or a CSRF token.

The property for every request: a status below 500; a JSON error body where the API
answers JSON; nothing logged at ERROR by the server (an unhandled exception, a task that
died); and the process still answers ``/healthz`` after each example. XML bombs and
external entities are refused (4xx) within ``BOMB_SECONDS`` and no file content comes
back. A genuine, signed WeChat text message with any Unicode text gets a well-formed XML
reply (or ``success``).

The database is not what is under test, but random strings meet SQL here (ids, examples,
callbacks), so the routes that store or look up what they are given run on SQLite and
PostgreSQL (the ``settings`` fixture's matrix); the rest runs on SQLite only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import xmltodict
from aiohttp.test_utils import TestServer, make_mocked_request
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from wechatpy.crypto import WeChatCrypto
from yarl import URL

from bot.dialogue.scripted import Citizen
from bot.nlu.data import TrainingData, dump, read_dir, read_file
from bot.settings import ROOT, Settings
from bot.validators import id_card_check_char
from handlers.app import create_app
from handlers.auth import loads
from handlers.ivr import TurnIn
from handlers.keys import SERVICES
from integrations import platform as platform_api
from integrations.simulators.platform import PlatformSim
from tests.conftest import MP_APPID, MP_SECRET, serving
from tests.console_helpers import PASSWORD, MiniCitizen, Staff, make_account

WX_TOKEN, WX_APPID = "hostile-wx-token", "wx0123456789abcdef"
WX_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"  # 43 characters: safe mode on
PLATFORM_SECRET, HOTLINE_SECRET, PLATFORM_KEY = "platform-cb-secret", "hotline-cb-secret", "platform-key"
REQUEST_SECONDS = 20  # any one request; the slowest honest one is a dialogue turn or a training with ?wait=1
BOMB_SECONDS = 3  # an XML bomb must be refused well within this
CALLBACK_MAX = 16 * 1024
STATIC_DIRS = (ROOT / "handlers" / "static" / "demo", ROOT / "handlers" / "static" / "console")
NLU_INTENTS = {"greet", "goodbye", "thanks", "out_of_scope", "human_handoff", "thing_newborn"}

CROSS_TALK = "could not switch to the announced NLU model"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


EXAMPLES_SCALE = float(os.environ.get("FUZZ_SCALE", "1"))  # `make fuzz` draws more of them


def examples(n: int) -> settings:
    # one server per test, shared by its examples: the function-scoped fixtures are meant
    return settings(
        max_examples=max(1, round(n * EXAMPLES_SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---- what is sent ----------------------------------------------------------------------------------------------

NASTY_TEXT = [
    "", " ", "\x00", "\ud800", "a\udfffb", "\u202e", "\ufeff", "\x1b[31m", "\r\n", "0\n", "١٢٣-٤", "１２３",
    "../../../../etc/passwd", "%00", "'; DROP TABLE applications; --", "<script>alert(1)</script>", "{{7*7}}",
    "${jndi:ldap://x}", "null", "NaN", "-1", "99999999999999999999", "1e309", "]]>", "<![CDATA[", "&amp;", "😀" * 3,
    "转人工", "确认提交", "办事码 123456", "210102199003074522", "13812345678",
]  # fmt: skip
any_char = st.characters(exclude_categories=())  # control characters and lone surrogates included
huge_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["长", "a", "\x00", "😀", "\ud800"]), st.integers(2_001, 120_000)
)
texts = st.one_of(st.text(max_size=60), st.text(any_char, max_size=60), st.sampled_from(NASTY_TEXT))
short_texts = st.one_of(st.text(max_size=20), st.text(any_char, max_size=20), st.sampled_from(NASTY_TEXT))
big_ints = st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**40, -1, 0])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), big_ints, st.floats(allow_nan=False, allow_infinity=False), texts
)
json_values = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(short_texts, kids, max_size=4), max_leaves=10
)


def _deep(n: int, kind: str) -> bytes:
    return ('{"a":' * n + "1" + "}" * n).encode() if kind == "{" else ("[" * n + "]" * n).encode()


deep_json = st.builds(
    _deep, st.one_of(st.integers(50, 100_000), st.sampled_from([1_500, 4_000])), st.sampled_from(["[", "{"])
)
odd_bodies = st.sampled_from(
    [b"", b"null", b"{", b'{"a":', b"\xff\xfe{\x00}", b'{"text": "\\ud800"}', b"NaN", b"[1e999]", b"[]", b"0",
     b'"just a string"', b"\xef\xbb\xbf{}", b'{"a": 1, "a": 2}', b"{'single': 'quotes'}"]
)  # fmt: skip


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: lone surrogates travel as \ud800 escapes, as JSON allows


APP_BODY_LIMIT = 1024 * 1024  # the app's client_max_size: escaped, a huge text can outgrow it


def statuses(body: bytes, *expected: int, early: tuple[int, ...] = ()) -> tuple[int, ...]:
    """What a body may get: one of ``expected``; over the app's limit, a 413, or one of ``early``, the
    answers a handler gives before it reads the body (an unknown one-thing's 404)."""
    return (413, *early) if len(body) > APP_BODY_LIMIT else expected


raw_bodies = st.one_of(st.binary(max_size=200), json_values.map(dumps), deep_json, odd_bodies, huge_text.map(dumps))
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "application/json; charset=x-unknown", "text/plain",
     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ""]
)  # fmt: skip


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[bytes]:
    """A JSON object with some of the expected keys, each holding a plausible value or anything at all,
    sometimes with a stray key; or any body at all."""
    obj = st.fixed_dictionaries(
        {}, optional={k: st.one_of(v, json_values) for k, v in fields.items()} | {"zz_extra": json_values}
    )
    return st.one_of(obj.map(dumps), obj.map(dumps), raw_bodies)


def segment() -> st.SearchStrategy[str]:
    """A random path segment, percent-encoded (``.`` too, so that the URL is not normalised away)."""
    raw = st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(["..", ".", "%2e%2e", "0", "-1", "1" * 30]))
    return raw.map(lambda s: quote(s, safe="").replace(".", "%2E") or "x")


def one_of_these(options: list[Any]) -> st.SearchStrategy[Any]:
    """One of what the server holds now: drawn as an index, so that hypothesis replays an example alike."""
    return st.integers(0, 2**16).map(lambda i: options[i % len(options)])


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: values.get(m.group(1), "x"), template)


# ---- the server and the property ------------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Whatever the server logs at ERROR: an unhandled exception (aiohttp's 500), a task that died."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "bot.nlu.training" and record.getMessage().startswith(CROSS_TALK):
            return  # Redis pub/sub spans databases: another test run's activation, not this server's doing
        self.records.append(record)

    def check(self) -> None:
        if self.records:
            shown = [f"{r.name}: {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]
            self.records.clear()
            raise AssertionError("the server logged errors:\n" + "\n".join(shown))


@dataclass
class Answer:
    status: int
    content_type: str
    headers: Any
    body: bytes
    routed: bool = True  # False: no route takes the path, aiohttp's router answered

    def json(self) -> Any:
        return json.loads(self.body)


class Probe:
    """Requests to the app, each checked against the property."""

    def __init__(self, server: TestServer, http: aiohttp.ClientSession, errors: ErrorLog) -> None:
        self.server = server
        self.http = http
        self.errors = errors

    def url(self, path: str, query: str = "") -> URL:
        base = str(self.server.make_url("")).rstrip("/")
        return URL(base + path + (f"?{query}" if query else ""), encoded=True)

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        json_api: bool = True,
        timeout: float = REQUEST_SECONDS,
        http: aiohttp.ClientSession | None = None,
        **kwargs: Any,
    ) -> Answer:
        url = self.url(path, query)
        started = time.monotonic()
        async with (http or self.http).request(
            method, url, allow_redirects=False, timeout=aiohttp.ClientTimeout(total=timeout), **kwargs
        ) as resp:
            answer = Answer(resp.status, resp.content_type, resp.headers, await resp.read())
        where = f"{method} {url} ({time.monotonic() - started:.2f}s)"
        assert answer.status < 500, f"{where} -> {answer.status}: {answer.body[:400]!r}"
        answer.routed = not await self.unrouted(method, url, answer)
        if json_api and answer.status >= 400 and answer.routed:
            assert answer.content_type == "application/json", (
                f"{where} -> {answer.status} {answer.content_type}: {answer.body[:200]!r}"
            )
            body = answer.json()
            assert isinstance(body, dict) and isinstance(body.get("error"), str) and "message" in body, (where, body)
        self.errors.check()
        return answer

    async def unrouted(self, method: str, url: URL, answer: Answer) -> bool:
        """aiohttp's own plain 404/405 for a path no route takes (a segment with ``{``, ``}`` or ``/``):
        the router answers before any handler (a JSON 404 there needs an app-wide middleware); and a NUL
        in the path, a JSON 400 before any handler, login or not (``handlers/odd_urls.py``)."""
        if "%00" in url.raw_path:
            assert answer.status == 400 and answer.json().get("error") == "bad_request", answer
            return True
        if answer.status not in (404, 405) or answer.body not in (b"404: Not Found", b"405: Method Not Allowed"):
            return False
        request = make_mocked_request(method, url.raw_path_qs, app=self.server.app)
        return (await self.server.app.router.resolve(request)).http_exception is not None

    async def alive(self) -> None:
        async with self.http.get(self.url("/healthz"), timeout=aiohttp.ClientTimeout(total=10)) as resp:
            assert resp.status == 200, await resp.text()
        self.errors.check()


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with serving(PlatformSim(tmp_path / "platform.db", PLATFORM_KEY, PLATFORM_SECRET, pace=0).app()) as server:
        yield server


@pytest.fixture
def nlu_data(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Path]:
    """nlu_data/ as shipped; parametrised ``"slice"``: a few intents, so that retraining (an admin route) takes
    seconds, not minutes."""
    if getattr(request, "param", None) != "slice":
        return {}

    def cut(data: TrainingData) -> TrainingData:
        kept = [e for e in data.examples if e.intent in NLU_INTENTS]
        return TrainingData(examples=kept, synonyms=data.synonyms, lookups=data.lookups, regexes=data.regexes)

    data_dir = tmp_path / "nlu_data"
    data_dir.mkdir()
    (data_dir / "nlu.yml").write_text(dump(cut(read_dir(ROOT / "nlu_data"))), encoding="utf-8")
    shutil.copytree(ROOT / "nlu_data" / "jieba", data_dir / "jieba")
    held_out = tmp_path / "held_out.yml"
    held_out.write_text(dump(cut(read_file(ROOT / "tests" / "data" / "nlu_test.yml"))), encoding="utf-8")
    return {"nlu_data_dir": data_dir, "nlu_eval_file": held_out}


@pytest.fixture
def configured(settings: Settings, wechat: TestServer, platform: TestServer, nlu_data: dict[str, Path]) -> Settings:
    return settings.model_copy(
        update=nlu_data
        | {
            "wechat_token": SecretStr(WX_TOKEN),
            "wechat_appid": WX_APPID,
            "wechat_aes_key": SecretStr(WX_AES_KEY),
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            "platform_url": str(platform.make_url("")),
            "platform_key": SecretStr(PLATFORM_KEY),
            "platform_callback_secret": SecretStr(PLATFORM_SECRET),
            "hotline_callback_secret": SecretStr(HOTLINE_SECRET),
            # the platform simulator's own callbacks go nowhere: these tests send their own
            "public_base_url": "http://127.0.0.1:9",
        }
    )


@pytest.fixture
async def server(configured: Settings, errors: ErrorLog) -> AsyncIterator[TestServer]:
    app_server = TestServer(create_app(configured), host="127.0.0.1")
    await app_server.start_server()
    yield app_server
    await app_server.close()
    errors.check()  # what died after the last answer (a late WeChat turn, a training job)


@pytest.fixture
async def probe(server: TestServer, errors: ErrorLog) -> AsyncIterator[Probe]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        p = Probe(server, http, errors)
        yield p
        await p.alive()


def test_every_route_is_driven_here() -> None:
    """A new route must join these properties: ``DRIVEN`` (at the end) is compared with the app's router."""
    app = create_app(Settings())
    routes = {
        (r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD" and r.resource is not None
    }
    assert routes == DRIVEN, f"not driven here: {sorted(routes - DRIVEN)}; gone: {sorted(DRIVEN - routes)}"


# ---- WeChat ---------------------------------------------------------------------------------------------------


def wx_signed(timestamp: str | None = None, nonce: str | None = None, token: str = WX_TOKEN) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]  # WeChat draws a nonce per request; one is good for one message
    joined = "".join(sorted([token, timestamp, nonce])).encode("utf-8", "surrogatepass")  # drawn text may hold any
    signature = hashlib.sha1(joined).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def wx_message(fields: dict[str, str]) -> str:
    return "<xml>" + "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>"


def wx_text(content: str, sender: str = "oHostile") -> str:
    return wx_message(
        {
            "ToUserName": "gh_lnyjs",
            "FromUserName": sender,
            "CreateTime": str(int(time.time())),
            "MsgType": "text",
            "Content": content,
            "MsgId": str(uuid.uuid4().int >> 72),
        }
    )


def xml_legal(text: str) -> bool:
    """XML 1.0's Char production: what a genuine message can carry at all."""
    return all(
        c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or 0x10000 <= ord(c) <= 0x10FFFF
        for c in text
    )


def safe_mode(xml: str) -> tuple[dict[str, str], str]:
    """The message as WeChat sends it in safe mode: the query and the encrypted envelope."""
    crypto = WeChatCrypto(WX_TOKEN, WX_AES_KEY, WX_APPID)
    stamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    envelope = crypto.encrypt_message(xml, nonce, stamp)
    signature = xmltodict.parse(envelope)["xml"]["MsgSignature"]
    return {"encrypt_type": "aes", "msg_signature": signature, "timestamp": stamp, "nonce": nonce}, envelope


@contextlib.contextmanager
def plain_mode(probe: Probe, plain: bool = True) -> Iterator[None]:
    """The probed app as a deployment without safe mode (no WECHAT_AES_KEY) for the block: with the key
    set, every plain post is refused, and the plain wire format must hold up where it is allowed."""
    services = probe.server.app[SERVICES]
    kept = services.settings
    if plain:
        services.settings = kept.model_copy(update={"wechat_aes_key": None})
    try:
        yield
    finally:
        services.settings = kept


def unwrap(envelope: str) -> str:
    outer = xmltodict.parse(envelope)["xml"]
    crypto = WeChatCrypto(WX_TOKEN, WX_AES_KEY, WX_APPID)
    return str(crypto.decrypt_message(envelope, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]))


def qs(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())


tag_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,10}", fullmatch=True)
xml_text = texts.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;"))
random_xml = st.recursive(
    xml_text,
    lambda kids: st.tuples(tag_names, st.lists(kids, max_size=3)).map(lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"),
    max_leaves=12,
).map(lambda inner: f"<xml>{inner}</xml>")
MSG_TYPES = ["text", "image", "voice", "video", "shortvideo", "location", "link", "event", "device_text",
             "miniprogrampage"]  # fmt: skip
EVENTS = ["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN", "LOCATION", "TEMPLATESENDJOBFINISH", "scancode_push"]
field_values = st.one_of(texts, st.integers().map(str), st.sampled_from(["", "0", "-1", "99999999999999999999999"]))
random_message = st.fixed_dictionaries(
    {"MsgType": st.one_of(st.sampled_from(MSG_TYPES), short_texts)},
    optional={
        "ToUserName": field_values,
        "FromUserName": st.one_of(st.just("oHostile"), field_values),
        "CreateTime": st.one_of(st.just(str(int(time.time()))), field_values),
        "MsgId": field_values,
        "Content": field_values,
        "Event": st.one_of(st.sampled_from(EVENTS), field_values),
        "EventKey": st.one_of(st.sampled_from(["CATALOG", "HUMAN", "qrscene_1", "scanbarcode|x"]), field_values),
        "MediaId": field_values,
        "Format": field_values,
        "Recognition": field_values,
        "PicUrl": field_values,
        "Location_X": field_values,
        "Scale": field_values,
        "Latitude": field_values,
    },
).map(wx_message)

PASSWD = "file:///etc/passwd"
BOMBS = [
    # billion laughs: ten levels of ten
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]><xml><ToUserName>a</ToUserName><FromUserName>oBomb</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>",
    f'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "{PASSWD}">]><xml><FromUserName>oBomb</FromUserName>'
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>",
    f'<!DOCTYPE xml [<!ENTITY % p SYSTEM "{PASSWD}"> %p;]><xml><MsgType>text</MsgType></xml>',
    f'<!DOCTYPE xml SYSTEM "{PASSWD}"><xml><ToUserName>a</ToUserName><FromUserName>oBomb</FromUserName>'
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>3</MsgId></xml>",
    '<!DOCTYPE xml PUBLIC "-//X//EN" "http://127.0.0.1:9/x.dtd"><xml><FromUserName>oBomb</FromUserName>'
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>4</MsgId></xml>",
    '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">]>'
    "<xml><MsgType>text</MsgType><FromUserName>oBomb</FromUserName><Content>" + "&a;" * 5000 + "</Content></xml>",
    f'<?xml version="1.0"?><!DOCTYPE xml [<!ELEMENT xml ANY><!ENTITY xxe SYSTEM "{PASSWD}">]><xml>&xxe;</xml>',
    '<xml xmlns:xi="http://www.w3.org/2001/XInclude"><FromUserName>oBomb</FromUserName><MsgType>text</MsgType>'
    f'<CreateTime>1</CreateTime><Content><xi:include href="{PASSWD}" parse="text"/></Content><MsgId>5</MsgId></xml>',
]
bombs = st.one_of(
    st.sampled_from(BOMBS),
    st.integers(1, 20_000).map(lambda n: "<xml>" + "<a>" * n + "</a>" * n + "</xml>"),  # deep nesting
    st.integers(1, 12).map(
        lambda depth: (
            "<!DOCTYPE xml [<!ENTITY e0 'x'>"
            + "".join(f"<!ENTITY e{i} '{('&e' + str(i - 1) + ';') * 8}'>" for i in range(1, depth))
            + f"]><xml><MsgType>text</MsgType><Content>&e{depth - 1};</Content></xml>"
        )
    ),
)


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate goes out as the (invalid) bytes it would be


def raw_qs(params: dict[str, str]) -> str:
    """A query string of any text: lone surrogates go out as the bytes they would be (invalid UTF-8)."""
    return "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'), safe='')}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, v in params.items()
    )


@SQLITE_ONLY
@examples(60)
@given(
    params=st.fixed_dictionaries(
        {}, optional={k: st.one_of(texts, st.just("")) for k in ("signature", "timestamp", "nonce", "echostr")}
    ),
    genuine=st.none()
    | st.tuples(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20), st.text(min_size=1)),
)
async def test_wechat_url_verification_with_random_params(
    probe: Probe, params: dict[str, str], genuine: tuple[str, str, str] | None
) -> None:
    if genuine is None:  # anything at all: refused unless it happens to be signed
        answer = await probe.call("GET", "/wechat", query=raw_qs(params), json_api=False)
        assert answer.status in (400, 403), answer
    else:  # signed over a random timestamp and nonce: the random echostr comes back exactly
        stamp, nonce, echostr = genuine
        answer = await probe.call(
            "GET", "/wechat", query=qs({**wx_signed(stamp, nonce), "echostr": echostr}), json_api=False
        )
        assert answer.status == 200 and answer.body.decode() == echostr, answer
    await probe.alive()


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    """A body in pieces, as a proxy may forward it (no Content-Length)."""
    for i in range(0, len(data), size):
        yield data[i : i + size]
        await asyncio.sleep(0)


wx_queries = st.one_of(
    st.builds(wx_signed),  # genuine
    st.builds(lambda: {**wx_signed(), "signature": "0" * 40}),  # forged
    st.builds(lambda: {k: v for k, v in wx_signed().items() if k != "signature"}),  # unsigned
    st.builds(lambda: {"encrypt_type": "aes", "msg_signature": "0" * 40, **wx_signed()}),  # safe mode, forged
    st.fixed_dictionaries(
        {}, optional={k: short_texts for k in ("signature", "timestamp", "nonce", "encrypt_type", "msg_signature")}
    ),
)


@SQLITE_ONLY
@examples(120)
@given(
    query=wx_queries,
    body=st.one_of(st.binary(max_size=300), random_xml.map(utf8), random_message.map(utf8)),
    mode=st.sampled_from(["plain", "safe", "chunked"]),
)
async def test_wechat_garbage_is_refused_or_answered_politely(
    probe: Probe, query: dict[str, str], body: bytes, mode: str
) -> None:
    """Random bytes, random XML and random message-shaped XML (any type, any field values), plain,
    encrypted (safe mode) or chunked; signed, forged, unsigned: never a 500."""
    if mode == "safe":
        query, envelope = safe_mode(body.decode("utf-8", "replace"))
        body = envelope.encode()
    data: Any = chunked(body, 7) if mode == "chunked" else body
    with plain_mode(probe, mode != "safe"):
        answer = await probe.call("POST", "/wechat", query=raw_qs(query), data=data, json_api=False)
    signed = mode == "safe" or query.get("signature") == wx_signed(
        query.get("timestamp", ""), query.get("nonce", "")
    ).get("signature")
    if not signed:
        assert answer.status in (400, 403), answer
    elif answer.status == 200 and answer.body != b"success":
        reply = xmltodict.parse(unwrap(answer.body.decode()) if mode == "safe" else answer.body)["xml"]
        assert reply["MsgType"] == "text" and reply["Content"], reply
    else:
        assert answer.status in (200, 400), answer
    await probe.alive()


@SQLITE_ONLY
@examples(80)
@given(
    content=st.one_of(
        st.text(max_size=300),
        st.text(any_char, max_size=300),
        st.sampled_from(NASTY_TEXT),
        huge_text.map(lambda t: t[:4000]),
    ),
    mode=st.sampled_from(["plain", "safe", "chunked"]),
)
async def test_wechat_text_with_any_unicode_gets_a_well_formed_reply(probe: Probe, content: str, mode: str) -> None:
    """A genuine, signed text message: any text WeChat can carry gets 200 with well-formed XML addressed to
    the sender (or ``success``); characters XML cannot carry at all are refused (400), never a 500."""
    xml = wx_text(content, sender="oUnicode")
    if mode == "safe":
        query, envelope = safe_mode(xml.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
        data: Any = envelope.encode()
    else:
        query, raw = wx_signed(), xml.encode("utf-8", "surrogatepass")
        data = chunked(raw, 11) if mode == "chunked" else raw
    with plain_mode(probe, mode != "safe"):
        answer = await probe.call("POST", "/wechat", query=qs(query), data=data, json_api=False)
    # in safe mode a lone surrogate was already replaced (U+FFFD) before encryption
    legal = xml_legal(
        content if mode != "safe" else content.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    )
    if not legal:
        assert answer.status == 400, answer
        return
    assert answer.status == 200, answer
    event("reply: success" if answer.body == b"success" else "reply: text")
    if answer.body != b"success":
        reply = xmltodict.parse(unwrap(answer.body.decode()) if mode == "safe" else answer.body)["xml"]
        assert reply["ToUserName"] == "oUnicode" and reply["FromUserName"] == "gh_lnyjs", reply
        assert reply["MsgType"] == "text" and reply["Content"].strip(), reply
    await probe.alive()


@SQLITE_ONLY
@examples(40)
@given(bomb=bombs, mode=st.sampled_from(["plain", "safe", "envelope"]))
async def test_wechat_xml_bombs_and_external_entities_are_refused_quickly(probe: Probe, bomb: str, mode: str) -> None:
    """Entity expansion, external entities and DTDs, XInclude, deep nesting: refused (4xx) within
    BOMB_SECONDS, in plain mode, inside a safe-mode message and as the safe-mode envelope itself;
    nothing of /etc/passwd ever comes back."""
    if mode == "safe":
        query, body = safe_mode(bomb)
    elif mode == "envelope":  # the bomb is the outer XML: its signature cannot even be looked at
        query, body = {"encrypt_type": "aes", "msg_signature": "0" * 40, **wx_signed()}, bomb
    else:
        query, body = wx_signed(), bomb
    started = time.monotonic()
    with plain_mode(probe, mode == "plain"):
        answer = await probe.call(
            "POST", "/wechat", query=qs(query), data=body.encode(), json_api=False, timeout=BOMB_SECONDS
        )
    assert time.monotonic() - started < BOMB_SECONDS
    text = unwrap(answer.body.decode()) if mode == "safe" and answer.status == 200 else answer.body.decode()
    assert "root:" not in text and "/bin/" not in text, text[:300]
    assert 400 <= answer.status < 500, (answer, bomb[:200])  # 413 too: encrypted, a deep one may outgrow the limit
    await probe.alive()


@SQLITE_ONLY
@examples(25)
@given(extra=st.integers(1, 300_000), declared=st.booleans(), piece=st.integers(100, 70_000))
async def test_wechat_oversized_bodies_get_413(probe: Probe, extra: int, declared: bool, piece: int) -> None:
    """Over WECHAT_MAX_BODY_BYTES, whether the size is declared (Content-Length) or not (chunked)."""
    limit = probe.server.app[SERVICES].settings.wechat_max_body_bytes
    body = wx_text("长" * ((limit + extra) // 3)).encode()
    data: Any = body if declared else chunked(body, piece)
    answer = await probe.call("POST", "/wechat", query=qs(wx_signed()), data=data, json_api=False)
    assert answer.status == 413, answer
    await probe.alive()


@SQLITE_ONLY
@examples(20)
@given(age=st.integers(310, 10**9), content=st.text(min_size=1, max_size=50).filter(xml_legal))
async def test_wechat_replayed_messages_never_break_anything(probe: Probe, age: int, content: str) -> None:
    """A genuine message replayed (an old timestamp, the same MsgId again): refused as stale, never a 500."""
    old = str(int(time.time()) - age)
    xml = wx_text(content.replace("\r", ""), sender="oReplay")
    with plain_mode(probe):
        first = await probe.call("POST", "/wechat", query=qs(wx_signed(old)), data=xml.encode(), json_api=False)
        again = await probe.call("POST", "/wechat", query=qs(wx_signed(old)), data=xml.encode(), json_api=False)
    assert first.status == again.status == 403 and first.body == again.body, (first, again)
    await probe.alive()


# ---- the mini-program / 辽事通 API ---------------------------------------------------------------------------------


async def mp_login(probe: Probe, code: str = "code-of-hostile") -> str:
    answer = await probe.call(
        "POST", "/api/mp/login", data=dumps({"code": code}), headers={"Content-Type": "application/json"}
    )
    assert answer.status == 200, answer
    return str(answer.json()["token"])


def id_number(born: date) -> str:
    first17 = f"210102{born:%Y%m%d}123"
    return first17 + id_card_check_char(first17)


def voucher(key: str, name: str, number: str, issued_at: int) -> dict[str, Any]:
    signature = hmac.new(
        key.encode(), f"{number}|{name}|{issued_at}".encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()
    return {"name": name, "id_number": number, "issued_at": issued_at, "signature": signature}


DEV_IDENTITY_KEY = Settings().liaoshitong_identity_key.get_secret_value()
vouchers = st.one_of(
    st.builds(  # signed with the shared key: fresh or stale, any name, a valid or random ID number
        lambda name, number, age: voucher(DEV_IDENTITY_KEY, name, number, int(time.time()) - age),
        st.one_of(st.text(min_size=1, max_size=30), short_texts),
        st.one_of(st.dates(date(1900, 1, 1), date(2020, 1, 1)).map(id_number), st.text(min_size=18, max_size=18)),
        st.one_of(st.integers(-60, 60), st.integers(601, 10**6), st.just(-(10**6))),
    ),
    st.builds(
        lambda name, number, at, sig: {"name": name, "id_number": number, "issued_at": at, "signature": sig},
        short_texts,
        short_texts,
        st.one_of(st.integers(), big_ints),
        st.text(min_size=64, max_size=64),
    ),
)


@examples(60)
@given(
    body=shaped({"code": st.one_of(st.text(min_size=1, max_size=128), st.just("bad-code")), "identity": vouchers}),
    ctype=content_types,
)
async def test_mp_login_with_any_body(probe: Probe, body: bytes, ctype: str) -> None:
    answer = await probe.call("POST", "/api/mp/login", data=body, headers={"Content-Type": ctype})
    assert answer.status in (200, 400, 401, 413), answer
    if answer.status == 200:
        assert isinstance(answer.json()["token"], str)
    await probe.alive()


MP_AUTHENTICATED = [
    ("POST", "/api/chat"), ("GET", "/api/chat/updates"), ("GET", "/api/me/applications"),
    ("POST", "/api/me/applications/{id}/rating"), ("POST", "/api/me/subscriptions"),
    ("GET", "/api/things/{id}/form"), ("PUT", "/api/things/{id}/draft"), ("POST", "/api/things/{id}/submit"),
]  # fmt: skip
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=300)


def forged_tokens(real: str) -> st.SearchStrategy[str | None]:
    other = Fernet(Fernet.generate_key())
    return st.one_of(
        st.none(),  # no header at all
        header_text,  # anything
        header_text.map(lambda t: "Bearer " + t),
        st.just("Bearer " + other.encrypt(b'{"openid": "someone-else", "iat": 1}').decode()),  # another key
        st.integers(0, len(real) - 1).map(
            lambda i: "Bearer " + real[:i] + ("A" if real[i] != "A" else "B") + real[i + 1 :]
        ),
        st.integers(0, len(real) - 1).map(lambda i: "Bearer " + real[:i]),  # cut short
        st.just("Basic " + real),
    )


@examples(80)
@given(data=st.data())
async def test_mp_refuses_missing_random_forged_and_altered_tokens(probe: Probe, settings: Settings, data: Any) -> None:
    real = await mp_login(probe, "code-of-token-owner")
    stale = (
        Fernet(settings.data_keys.get_secret_value().split(",")[0].strip())
        .encrypt_at_time(b'{"openid": "o-old", "iat": 1}', int(time.time()) - 7300)
        .decode()
    )  # a genuine token, replayed after it expired
    auth = data.draw(st.one_of(forged_tokens(real), st.just("Bearer " + stale)), label="authorization")
    method, template = data.draw(st.sampled_from(MP_AUTHENTICATED), label="route")
    path = fill(template, {"id": data.draw(st.one_of(st.just("newborn"), segment()), label="id")})
    headers = {} if auth is None else {"Authorization": auth}
    answer = await probe.call(method, path, data=data.draw(raw_bodies, label="body"), headers=headers, query="after=0")
    assert answer.status == 401 or not answer.routed, answer
    await probe.alive()


@examples(120)
@given(
    body=shaped(
        {
            "text": st.one_of(texts, huge_text, st.text(any_char, max_size=2000)),
            "choice": st.one_of(st.sampled_from(["start", "yes", "no", "0", "1"]), short_texts),
        }
    ),
    ctype=content_types,
)
async def test_mp_chat_with_any_body(probe: Probe, body: bytes, ctype: str) -> None:
    token = await mp_login(probe, "code-of-chatter")
    answer = await probe.call(
        "POST", "/api/chat", data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": ctype}
    )
    assert answer.status in (200, 400, 413), answer
    if answer.status == 200:
        out = answer.json()
        assert isinstance(out["replies"], list) and out["style"] and isinstance(out["cursor"], str), out
    await probe.alive()


STRICT_CURSOR = re.compile(r"[0-9]{1,15}-[0-9]{1,10}|0")


@examples(60)
@given(
    after=st.one_of(
        texts,
        st.from_regex(r"\d{1,15}-\d{1,10}", fullmatch=True),
        st.sampled_from(["0\n", "1-1\n", "٣-٣", "0 ", " 0", "99999999999999999-0"]),
    )
)
async def test_mp_updates_with_any_cursor(probe: Probe, after: str) -> None:
    """A cursor that is not a stream id is a 400 at once (a genuine one would long-poll: not sent here)."""
    assume(not STRICT_CURSOR.fullmatch(after))
    token = await mp_login(probe, "code-of-poller")
    answer = await probe.call(
        "GET",
        "/api/chat/updates",
        query=raw_qs({"after": after}),
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status == 400, answer
    await probe.alive()


@examples(100)
@given(data=st.data())
async def test_mp_catalog_forms_ratings_and_grants_with_random_ids_and_bodies(probe: Probe, data: Any) -> None:
    services = probe.server.app[SERVICES]
    token = await mp_login(probe, data.draw(st.sampled_from(["code-of-former", "code-of-other"]), label="who"))
    auth = {"Authorization": f"Bearer {token}"}
    things = sorted(services.catalog.things)
    thing = data.draw(st.one_of(st.sampled_from(things), segment()), label="thing")
    fields = [f.id for f in services.catalog.things[thing].form.fields] if thing in services.catalog.things else []
    field_ids = st.one_of(st.sampled_from(fields), short_texts) if fields else short_texts
    answers = st.dictionaries(field_ids, st.one_of(texts, huge_text), max_size=8)
    template = services.settings.miniprogram_progress_template
    route = data.draw(
        st.sampled_from(["list", "one", "form", "draft", "submit", "rate", "grants", "mine"]), label="route"
    )
    if route == "list":
        query = raw_qs(
            data.draw(
                st.fixed_dictionaries(
                    {}, optional={"category": st.one_of(st.sampled_from(["个人", "法人"]), texts), "q": texts}
                ),
                label="query",
            )
        )
        answer = await probe.call("GET", "/api/things", query=query)
        assert answer.status in (200, 400), answer
    elif route == "one":
        answer = await probe.call("GET", f"/api/things/{thing}")
        assert answer.status in (200, 404), answer
    elif route == "form":
        answer = await probe.call("GET", f"/api/things/{thing}/form", headers=auth)
        assert answer.status in (200, 404), answer
    elif route == "draft":
        body = data.draw(shaped({"answers": answers}), label="body")
        answer = await probe.call("PUT", f"/api/things/{thing}/draft", data=body, headers=auth)
        assert answer.status in statuses(body, 200, 400, 404, early=(404,)), answer
    elif route == "submit":
        answer = await probe.call("POST", f"/api/things/{thing}/submit", data=data.draw(raw_bodies), headers=auth)
        assert answer.status in (201, 404, 422), answer  # the body is not read: its size does not matter
    elif route == "rate":
        mine = (await probe.call("GET", "/api/me/applications", headers=auth)).json()["applications"]
        app_id = data.draw(st.one_of(segment(), one_of_these([a["id"] for a in mine] or ["none"])), label="app")
        body = data.draw(
            shaped(
                {
                    "score": st.integers(0, 6),
                    "comment": st.one_of(texts, huge_text),
                    "criteria": st.dictionaries(
                        st.sampled_from(["overall", "efficiency", "x"]), st.one_of(st.integers(0, 6), json_values)
                    ),
                }
            )
        )
        answer = await probe.call("POST", f"/api/me/applications/{app_id}/rating", data=body, headers=auth)
        assert answer.status in statuses(body, 201, 400, 404, 409), answer
    elif route == "grants":
        results = st.dictionaries(
            st.one_of(st.just(template), short_texts),
            st.one_of(st.sampled_from(["accept", "reject", "ban", "filter"]), json_values),
        )
        body = data.draw(shaped({"results": results}), label="body")
        answer = await probe.call("POST", "/api/me/subscriptions", data=body, headers=auth)
        assert answer.status in statuses(body, 200, 400), answer
    else:
        answer = await probe.call("GET", "/api/me/applications", query=raw_qs({"x": data.draw(texts)}), headers=auth)
        assert answer.status == 200, answer
    await probe.alive()


# ---- signed callbacks and the IVR ---------------------------------------------------------------------------------


@pytest.fixture
async def application(server: TestServer) -> tuple[str, list[str]]:
    """A newborn application the platform has taken: its 申办编号 and item keys (callbacks that reach the state machine)."""
    services = server.app[SERVICES]
    citizen = Citizen(services.dialogue, "mp:hostile-applicant", channel="miniprogram")
    await citizen.complete(services.catalog.things["newborn"], "新生儿出生一件事")
    worker = services.delivery()
    assert worker is not None and await worker.deliver_due() == 1
    [app] = await services.applications.progress("mp:hostile-applicant")
    return str(app["number"]), [str(i["key"]) for i in app["items"]]


SIGNINGS = ["signed", "unsigned", "no_signature", "no_timestamp", "forged", "stale", "future", "odd_stamp",
            "other_secret"]  # fmt: skip
# header values: any visible text (aiohttp's client refuses control characters itself); never a NaN, see below
kinds = st.one_of(st.just("signed"), st.sampled_from(SIGNINGS))  # half of them genuine: those reach the handler
odd_stamps = st.one_of(
    st.sampled_from(["inf", "-inf", "1e999", "", " ", "0x10", "1_700_000_000", "１７００", "-0"]),
    st.text(st.characters(min_codepoint=0x20, exclude_characters="\x7f", codec="utf-8"), max_size=20),
).filter(lambda t: t.strip().lower().lstrip("+-") != "nan")


def signed_headers(kind: str, prefix: str, secret: str, body: bytes, odd: str, age: int) -> dict[str, str]:
    """The signature headers of one kind of request: genuine, missing, forged, replayed (stale), from the future…"""
    now = int(time.time())
    stamp = {"stale": str(now - age), "future": str(now + age), "odd_stamp": odd}.get(kind, str(now))
    key = "not-the-secret" if kind == "other_secret" else secret
    signature = platform_api.sign(key, stamp, body)  # the 12345 platform signs the same way (hotline.sign)
    if kind == "forged":
        signature = ("0" if signature[0] != "0" else "1") + signature[1:]
    headers = {f"X-{prefix}-Timestamp": stamp, f"X-{prefix}-Signature": signature, "Content-Type": "application/json"}
    if kind == "unsigned":
        return {"Content-Type": "application/json"}
    if kind == "no_signature":
        del headers[f"X-{prefix}-Signature"]
    if kind == "no_timestamp":
        del headers[f"X-{prefix}-Timestamp"]
    return headers


PLATFORM_STATUSES = ["已受理", "审批中", "需补正", "已办结", "不予受理"]
seqs = st.one_of(st.integers(-5, 50), big_ints, big_ints, st.integers())


@examples(100)
@given(data=st.data(), kind=kinds, odd=odd_stamps, age=st.integers(310, 10**9))
async def test_platform_callbacks_forged_replayed_and_signed_garbage(
    probe: Probe, application: tuple[str, list[str]], data: Any, kind: str, odd: str, age: int
) -> None:
    number, items = application
    status_event = st.fixed_dictionaries(
        {
            "event_id": st.one_of(st.uuids().map(lambda u: u.hex), texts),
            "number": st.one_of(st.just(number), texts),
            "item": st.one_of(st.sampled_from(items), texts),
            "status": st.one_of(st.sampled_from(PLATFORM_STATUSES), short_texts),
            "seq": seqs,
        },
        optional={"note": st.one_of(texts, huge_text), "at": texts, "detail": json_values},
    )
    body = data.draw(
        st.one_of(
            status_event.map(dumps), status_event.map(dumps), shaped({"event_id": texts, "seq": seqs}), raw_bodies
        )
    )
    headers = signed_headers(kind, "Platform", PLATFORM_SECRET, body, odd, age)
    await callback_refused_or_taken(probe, "/callbacks/platform", body, headers, kind)


async def callback_refused_or_taken(probe: Probe, path: str, body: bytes, headers: dict[str, str], kind: str) -> None:
    """Too big: 413; not signed as it must be: 401; signed: taken, or refused as malformed or unknown."""
    answer = await probe.call("POST", path, data=body, headers=headers)
    if len(body) > CALLBACK_MAX:
        assert answer.status == 413, answer
    elif kind != "signed":
        assert answer.status == 401, answer
    else:
        assert answer.status in (200, 400, 404), answer
    await probe.alive()


HOTLINE_STATUSES = ["已受理", "已派单", "办理中", "已办结", "已回访"]


@examples(80)
@given(data=st.data(), kind=kinds, odd=odd_stamps, age=st.integers(310, 10**9))
async def test_hotline_callbacks_forged_replayed_and_signed_garbage(
    probe: Probe, data: Any, kind: str, odd: str, age: int
) -> None:
    stamps = st.sampled_from(["2026-11-23T15:00:00+08:00", "2026-11-23T15:00:00", "9999-12-31T23:59:59Z"])
    status_event = st.fixed_dictionaries(
        {
            "event_id": texts,
            "number": texts,
            "external_id": texts,
            "status": st.one_of(st.sampled_from(HOTLINE_STATUSES), st.sampled_from(HOTLINE_STATUSES), short_texts),
            "seq": seqs,
            "at": st.one_of(stamps, stamps, texts),
        },
        optional={"result": st.one_of(texts, st.none()), "feedback": st.one_of(texts, st.none())},
    )
    body = data.draw(st.one_of(status_event.map(dumps), status_event.map(dumps), raw_bodies))
    headers = signed_headers(kind, "Hotline", HOTLINE_SECRET, body, odd, age)
    await callback_refused_or_taken(probe, "/callbacks/hotline", body, headers, kind)


@SQLITE_ONLY
async def test_a_nan_timestamp_is_never_fresh(probe: Probe) -> None:
    """``abs(now - nan) > 300`` is False: a NaN timestamp must be refused, or a request signed with one could be
    replayed forever."""
    body = dumps({"call_id": "IVR-nan", "caller": "13812345678", "event": "start"})
    for path in ("/ivr/turn", "/callbacks/hotline"):
        answer = await probe.call(
            "POST", path, data=body, headers=signed_headers("odd_stamp", "Hotline", HOTLINE_SECRET, body, "nan", 0)
        )
        assert answer.status == 401, (path, answer)


def born(years: int) -> str:
    today = date.today()
    return id_number(date(today.year - years, today.month, min(today.day, 28)))


callers = st.sampled_from(["13812345678", "024-23456789", "02423456789", "13900000001"])
valid_turns = st.fixed_dictionaries(  # well-formed steps: what the caller said is anything at all
    {
        "call_id": st.one_of(
            st.sampled_from(["IVR-hostile-1", "IVR-hostile-2"]), st.from_regex(r"[!-~]{1,64}", fullmatch=True)
        ),
        "caller": callers,
    },
    optional={"caller_id_number": st.sampled_from([born(30), born(70), born(90), "21010219900307452X"])},
).flatmap(
    lambda turn: st.one_of(
        st.sampled_from(["start", "silence", "nomatch", "hangup"]).map(lambda e: {**turn, "event": e}),
        st.one_of(
            st.text(max_size=500),
            st.text(any_char, max_size=500),
            st.sampled_from(NASTY_TEXT),
            st.sampled_from(["人工", "再说一遍", "再见", "新生儿出生", "办事清单", "开始办理"]),
        ).map(lambda t: {**turn, "asr_text": t}),
        st.from_regex(r"[0-9*#]{1,20}", fullmatch=True).map(lambda k: {**turn, "dtmf": k}),
    )
)
turns = st.fixed_dictionaries(
    {
        "call_id": st.one_of(st.sampled_from(["IVR-hostile-1", "IVR-hostile-2"]), short_texts),
        "caller": st.one_of(
            st.sampled_from(["13812345678", "024-23456789", "02423456789", "13900000001"]),
            st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
            short_texts,
        ),
    },
    optional={
        "event": st.one_of(st.sampled_from(["start", "silence", "nomatch", "hangup"]), short_texts, st.integers()),
        "asr_text": st.one_of(
            texts, huge_text.map(lambda t: t[:600]), st.sampled_from(["人工", "再说一遍", "再见", "新生儿出生"])
        ),
        "dtmf": st.one_of(st.from_regex(r"[0-9*#]{1,20}", fullmatch=True), short_texts, st.integers()),
        "caller_id_number": st.one_of(
            st.sampled_from([born(30), born(70), born(90)]), st.from_regex(r"\d{17}[\dXx]", fullmatch=True), short_texts
        ),
        "zz_extra": json_values,
    },
)


@examples(120)
@given(
    body=st.one_of(valid_turns.map(dumps), valid_turns.map(dumps), turns.map(dumps), raw_bodies),
    kind=kinds,
    odd=odd_stamps,
    age=st.integers(310, 10**9),
)
async def test_ivr_turns_forged_replayed_malformed_and_random(
    probe: Probe, body: bytes, kind: str, odd: str, age: int
) -> None:
    """A genuine, well-formed step always gets 200 with an answer the IVR can play, and never by way of the
    catch-all (a turn that failed inside is logged at ERROR, which fails here); anything else is a 4xx."""
    headers = signed_headers(kind, "Hotline", HOTLINE_SECRET, body, odd, age)
    answer = await probe.call("POST", "/ivr/turn", data=body, headers=headers)
    if len(body) > CALLBACK_MAX:
        assert answer.status == 413, answer
        return
    if kind != "signed":
        assert answer.status == 401, answer
        return
    try:
        TurnIn.model_validate(loads(body))  # as the edge reads it: a NUL in any text is malformed
        well_formed = True
    except (ValueError, RecursionError):
        well_formed = False
    if not well_formed:
        assert answer.status == 400, answer
        return
    assert answer.status == 200, answer
    out = answer.json()
    event(f"ivr: {out['action']}")
    assert out["action"] in ("continue", "transfer", "hangup") and isinstance(out["prompt"], str), out
    assert out["expect"] in ("speech_or_dtmf", "none"), out
    await probe.alive()


# ---- the consoles and the admin API -------------------------------------------------------------------------------

AGENT_API = [
    ("POST", "/console/api/logout"), ("GET", "/console/api/me"), ("GET", "/console/api/queue"),
    ("POST", "/console/api/handovers/{id}/claim"), ("GET", "/console/api/handovers/{id}"),
    ("POST", "/console/api/handovers/{id}/messages"), ("POST", "/console/api/handovers/{id}/handback"),
    ("POST", "/console/api/handovers/{id}/close"), ("POST", "/console/api/handovers/{id}/release"),
    ("POST", "/console/api/handovers/{id}/corrections"), ("POST", "/console/api/phone-drafts"),
    ("GET", "/console/api/intents"), ("GET", "/console/ws/handovers/{id}"),
]  # fmt: skip
NLU_API = [
    ("POST", "/api/admin/nlu/parse"), ("GET", "/api/admin/nlu/intents"), ("GET", "/api/admin/nlu/entities"),
    ("GET", "/api/admin/nlu/examples"), ("POST", "/api/admin/nlu/examples"), ("PUT", "/api/admin/nlu/examples/{id}"),
    ("DELETE", "/api/admin/nlu/examples/{id}"), ("GET", "/api/admin/nlu/fallbacks"),
    ("POST", "/api/admin/nlu/fallbacks/{id}/label"), ("POST", "/api/admin/nlu/fallbacks/{id}/dismiss"),
    ("POST", "/api/admin/nlu/models"), ("GET", "/api/admin/nlu/models"), ("GET", "/api/admin/nlu/training"),
    ("GET", "/api/admin/nlu/training/{job}"), ("POST", "/api/admin/nlu/models/rollback"),
    ("GET", "/api/admin/nlu/models/{version}/report"), ("GET", "/api/admin/nlu/models/{version}/confusion.{fmt}"),
    ("POST", "/api/admin/nlu/models/{version}/activate"), ("GET", "/api/admin/nlu/export"),
]  # fmt: skip
ADMIN_API = [
    *NLU_API,
    ("GET", "/console/api/catalog/things"), ("GET", "/console/api/catalog/things/{id}"),
    ("POST", "/console/api/catalog/things/{id}/check"), ("POST", "/console/api/catalog/things/{id}/elements"),
    ("PUT", "/console/api/catalog/things/{id}/yaml"), ("GET", "/console/api/catalog/things/{id}/versions"),
    ("POST", "/console/api/catalog/things/{id}/versions/{version}/republish"),
    ("GET", "/console/api/admin/dead-letters"), ("POST", "/console/api/admin/dead-letters/{id}/retry"),
    ("GET", "/console/api/admin/ratings"), ("POST", "/console/api/admin/privacy/forget"),
    ("GET", "/console/api/dashboard"),
]  # fmt: skip
CONSOLE_PAGES = [("/console/agent", "agent"), ("/console/admin", "admin"), ("/console/catalog", "admin"),
                 ("/console/intents", "admin"), ("/console/dashboard", "admin")]  # fmt: skip
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def console_path(data: Any, template: str) -> str:
    values = {name: data.draw(segment(), label=name) for name in ("id", "version", "job")}
    values["fmt"] = data.draw(st.sampled_from(["png", "svg"]), label="fmt")
    return fill(template, values)


@SQLITE_ONLY
@examples(80)
@given(data=st.data(), cookie=st.one_of(st.none(), header_text, st.just("0" * 43)))
async def test_console_without_a_login(probe: Probe, data: Any, cookie: str | None) -> None:
    """No login (or a random cookie): every API route 401 in JSON, every page a redirect to the login page."""
    headers = {} if cookie is None else {"Cookie": f"lnyjs_console={quote(cookie, safe='')}"}
    if data.draw(st.booleans(), label="page"):
        path, _ = data.draw(st.sampled_from(CONSOLE_PAGES), label="page path")
        answer = await probe.call("GET", path, query=raw_qs({"x": data.draw(texts)}), headers=headers, json_api=False)
        assert answer.status == 303 and answer.headers["Location"].startswith("/console/login?next="), answer
    else:
        method, template = data.draw(st.sampled_from([*AGENT_API, *ADMIN_API]), label="route")
        body = data.draw(raw_bodies, label="body")
        answer = await probe.call(method, console_path(data, template), data=body, headers=headers)
        assert answer.status in (401, 413) or not answer.routed, answer
    await probe.alive()


@pytest.fixture
async def staff(server: TestServer) -> AsyncIterator[dict[str, Staff]]:
    """An agent and an admin, logged in (each its own cookie jar and CSRF token)."""
    logged: dict[str, Staff] = {}
    for role in ("agent", "admin"):
        await make_account(server, f"hostile.{role}", role)
        logged[role] = Staff(server)
        assert (await logged[role].login(f"hostile.{role}")).status == 200
    yield logged
    for s in logged.values():
        await s.close()


origins = st.one_of(
    st.sampled_from(
        ["http://evil.example", "null", "http://[", "http://[::1", "//[x]", "http://a]b", "https://127.0.0.1"]
    ),
    header_text,
)


@SQLITE_ONLY
@examples(100)
@given(data=st.data())
async def test_console_with_a_login_but_no_csrf_token(probe: Probe, staff: dict[str, Staff], data: Any) -> None:
    """Every change needs the login's CSRF token and, when one is sent, an Origin of this host: without
    them 403; an agent on an admin route 403; reading with a login never asks for the token."""
    role = data.draw(st.sampled_from(["agent", "admin"]), label="role")
    who = staff[role]
    method, template = data.draw(st.sampled_from([*AGENT_API, *ADMIN_API]), label="route")
    path = console_path(data, template)
    if template.startswith("/console/ws/"):
        method = data.draw(st.sampled_from(["GET", "WS"]), label="how")
    how = data.draw(st.sampled_from(["none", "random", "origin"]), label="csrf")
    headers: dict[str, str] = {}
    if how == "random":
        headers["X-CSRF-Token"] = data.draw(header_text.filter(lambda t: t != who.csrf), label="token")
    elif how == "origin":
        headers = {"X-CSRF-Token": who.csrf, "Origin": data.draw(origins, label="origin")}
    if method == "WS":  # the WebSocket: its token comes in the query
        headers |= {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        method = "GET"
    body = data.draw(raw_bodies, label="body")
    answer = await probe.call(method, path, data=body, headers=headers, http=who.http)
    if not answer.routed:
        return
    host_origin = how == "origin" and headers["Origin"] in (f"http://{probe.server.host}:{probe.server.port}",)
    needs_admin = (method, template) in ADMIN_API
    if role == "agent" and needs_admin:
        assert answer.status == 403, answer
    elif method not in SAFE_METHODS or "Upgrade" in headers:
        assert answer.status == 403 or host_origin, answer
    else:
        assert answer.status not in (401, 403), answer
    await probe.alive()


@SQLITE_ONLY
@examples(60)
@given(
    body=shaped(
        {
            "username": st.one_of(st.just("hostile.admin"), short_texts, huge_text),
            "password": st.one_of(st.just(PASSWORD), texts, huge_text),
        }
    ),
    origin=st.one_of(st.none(), origins),
    ctype=content_types,
)
async def test_console_login_with_any_body(
    probe: Probe, staff: dict[str, Staff], body: bytes, origin: str | None, ctype: str
) -> None:
    headers = {"Content-Type": ctype} | ({} if origin is None else {"Origin": origin})
    answer = await probe.call("POST", "/console/api/login", data=body, headers=headers)
    assert answer.status in (200, 400, 401, 403, 413, 429), answer
    await probe.alive()


async def claimed(probe: Probe, agent: Staff, citizen: MiniCitizen) -> str:
    """A conversation this agent holds (the person asks for a human again when the last one ended)."""
    for _ in range(4):
        queue = (await probe.call("GET", "/console/api/queue", http=agent.http)).json()
        if queue["mine"]:
            return str(queue["mine"][0]["id"])
        if queue["waiting"]:
            h = queue["waiting"][0]["id"]
            answer = await probe.call(
                "POST", f"/console/api/handovers/{h}/claim", http=agent.http, headers={"X-CSRF-Token": agent.csrf}
            )
            assert answer.status == 200, answer
            return str(h)
        await citizen.say("转人工")
    raise AssertionError("no conversation to claim")


ws_frames = st.lists(
    st.one_of(
        st.text(max_size=200).map(lambda t: ("str", t)),
        json_values.map(lambda v: ("str", json.dumps(v))),
        st.one_of(texts, huge_text).map(lambda t: ("str", json.dumps({"say": {"text": t}}))),
        json_values.map(lambda v: ("str", json.dumps({"say": v}))),
        st.integers(100, 4_000).map(lambda n: ("str", "[" * n + "]" * n)),
        st.binary(max_size=200).map(lambda b: ("bytes", b)),
        st.integers(8_193, 20_000).map(lambda n: ("str", "x" * n)),  # over the socket's 8 KiB frame limit
    ),
    min_size=1,
    max_size=4,
)


async def drive_socket(probe: Probe, agent: Staff, handover: str, frames: list[tuple[str, Any]]) -> None:
    """Random frames, then a genuine message: it comes back as an entry unless a frame closed the socket (too big)."""
    ws = await agent.ws(handover, after="0")
    try:
        for kind, frame in frames:
            await (ws.send_bytes(frame) if kind == "bytes" else ws.send_str(frame))
        probe_text = f"探针{uuid.uuid4().hex[:6]}"
        await ws.send_str(json.dumps({"say": {"text": probe_text}}))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = await ws.receive(timeout=deadline - time.monotonic())
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                # only a frame over max_msg_size may end the socket (1009), or the conversation ending
                assert ws.close_code in (1000, 1009) or any(len(f) > 8192 for _, f in frames), ws.close_code
                return
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            got = json.loads(msg.data)
            assert got["type"] in ("entry", "error", "closed"), got
            if got["type"] == "closed" or (got["type"] == "entry" and got["entry"]["text"] == probe_text):
                return
        raise AssertionError("the socket never answered")
    finally:
        await ws.close()
        probe.errors.check()


@examples(60)
@given(data=st.data())
async def test_agent_console_with_random_bodies_and_frames(
    probe: Probe, server: TestServer, staff: dict[str, Staff], data: Any
) -> None:
    """An agent with a login and its CSRF token, on a conversation they hold or on random ids: anything at all
    in the bodies and on the WebSocket, never a 5xx, never a dead socket."""
    services = server.app[SERVICES]
    agent = staff["agent"]
    citizen = MiniCitizen(server, "code-of-waiting-citizen")
    try:
        await citizen.login()
        mine = await claimed(probe, agent, citizen)
        method, template = data.draw(st.sampled_from(AGENT_API), label="route")
        handover = data.draw(st.one_of(st.just("mine"), st.just("mine"), segment()), label="handover")
        handover = mine if handover == "mine" else handover
        if template.startswith("/console/ws/"):
            if handover == mine:
                await drive_socket(probe, agent, mine, data.draw(ws_frames, label="frames"))
            else:
                url = probe.url(fill(template, {"id": handover}), f"csrf={quote(agent.csrf)}")
                with contextlib.suppress(aiohttp.WSServerHandshakeError):
                    ws = await agent.http.ws_connect(url)
                    await ws.close()
                    raise AssertionError(f"a socket on {handover}")
                probe.errors.check()
            await probe.alive()
            return
        transcript = (await probe.call("GET", f"/console/api/handovers/{mine}", http=agent.http)).json()["transcript"]
        entries = [e["id"] for e in transcript] or ["0"]
        intents = [
            i["intent"] for i in (await probe.call("GET", "/console/api/intents", http=agent.http)).json()["intents"]
        ]
        things = sorted(services.catalog.things)
        thing = data.draw(st.one_of(st.sampled_from(things), short_texts), label="thing")
        fields = (
            [f.id for f in services.catalog.things[thing].form.fields] if thing in services.catalog.things else ["x"]
        )
        bodies = {
            "messages": shaped({"text": st.one_of(texts, huge_text)}),
            "handback": shaped({"point": st.one_of(st.sampled_from(["form", "start", "none"]), texts)}),
            "close": shaped({"summary": st.one_of(texts, huge_text)}),
            "corrections": shaped(
                {"entry": st.one_of(one_of_these(entries), texts), "intent": st.one_of(one_of_these(intents), texts)}
            ),
            "phone-drafts": shaped(
                {
                    "thing": st.just(thing),
                    "phone": st.one_of(st.sampled_from(["13812345678", "1381234567", "23812345678"]), texts),
                    "answers": st.dictionaries(
                        st.one_of(st.sampled_from(fields), short_texts), st.one_of(texts, huge_text), max_size=6
                    ),
                }
            ),
        }
        body = data.draw(bodies.get(template.rsplit("/", 1)[-1], raw_bodies), label="body")
        answer = await probe.call(
            method,
            fill(template, {"id": handover}),
            data=body,
            http=agent.http,
            headers={"X-CSRF-Token": agent.csrf, "Content-Type": "application/json"},
        )
        assert answer.status in (200, 201, 204, 400, 404, 409, 413, 422) or not answer.routed, answer
        if template == "/console/api/logout" and answer.status == 204:
            assert (await agent.login("hostile.agent")).status == 200
        await probe.alive()
    finally:
        await citizen.close()


GUIDE = (ROOT / "catalog" / "newborn.yaml").read_text(encoding="utf-8")
YAML_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)
yaml_texts = st.one_of(
    st.just(GUIDE),
    st.integers(0, len(GUIDE)).map(lambda i: GUIDE[:i]),  # cut anywhere
    st.tuples(st.integers(0, len(GUIDE)), texts).map(lambda t: GUIDE[: t[0]] + t[1] + GUIDE[t[0] :]),  # spliced
    st.sampled_from(
        [
            YAML_BOMB,
            "!!python/object/apply:os.system ['id']",
            "a: !!binary AAAA",
            "\t- x",
            "%YAML 9.9\n---",
            "{" * 5000 + "}" * 5000,
            "- " * 3000 + "x",
            "[" * 50_000,
            "? " + "a" * 1000,
            "x: 1\n" * 20_000,
        ]
    ),
    texts,
)
elements = st.fixed_dictionaries(
    {},
    optional={
        "fee": st.one_of(
            st.fixed_dictionaries({"charged": st.booleans()}, optional={"standard": texts, "basis": texts}), json_values
        ),
        "promised_limit_days": st.one_of(st.integers(-5, 400), big_ints, json_values),
        "location": st.one_of(texts, st.none()),
        "hours": st.one_of(texts, st.none()),
        "consult_phone": st.one_of(st.sampled_from(["12345", "024-12345678"]), texts, st.none()),
        "supervise_phone": st.one_of(texts, st.none()),
        "conditions": st.one_of(st.lists(texts, max_size=5), json_values),
        "zz_extra": json_values,
    },
)
example_texts = st.one_of(
    texts,
    huge_text,
    st.sampled_from(
        [
            "孩子在[沈阳](city)出生",
            '[沈阳]{"entity": "city"}出生',
            '[沈阳]{"entity":',
            "[x](nope)",
            "[](city)",
            '[沈阳]{"entity": "city", "value": [1]}',
            "[a]{}",
            "[[a](city)](city)",
        ]
    ),
)


@pytest.fixture
async def trained(probe: Probe, staff: dict[str, Staff]) -> None:
    """For the NLU routes: one version trained and evaluated (report, heat map, activation have a target), and
    utterances in the inbox (labelling and dismissing have targets)."""
    admin = staff["admin"]
    answer = await probe.call(
        "POST", "/api/admin/nlu/models", query="wait=1", http=admin.http, headers={"X-CSRF-Token": admin.csrf}
    )
    assert answer.status == 201, answer
    for text in ("qwzx plk vbnm", "今天天气怎么样呢朋友", "zzzz"):
        await probe.call(
            "POST",
            "/api/admin/nlu/parse",
            data=dumps({"text": text}),
            http=admin.http,
            headers={"X-CSRF-Token": admin.csrf},
        )


@pytest.mark.parametrize("nlu_data", ["slice"], indirect=True)
@examples(10)  # a heat map or an activation costs a second or two
@given(data=st.data())
async def test_nlu_admin_api_with_random_bodies(
    probe: Probe, staff: dict[str, Staff], trained: None, data: Any
) -> None:
    """Every NLU admin route in every example (a trained version and an inbox to act on)."""
    await drive_admin(probe, staff["admin"], NLU_API, data)


@pytest.mark.parametrize("nlu_data", ["slice"], indirect=True)
@examples(25)
@given(data=st.data())
async def test_guide_and_oversight_api_with_random_bodies(probe: Probe, staff: dict[str, Staff], data: Any) -> None:
    """Every guide, dead-letter, rating, privacy and dashboard route in every example."""
    await drive_admin(probe, staff["admin"], [r for r in ADMIN_API if r not in NLU_API], data)


async def drive_admin(probe: Probe, admin: Staff, routes: list[tuple[str, str]], data: Any) -> None:
    """An admin with a login and its CSRF token: each route with random ids, queries and bodies (YAML bombs for
    the guides); never a 5xx."""
    things = sorted(probe.server.app[SERVICES].catalog.things)
    planned: list[tuple[str, str, str, bytes, str, str]] = []
    for method, template in routes:
        route = f"{method} {template}"
        real_id = st.sampled_from(things) if "catalog" in template else st.integers(1, 8).map(str)
        values = {
            "id": data.draw(
                st.one_of(real_id, real_id, st.integers(-1, 3000).map(str), segment()), label=f"{route} id"
            ),
            "version": data.draw(st.one_of(st.integers(0, 3).map(str), segment()), label=f"{route} version"),
            "job": data.draw(
                st.one_of(st.from_regex(r"[0-9a-f]{16}", fullmatch=True), segment()), label=f"{route} job"
            ),
            "fmt": data.draw(st.sampled_from(["png", "svg"]), label=f"{route} fmt"),
        }
        query = raw_qs(
            data.draw(
                st.dictionaries(
                    st.sampled_from(["intent", "all", "source", "against", "set", "days", "thing"]),
                    st.one_of(
                        st.sampled_from(
                            ["1", "0", "true", "fallback", "agent", "held_out", "cross_validation", "30", "newborn"]
                        ),
                        texts,
                    ),
                    max_size=3,
                ),
                label=f"{route} query",
            )
        )
        if route == "POST /api/admin/nlu/models":  # trains in the background (202, or 409 while one runs)
            query = data.draw(st.sampled_from(["", "wait=0", "wait=%00", "wait=yes"]), label="train")
        bodies = {
            "parse": shaped({"text": st.one_of(texts, huge_text)}),
            "examples": shaped(
                {
                    "intent": st.one_of(st.sampled_from([*sorted(NLU_INTENTS), "thing_new_one", "thing_X"]), texts),
                    "text": example_texts,
                }
            ),
            "label": shaped({"intent": st.one_of(st.sampled_from(sorted(NLU_INTENTS)), texts), "text": example_texts}),
            "activate": shaped({"force": json_values}),
            "check": shaped({"yaml": yaml_texts}),
            "yaml": shaped(
                {"yaml": yaml_texts, "base_version": st.one_of(st.integers(0, 3), big_ints, json_values), "note": texts}
            ),
            "elements": shaped(
                {
                    "scope": st.one_of(st.sampled_from(["defaults", "birth_certificate", "nope"]), texts),
                    "changes": elements,
                    "base_version": st.one_of(st.integers(0, 3), json_values),
                    "note": texts,
                }
            ),
            "republish": shaped({"base_version": st.one_of(st.integers(0, 3), json_values), "note": texts}),
            "forget": shaped(
                {
                    "user": st.one_of(st.sampled_from(["mp:someone", "wechat:oX"]), texts),
                    "application": st.one_of(texts, st.integers().map(str)),
                }
            ),
        }
        last = template.rsplit("/", 1)[-1]
        key = "examples" if "nlu/examples" in template else last
        body = data.draw(bodies.get(key, raw_bodies), label=f"{route} body")
        ctype = data.draw(st.one_of(st.just("application/json"), content_types), label=f"{route} content type")
        planned.append((method, fill(template, values), query, body, ctype, route))
    # sent only once all is drawn: the server keeps state between examples, and a replay that failed
    # earlier must still draw alike (else hypothesis reports its own "flaky" instead of the failure)
    for method, path, query, body, ctype, route in planned:
        answer = await probe.call(
            method,
            path,
            query=query,
            data=body,
            http=admin.http,
            headers={"X-CSRF-Token": admin.csrf, "Content-Type": ctype},
        )
        assert answer.status in (200, 201, 202, 400, 404, 409, 413, 422) or not answer.routed, answer
        event(f"{route} -> {answer.status}")
    await probe.alive()


# ---- public pages, static files, health ---------------------------------------------------------------------------

SERVABLE = {p.read_bytes() for d in STATIC_DIRS for p in d.rglob("*") if p.is_file()}
traversal = st.sampled_from(
    ["..", "%2e%2e", "%2E%2E", ".%2e", "%252e%252e", "..%2f", "..%5c", "%2e%2e%2f", "%c0%ae%c0%ae", "..\\", "....//",
     "%00", "etc", "passwd", "bot", "settings.py", "pyproject.toml", ".env", "var", "data.key", "index.html", "app.js",
     "console.css", "vendor", "%2f", "//", "~", "%ff", "con", "a" * 300]
)  # fmt: skip
static_paths = st.builds(
    lambda prefix, parts, sep: prefix + sep.join(parts),
    st.sampled_from(["/demo/", "/console/static/", "/demo", "/console/static", "/", "/api/", "/console/", "/demo//"]),
    st.lists(st.one_of(traversal, segment()), min_size=1, max_size=8),
    st.sampled_from(["/", "%2f", "%2F", "\\", "%5c"]),
)


@SQLITE_ONLY
@examples(150)
@given(
    path=static_paths,
    range_=st.one_of(
        st.none(),
        st.sampled_from(
            ["bytes=0-", "bytes=-1", "bytes=99999999999999999999-", "bytes=5-1", "bytes=a-b", "bytes=0-0,1-1,2-2"]
        ),
        header_text,
    ),
)
async def test_static_files_and_path_traversal(probe: Probe, path: str, range_: str | None) -> None:
    """Whatever the path: never a 5xx, and a 200 only ever carries one of the static folders' own files."""
    headers = {} if range_ is None else {"Range": range_}
    answer = await probe.call("GET", path, headers=headers, json_api=False)
    if answer.status in (200, 206):
        whole = [f for f in SERVABLE if answer.body in f] if answer.status == 206 else [answer.body in SERVABLE]
        assert any(whole), (path, answer.body[:200])
    assert b"root:x:0:0" not in answer.body and b"SecretStr" not in answer.body, path
    await probe.alive()


@SQLITE_ONLY
@examples(60)
@given(
    path=st.sampled_from(["/", "/healthz", "/api/openapi.json", "/console", "/console/", "/console/login"]),
    query=st.dictionaries(short_texts, texts, max_size=3),
    headers=st.dictionaries(
        st.sampled_from(
            ["Accept", "Accept-Encoding", "If-None-Match", "If-Modified-Since", "Cookie", "X-Forwarded-For", "Origin"]
        ),
        header_text,
        max_size=3,
    ),
)
async def test_public_pages_with_random_queries_and_headers(
    probe: Probe, path: str, query: dict[str, str], headers: dict[str, str]
) -> None:
    answer = await probe.call("GET", path, query=raw_qs(query), headers=headers, json_api=False)
    expected = {"/console": 302, "/console/": 302}.get(path, 200)
    assert answer.status in (expected, 304), answer
    if path == "/api/openapi.json":
        assert answer.json()["paths"], answer
    await probe.alive()


DRIVEN = (
    {("GET", "/wechat"), ("POST", "/wechat"), ("POST", "/api/mp/login"), ("GET", "/api/things"),
     ("GET", "/api/things/{id}"), ("POST", "/callbacks/platform"), ("POST", "/callbacks/hotline"),
     ("POST", "/ivr/turn"), ("POST", "/console/api/login"), ("GET", "/"), ("GET", "/healthz"),
     ("GET", "/api/openapi.json"), ("GET", "/demo"), ("GET", "/console/static"), ("GET", "/console"),
     ("GET", "/console/"), ("GET", "/console/login")}
    | set(MP_AUTHENTICATED) | set(AGENT_API) | set(ADMIN_API) | {("GET", page) for page, _ in CONSOLE_PAGES}
)  # fmt: skip
