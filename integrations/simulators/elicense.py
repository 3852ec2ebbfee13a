"""Simulator of the e-license / data-sharing service: the contract of
``integrations/elicense.py`` (docs/elicense-api.md) over real HTTP, with
seeded sample people, latency and injectable failures.

    GET  /v1/people/{id_card}?sources=a,b     the contract (a person)
    GET  /v1/entities/{uscc}?sources=a,b      the contract (a legal person)
    POST /_sim/faults {"mode": "ok"|"down"|"slow"|"flaky", "latency_ms"?, "failure_rate"?}
    GET  /_sim/calls                          how many lookups were answered (for tests)
"""

from __future__ import annotations

import asyncio
import hmac
import random
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

PEOPLE_FILE = Path(__file__).with_name("elicense_people.yaml")
_STATE: web.AppKey[dict[str, Any]] = web.AppKey("elicense_state", dict)


def load_people(path: Path = PEOPLE_FILE) -> dict[str, dict[str, Any]]:
    """People by ID number and legal persons by credit code: one namespace of keys."""
    return {p["key"]: p for p in yaml.safe_load(path.read_text("utf-8"))}


def create_app(
    api_key: str, people: dict[str, dict[str, Any]] | None = None, latency_ms: float = 30
) -> web.Application:
    app = web.Application()
    app[_STATE] = {
        "key": api_key,
        "people": people if people is not None else load_people(),
        "mode": "ok",
        "latency_ms": latency_ms,
        "failure_rate": 0.0,
        "calls": 0,
        "rng": random.Random(7),
    }
    app.router.add_get("/v1/people/{key}", lookup)
    app.router.add_get("/v1/entities/{key}", lookup)
    app.router.add_post("/_sim/faults", faults)
    app.router.add_get("/_sim/calls", calls)
    return app


async def lookup(request: web.Request) -> web.StreamResponse:
    state = request.app[_STATE]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(given.encode(), state["key"].encode()):
        return web.json_response({"error": "unauthorized"}, status=401)
    if not request.headers.get("X-Consent-Id"):
        return web.json_response({"error": "consent required"}, status=403)
    mode = state["mode"]
    delay = state["latency_ms"] / 1000
    if mode == "slow":
        delay = max(delay, 10.0)
    await asyncio.sleep(delay * state["rng"].uniform(0.5, 1.5))
    if mode == "down" or (mode == "flaky" and state["rng"].random() < state["failure_rate"]):
        return web.json_response({"error": "service unavailable"}, status=503)
    state["calls"] += 1
    person = state["people"].get(request.match_info["key"].upper())
    if person is None:
        return web.json_response({"error": "not found"}, status=404)
    wanted = {s for s in request.query.get("sources", "").split(",") if s}
    records = {k: v for k, v in person.get("records", {}).items() if not wanted or k in wanted}
    return web.json_response(
        {
            "key": person["key"],
            "records": records,
            "licenses": person.get("licenses", []),
            "false_commitment": bool(person.get("false_commitment", False)),
        }
    )


async def faults(request: web.Request) -> web.StreamResponse:
    state = request.app[_STATE]
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "bad json"}, status=400)
    if not isinstance(body, dict) or body.get("mode") not in ("ok", "down", "slow", "flaky"):
        return web.json_response({"error": "mode must be ok, down, slow or flaky"}, status=400)
    state["mode"] = body["mode"]
    state["latency_ms"] = float(body.get("latency_ms", state["latency_ms"]))
    state["failure_rate"] = float(body.get("failure_rate", 0.5 if body["mode"] == "flaky" else 0.0))
    return web.json_response({"mode": state["mode"]})


async def calls(request: web.Request) -> web.StreamResponse:
    return web.json_response({"calls": request.app[_STATE]["calls"]})
