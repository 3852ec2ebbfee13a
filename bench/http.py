"""``make bench``, dialogue part: conversation turns per second through the
whole engine (NLU, per-person queue and session in Redis, catalog, SQL at
submission), many citizens at once, on this machine.

Uses the configured Redis (its own key space: users ``bench:*``) and a
throw-away SQLite file; prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from bot.dialogue.messages import Inbound
from bot.dialogue.scripted import Citizen
from bot.settings import get_settings
from bot.texts import standard
from handlers.services import build_services

CITIZENS = 40
THINGS = ("newborn", "posthumous_affairs", "open_restaurant", "residence_permit")


class TimedCitizen(Citizen):
    latencies: list[float]

    async def say(self, text: str = "", **extra: object):  # type: ignore[no-untyped-def, override]
        start = time.perf_counter()
        replies = await self.engine.handle(Inbound(user=self.user, channel=self.channel, text=text, **extra))  # type: ignore[arg-type]
        self.latencies.append((time.perf_counter() - start) * 1000)
        self.transcript.append((text, replies))
        return replies


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = get_settings().model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", "platform_url": None}
        )
        services = await build_services(settings)
        try:
            latencies: list[float] = []
            citizens = []
            for n in range(CITIZENS):
                c = TimedCitizen(services.dialogue, f"bench:{n}:{time.time_ns()}")
                c.latencies = latencies
                citizens.append((c, services.catalog.things[THINGS[n % len(THINGS)]]))
            start = time.perf_counter()
            await asyncio.gather(*(c.complete(t, f"我要办{t.name}") for c, t in citizens))
            elapsed = time.perf_counter() - start
            submitted = sum(standard.SUBMITTED in c.last_text() for c, _ in citizens)
            for c, _ in citizens:
                await services.dialogue.sessions.forget(c.user)
        finally:
            await services.close()
    latencies.sort()
    print(
        json.dumps(
            {
                "bench": "dialogue.turns",
                "citizens": CITIZENS,
                "turns": len(latencies),
                "submitted": submitted,
                "turns_per_second": round(len(latencies) / elapsed, 1),
                "p50_ms": round(statistics.median(latencies), 2),
                "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
