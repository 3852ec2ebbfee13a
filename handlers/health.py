"""GET /healthz: is Redis answering, is the database reachable and migrated,
is the catalog loaded, are workers alive. Everyone gets the verdict and each
part's ok; the details (database dialect and revision, worker count, errors)
only a caller on this machine (a container's HEALTHCHECK, an operator) or a
logged-in member of staff: they tell an attacker what runs here."""

from __future__ import annotations

import asyncio
import ipaddress

from aiohttp import web

from bot.db import current_revision, head_revision, ping
from bot.worker import alive_workers
from handlers.console.guard import COOKIE, sessions
from handlers.keys import SERVICES
from handlers.limits import client_address


async def healthz(request: web.Request) -> web.Response:
    s = request.app[SERVICES]
    checks: dict[str, dict[str, object]] = {}
    try:
        await asyncio.wait_for(s.redis.ping(), 2)
        workers = await alive_workers(s.redis, within=3 * s.settings.worker_heartbeat_seconds)
        checks["redis"] = {"ok": True}
        checks["workers"] = {"ok": True, "alive": workers}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    try:
        await asyncio.wait_for(ping(s.db), 3)
        revision = await current_revision(s.db)
        head = head_revision()
        checks["database"] = {
            "ok": revision == head,
            "dialect": s.db.dialect.name,
            "revision": revision,
            "head": head,
        }
    except Exception as exc:
        checks["database"] = {"ok": False, "dialect": s.db.dialect.name, "error": type(exc).__name__}
    checks["catalog"] = {"ok": len(s.catalog) > 0, "things": len(s.catalog), "load_ms": round(s.catalog_load_ms, 1)}
    ok = all(c["ok"] for c in checks.values())
    if not await _may_see_details(request):
        checks = {name: {"ok": c["ok"]} for name, c in checks.items()}
    return web.json_response({"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503)


async def _may_see_details(request: web.Request) -> bool:
    if ipaddress.ip_address(_or_unspecified(client_address(request))).is_loopback:
        return True
    return await sessions(request).get(request.cookies.get(COOKIE, "")) is not None


def _or_unspecified(address: str) -> str:
    try:
        ipaddress.ip_address(address)
    except ValueError:  # a unix socket, or a forwarded address that is not one
        return "0.0.0.0"
    return address


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
