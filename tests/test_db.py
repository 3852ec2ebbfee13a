"""Migrations bring every supported database to the same schema."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from bot.db import current_revision, head_revision, make_engine, upgrade
from bot.db.schema import audit_log, metadata


async def test_upgrade_creates_the_schema_and_is_idempotent(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url)
    await asyncio.to_thread(upgrade, database_url)  # a second process starting changes nothing
    engine = make_engine(database_url)
    try:
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(metadata.tables) <= tables
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """The migration and bot/db/schema.py describe the same columns."""
    await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            for table in metadata.sorted_tables:
                cols = await conn.run_sync(lambda c, t=table.name: {x["name"] for x in inspect(c).get_columns(t)})
                assert cols == set(table.columns.keys()), table.name
    finally:
        await engine.dispose()


async def test_no_difference_alembic_can_see(database_url: str) -> None:
    """Columns, types, nullability and indexes: what autogenerate would write is nothing."""
    await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()


async def test_audit_rows_round_trip(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(audit_log).values(
                    actor="admin:li", action="catalog.edit", target="newborn", detail={"fee": "免费"}
                )
            )
        async with engine.connect() as conn:
            row = (await conn.execute(select(audit_log))).one()
        assert (row.actor, row.action, row.target, row.detail) == (
            "admin:li",
            "catalog.edit",
            "newborn",
            {"fee": "免费"},
        )
        assert row.at is not None
    finally:
        await engine.dispose()


def test_concurrent_upgrades_from_several_processes(database_url: str) -> None:
    """serve and workers start together and each migrates: none may fail on a fresh database."""
    import subprocess
    import sys

    code = "import sys; from bot.db import upgrade; upgrade(sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, "\n".join(errors)


async def test_ratings_of_the_first_schema_are_carried_to_five_levels(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url, "0005")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO ratings (application_id, user_key, score, comment) VALUES ('a1', 'k1', 4, 'x')"
            )
        await asyncio.to_thread(upgrade, database_url)
        async with engine.connect() as conn:
            rows = (
                await conn.exec_driver_sql("SELECT subject, subject_id, user_key, score, comment FROM ratings")
            ).all()
        assert [tuple(r) for r in rows] == [("application", "a1", "k1", 4, "x")]
    finally:
        await engine.dispose()
