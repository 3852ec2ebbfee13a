"""The audit log is append-only and tamper-evident: the database refuses
DELETE and UPDATE of its rows; the sealer chains them in order; a row changed
behind the triggers' back (as someone with the database's owner rights could)
breaks the chain exactly there, and `python -m bot audit verify` says so."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from bot.audit import audit, seal, verify
from bot.db import make_engine
from bot.db.migrate import upgrade
from bot.db.schema import audit_log
from bot.settings import ROOT, Settings


async def test_the_chain_holds_and_shows_tampering(settings: Settings) -> None:
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            for n in range(5):
                await audit(conn, "wang.li", "handover.claim", f"H{n}", note_chars=n)
        assert await seal(engine) == 5 and await seal(engine) == 0
        assert await verify(engine) == {"rows": 5, "sealed": 5, "broken_at": None}
        async with engine.begin() as conn:
            await audit(conn, "li.admin", "catalog.edit", "newborn")
        assert (await verify(engine))["sealed"] == 5  # the newest waits for the sealer, still fine
        await seal(engine)

        for statement in (delete(audit_log), update(audit_log).values(actor="nobody")):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(statement)

        # someone with the owner's rights lifts the protection and rewrites history
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            else:
                await conn.execute(text("DROP TRIGGER audit_log_no_update"))
            await conn.execute(update(audit_log).where(audit_log.c.target == "H2").values(actor="someone.else"))
        assert (await verify(engine))["broken_at"] == 3
    finally:
        await engine.dispose()
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "bot", "audit", "verify"], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 1 and '"broken_at": 3' in done.stdout
