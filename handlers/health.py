"""GET /healthz: is Redis answering, is the database reachable and migrated,
is the catalog loaded, are workers alive."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.db import current_revision, head_revision, ping
from bot.worker import alive_workers
from handlers.keys import SERVICES


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
    return web.json_response({"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503)


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
