"""A load generator: many simulated citizens playing whole applications against
a running service, over its two public doors, as real clients would.

- WeChat followers: signed, safe-mode (AES) XML to ``POST /wechat``, built and
  read with wechatpy, the answer decrypted and checked;
- mini-program users: ``POST /api/mp/login`` (through the WeChat simulator's
  ``code2session``), then ``POST /api/chat`` with structured replies.

Each citizen picks a one-thing, says what it needs and answers like a
cooperative applicant (``bot.dialogue.scripted.cooperative_answer``) until the
application is in; then a new citizen takes its place. WeChat followers, whose
passive replies are plain text, replay the answers a mini-program citizen gave
for the same one-thing. Bounded: a number of concurrent citizens, a duration
and a cap on turns. Loopback only. Prints one JSON line: turns per second,
latency percentiles, errors by kind.

    python -m bench.loadgen --url http://127.0.0.1:8080 --citizens 64 --seconds 30 \\
        --token T --aes-key K --appid A [--wechat-share 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse
from xml.etree import ElementTree

import aiohttp
import uvloop
from pydantic import TypeAdapter
from wechatpy.crypto import WeChatCrypto

from bot.catalog import Catalog, OneThing, load_catalog
from bot.dialogue.messages import Reply
from bot.dialogue.scripted import cooperative_answer
from bot.settings import ROOT

REPLIES = TypeAdapter(list[Reply])
OPENINGS = {  # what a person says first, per one-thing played
    "newborn": "孩子刚出生，户口咋上",
    "posthumous_affairs": "老人去世了，后事要办哪些手续",
    "residence_permit": "我想办居住证",
    "open_restaurant": "我想开一家饭店",
}
MAX_TURNS_PER_CITIZEN = 120


def percentile(ordered: list[float], p: float) -> float:
    """The value at fraction ``p`` of an ascending list, rounded to 0.01; 0.0 when empty."""
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2) if ordered else 0.0


def is_loopback(url: str) -> bool:
    return urlparse(url).hostname in ("127.0.0.1", "localhost", "::1")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # ms, every turn
    errors: Counter[str] = field(default_factory=Counter)
    applications: int = 0
    by_door: Counter[str] = field(default_factory=Counter)

    def report(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return percentile(lat, p)

        return {
            "turns": len(lat),
            "seconds": round(seconds, 2),
            "turns_per_second": round(len(lat) / seconds, 1) if seconds else 0.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat), 2) if lat else 0.0,
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors),
            "applications_submitted": self.applications,
            "turns_by_door": dict(self.by_door),
        }


class Refused(Exception):
    """The service answered, but not as it should have."""


def _fields(xml: str) -> dict[str, str]:
    """A WeChat ``<xml>``'s fields: ElementTree's C parser, since the generator shares the
    service's cores and xmltodict cost it a tenth of its time. Our own server's XML, trusted."""
    return {child.tag: child.text or "" for child in ElementTree.fromstring(xml)}


class Player:
    def __init__(self, args: argparse.Namespace, http: aiohttp.ClientSession, catalog: Catalog, tally: Tally) -> None:
        self.args = args
        self.http = http
        self.catalog = catalog
        self.tally = tally
        self.crypto = WeChatCrypto(args.token, args.aes_key, args.appid) if args.aes_key else None
        self.scripts: dict[str, list[str]] = {}  # one-thing -> what a mini-program citizen said, in order
        self.deadline = 0.0
        self.turns_left = args.max_turns

    def _go_on(self) -> bool:
        return time.monotonic() < self.deadline and self.turns_left > 0

    async def _timed(self, door: str, call: Any) -> Any:
        self.turns_left -= 1
        started = time.perf_counter()
        try:
            result = await call
        except Refused as exc:
            self.tally.errors[str(exc)] += 1
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.tally.errors[f"{door}: {type(exc).__name__}"] += 1
            raise Refused(type(exc).__name__) from exc
        self.tally.latencies.append((time.perf_counter() - started) * 1000)
        self.tally.by_door[door] += 1
        return result

    # ---- the mini-program door --------------------------------------------------------

    async def mini_program(self, thing: OneThing) -> list[str] | None:
        """One whole application; → the answers given (for WeChat followers to replay)."""
        url = self.args.url
        async with self.http.post(f"{url}/api/mp/login", json={"code": f"load-{uuid.uuid4().hex}"}) as resp:
            if resp.status != 200:
                self.tally.errors[f"login: HTTP {resp.status}"] += 1
                return None
            token = (await resp.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def chat(text: str) -> list[Reply]:
            async with self.http.post(f"{url}/api/chat", json={"text": text}, headers=headers) as resp:
                if resp.status != 200:
                    raise Refused(f"mini-program: HTTP {resp.status}")
                replies = REPLIES.validate_python((await resp.json())["replies"])
            if not replies:
                raise Refused("mini-program: no reply")
            return replies

        said = [OPENINGS[thing.id]]
        replies = await self._timed("miniprogram", chat(said[0]))
        for _ in range(MAX_TURNS_PER_CITIZEN):
            answer = cooperative_answer(replies, thing)
            if answer is None:
                self.tally.applications += 1
                return said
            if not self._go_on():
                return None
            said.append(answer)
            replies = await self._timed("miniprogram", chat(answer))
        raise Refused("mini-program: no submission")

    # ---- the WeChat door ------------------------------------------------------------------

    def _message(self, openid: str, text: str, msg_id: int) -> str:
        return (
            f"<xml><ToUserName><![CDATA[gh_load]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
        )

    async def _wechat_turn(self, openid: str, text: str) -> str:
        assert self.crypto is not None
        stamp, nonce = str(int(time.time())), str(random.randrange(10**9))
        body = self.crypto.encrypt_message(self._message(openid, text, random.randrange(10**15)), nonce, stamp)
        envelope = _fields(body)
        signature = hashlib.sha1("".join(sorted([self.args.token, stamp, nonce])).encode()).hexdigest()
        query = {"signature": signature, "timestamp": stamp, "nonce": nonce, "encrypt_type": "aes",
                 "msg_signature": envelope["MsgSignature"]}  # fmt: skip
        async with self.http.post(f"{self.args.url}/wechat", params=query, data=body.encode()) as resp:
            answer = await resp.text()
            if resp.status != 200:
                raise Refused(f"wechat: HTTP {resp.status}")
        if answer == "success":
            raise Refused("wechat: no passive reply in time")
        reply = _fields(answer)
        plain = self.crypto.decrypt_message(answer, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
        content = _fields(plain).get("Content", "")
        if not content:
            raise Refused("wechat: empty reply")
        return content

    async def wechat(self, thing: OneThing, script: list[str]) -> None:
        openid = "oLoad" + uuid.uuid4().hex[:23]
        for text in script:
            if not self._go_on():
                return
            await self._timed("wechat", self._wechat_turn(openid, text))
        self.tally.applications += 1

    # ---- citizens, one after another ---------------------------------------------------------

    async def citizen_loop(self, seat: int) -> None:
        rng = random.Random(self.args.seed * 1000 + seat)
        things = [self.catalog.things[t] for t in OPENINGS]
        while self._go_on():
            thing = rng.choice(things)
            script = self.scripts.get(thing.id)
            try:
                if self.crypto is not None and script and rng.random() < self.args.wechat_share:
                    await self.wechat(thing, script)
                else:
                    said = await self.mini_program(thing)
                    if said:
                        self.scripts.setdefault(thing.id, said)
            except Refused:
                continue  # counted; the next citizen takes the seat

    async def run(self) -> float:
        self.deadline = time.monotonic() + self.args.seconds + self.args.warmup
        if self.args.warmup:  # one citizen per one-thing first: scripts for WeChat, a warm service
            await asyncio.gather(*(self._warm(t) for t in OPENINGS))
            self.tally.latencies.clear()
            self.tally.errors.clear()
            self.tally.applications = 0
            self.tally.by_door.clear()
        self.deadline = time.monotonic() + self.args.seconds
        if self.args.announce:
            print("measuring", flush=True)  # for whoever samples the service's CPU around the window
        started = time.monotonic()
        await asyncio.gather(*(self.citizen_loop(n) for n in range(self.args.citizens)))
        return time.monotonic() - started

    async def _warm(self, thing_id: str) -> None:
        said = await self.mini_program(self.catalog.things[thing_id])
        if said:
            self.scripts[thing_id] = said


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    if not is_loopback(args.url):
        raise SystemExit("the load generator only talks to a service on this machine (loopback)")
    catalog = load_catalog(ROOT / "catalog")
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=args.citizens + 8)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        seconds = await Player(args, http, catalog, tally).run()
    return tally.report(seconds)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--citizens", type=int, default=64, help="citizens talking at once")
    p.add_argument("--seconds", type=float, default=30.0, help="how long to measure")
    p.add_argument("--warmup", type=float, default=1.0, help="0: no warm-up run first")
    p.add_argument("--max-turns", type=int, default=200_000, help="stop after this many turns in all")
    p.add_argument("--wechat-share", type=float, default=0.5, help="share of citizens on WeChat (needs --aes-key)")
    p.add_argument("--token", default="dev-wechat-token", help="the official account's callback token")
    p.add_argument("--aes-key", default="", help="EncodingAESKey: WeChat citizens in safe mode")
    p.add_argument("--appid", default="wx0000000000000000")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--announce", action="store_true", help="print a line 'measuring' when the warm-up is over")
    args = p.parse_args(argv)
    if not 1 <= args.citizens <= 2000 or not 0 < args.seconds <= 3600:
        p.error("citizens 1–2000, seconds up to 3600")
    return args


def main(argv: list[str] | None = None) -> int:
    # uvloop, as the service's own processes: the generator shares their two cores
    result = uvloop.run(main_async(parse_args(argv)))
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
