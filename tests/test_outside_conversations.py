"""The outside authors' whole conversations (tests/data/outside/conversations_*.yaml), replayed through
the mini-program API as each person would type, judged by the outcome they should reach
(tests/outside_conversations.py). The figure is a ratchet: it may only go up (docs/nlu.md keeps it)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import TypeAdapter

from bot.dialogue.messages import Reply
from handlers.keys import SERVICES
from tests.outside_conversations import Replay, load
from tests.test_miniprogram import login

# of 52 (2026-12-05, through the API: 34; in memory 44, batch 2 25 of 26; the API takes no file yet)
PASSING_AT_LEAST = 34
REPLIES = TypeAdapter(list[Reply])


# what is measured is the dialogue, not the database: one database kind is enough
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_outside_conversations_reach_their_outcomes(client: TestClient) -> None:
    services = client.app[SERVICES]
    passed, verdicts, conversations = 0, [], load()
    for n, conversation in enumerate(conversations):
        token = await login(client, f"code-of-outside-{n}")
        auth = {"Authorization": f"Bearer {token}"}

        async def say(text: str, attachments: list[str] | None = None, auth: dict[str, str] = auth) -> list[Reply]:
            # the mini-program cannot send a file yet (issue 19): the person types what it is
            resp = await client.post("/api/chat", json={"text": text or "照片"}, headers=auth)
            assert resp.status == 200, await resp.text()
            return REPLIES.validate_python((await resp.json())["replies"])

        replay = Replay(conversation)
        await replay.run(say)
        resp = await client.get("/api/me/applications", headers=auth)
        submitted: list[dict[str, Any]] = []
        for app in (await resp.json())["applications"]:
            form = await services.applications.load_form(app["id"])
            submitted.append({"thing": app["thing"], "answers": form["answers"]})
        ok, why = replay.verdict(submitted)
        passed += ok
        verdicts.append(f"{'PASS' if ok else 'FAIL'} {conversation['id']}: {why}")
        if not ok and os.environ.get("OUTSIDE_SHOW"):  # the last turns of what failed, to read
            verdicts += [f"   > {p}\n     {a[-300:]}" for p, a in replay.said[-5:]]
    print(f"outside conversations through the API: {passed}/{len(conversations)}")
    if os.environ.get("OUTSIDE_SHOW"):
        print("\n".join(verdicts))
    assert passed >= PASSING_AT_LEAST, "\n".join(verdicts)
