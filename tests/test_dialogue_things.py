"""For every one of the 35 one-things: a scripted conversation from its name
to an application whose form the catalog accepts, delivered to the platform
simulator over HTTP and accepted there with a 申办编号."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.catalog import load_catalog
from bot.dialogue import form
from bot.dialogue.scripted import Citizen
from bot.dialogue.session import Draft
from bot.settings import ROOT, Settings
from bot.texts import standard
from handlers.services import Services, build_services
from integrations.simulators.platform import PlatformSim

CATALOG = load_catalog(ROOT / "catalog")


@pytest.fixture
async def services(settings: Settings, tmp_path: Path) -> AsyncIterator[Services]:
    server = TestServer(PlatformSim(tmp_path / "platform.db", "k", "s", pace=0).app())
    await server.start_server()
    configured = settings.model_copy(update={"platform_url": str(server.make_url("")), "platform_key": SecretStr("k")})
    built = await build_services(configured)
    yield built
    await built.close()
    await server.close()


@pytest.mark.parametrize("thing_id", list(CATALOG.things))
async def test_every_one_thing_reaches_a_valid_submission(services: Services, thing_id: str) -> None:
    thing = CATALOG.things[thing_id]
    citizen = Citizen(services.dialogue, user=f"test:{thing_id}")
    await citizen.complete(thing, f"我要办{thing.name}")
    assert standard.SUBMITTED in citizen.last_text(), citizen.dump()

    [app] = await services.applications.progress(citizen.user)
    assert app["thing"] == thing_id
    assert app["number"] is None and {i["status"] for i in app["items"]} == {"待报送"}
    worker = services.delivery()
    assert worker is not None
    assert await worker.deliver_due() == 1
    [app] = await services.applications.progress(citizen.user)
    assert app["number"].startswith("SB") and {i["status"] for i in app["items"]} == {"已受理"}
    stored = await services.applications.load_form(app["id"])
    draft = Draft(thing=thing_id, answers=stored["answers"], skipped=[])
    draft.commitments = {}  # re-validated from what was stored, not from the session
    from bot.dialogue.session import Commitment

    draft.commitments = {k: Commitment.model_validate(v) for k, v in stored["commitments"].items()}
    assert form.problems(thing, draft) == [], citizen.dump()
    assert stored["items"] == [i.key for i in form.items_in_play(thing, draft)]
