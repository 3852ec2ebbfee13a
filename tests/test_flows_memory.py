"""The dialogue's flows with nothing outside this process (memory storage, no Redis, no SQL): fast
enough to walk every flow in every test run."""

from __future__ import annotations

import asyncio

from bot.dialogue.messages import ChoicesReply, FieldPrompt
from bot.dialogue.scripted import Citizen
from bot.texts import standard
from tests.memory_engine import MemoryApplications, catalog, memory_engine


async def test_a_whole_application_without_redis_or_sql() -> None:
    applications = MemoryApplications()
    engine = memory_engine(applications=applications)
    c = Citizen(engine, "mem:dog")
    await c.complete(catalog().things["dog_license"], "我想给狗办证")
    [app] = applications.submitted
    assert app["thing"] == "dog_license" and app["answers"]
    replies = await c.say("查进度")
    assert app["number"] in "\n".join(r.text for r in replies)


async def test_one_persons_messages_run_one_at_a_time() -> None:
    engine = memory_engine()
    first, second = await asyncio.gather(
        engine.handle(Citizen(engine, "mem:twice").inbound("孩子刚出生，户口咋上")),
        engine.handle(Citizen(engine, "mem:twice").inbound("开始办理")),
    )
    assert any(standard.START_OR_ASK in r.text for r in first)  # the guide, then the start
    assert isinstance(second[-1], ChoicesReply | FieldPrompt)  # the form began after it


def test_the_state_table_and_its_document_agree_with_the_code() -> None:
    import re

    from bot.dialogue import states as st
    from bot.dialogue.diagram import mermaid
    from bot.dialogue.router import TABLE
    from bot.settings import ROOT

    assert set(TABLE) == set(st.KINDS)
    for s in TABLE.values():
        assert set(s.goes_to) <= set(st.KINDS) | {""}, s.kind
    doc = (ROOT / "docs" / "dialogue.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- states:begin -->\n```mermaid\n(.*?)```\n<!-- states:end -->", doc, re.S)
    assert shown is not None and shown.group(1) == mermaid(), (
        "run: python -m bot dialogue diagram, into docs/dialogue.md"
    )
