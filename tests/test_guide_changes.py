"""A guide changes while someone is filling in its form (an admin published a
new version): the draft follows the new guide: what is still valid is kept,
what is not is asked again, and the person is told which."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.catalog.models import OneThing
from bot.dialogue.messages import FieldPrompt
from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from bot.texts import standard
from handlers.services import Services, build_services


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    yield built
    await built.close()


def republished(t: OneThing, relation_options: list[str] | None = None) -> OneThing:
    """The same one-thing, one version later; optionally with other choices for 您是孩子的."""
    fields = [
        f.model_copy(update={"options": relation_options}) if f.id == "applicant_relation" and relation_options else f
        for f in t.form.fields
    ]
    return t.model_copy(update={"version": t.version + 1, "form": t.form.model_copy(update={"fields": fields})})


async def fill_until(c: Citizen, t: OneThing, field_id: str) -> None:
    """Answer as a cooperative applicant until ``field_id`` has been answered."""
    replies = await c.say("孩子刚出生，户口咋上")
    answered = False
    for _ in range(40):
        asked = replies[-1].field_id if isinstance(replies[-1], FieldPrompt) else None
        answer = c.answer_for(replies, t)
        assert answer is not None
        replies = await c.say(answer)
        if answered:
            return
        answered = asked == field_id
    raise AssertionError(f"{field_id} never asked")


async def test_an_answer_the_new_guide_refuses_is_asked_again(services: Services) -> None:
    t = services.catalog.things["newborn"]
    c = Citizen(services.dialogue, "mp:oDuringChange", channel="miniprogram")
    await fill_until(c, t, "applicant_relation")
    session = await services.dialogue.sessions.load("mp:oDuringChange", "miniprogram")
    assert session.drafts["newborn"].answers["applicant_relation"] == "母亲"
    assert session.drafts["newborn"].catalog_version == t.version

    services.catalog.things["newborn"] = republished(t, ["父亲", "监护人"])  # as a publish swaps it in
    replies = await c.say("好的")
    told = replies[0].text
    assert told == standard.GUIDE_CHANGED_AGAIN.format(name="新生儿出生", fields="您是孩子的")
    after = await services.dialogue.sessions.load("mp:oDuringChange", "miniprogram")
    draft = after.drafts["newborn"]
    assert "applicant_relation" not in draft.answers and draft.catalog_version == t.version + 1
    assert draft.answers["applicant_name"]  # what is still valid is kept
    assert any(isinstance(r, FieldPrompt) and r.field_id == "applicant_relation" for r in replies)


async def test_a_change_that_touches_nothing_filled_is_only_mentioned(services: Services) -> None:
    t = services.catalog.things["newborn"]
    c = Citizen(services.dialogue, "mp:oCalm", channel="miniprogram")
    await fill_until(c, t, "applicant_name")
    services.catalog.things["newborn"] = republished(t)
    replies = await c.say("查看已填")
    assert replies[0].text == standard.GUIDE_CHANGED.format(name="新生儿出生")
    again = await c.say("查看已填")
    assert standard.GUIDE_CHANGED.format(name="新生儿出生") not in [r.text for r in again]  # told once
