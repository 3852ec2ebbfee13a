"""Prefill from the e-license / data-sharing service, through its simulator
over real HTTP: shown for confirmation, overridable, 免提交 materials, the
false-commitment list, the 60+ offer, and the service being down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.dialogue.messages import ChoicesReply, FieldPrompt
from bot.dialogue.scripted import Citizen
from bot.settings import Settings
from bot.texts import standard
from handlers.services import Services, build_services
from integrations.simulators.elicense import create_app as elicense_app

KEY = "sim-key"
MOTHER = "210102199003074522"
LISTED = "91210200MA10XYW8K4"
LISTED_OWNER = "21020219780612151X"
ELDER = "210103195503152222"
ELDERS_SON = "210103198204163013"  # lives in his father's household
STRANGER = "210302198509091238"  # on file, but tied to none of the others


def verified(name: str, id_number: str) -> dict[str, Any]:
    """What a channel that checked a real-name voucher (辽事通) adds to every message."""
    return {"verified": {"name": name, "id_number": id_number}}


async def calls(server: TestServer) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(server.make_url("/_sim/calls")) as r:
        return int((await r.json())["calls"])


@pytest.fixture
async def elicense() -> AsyncIterator[TestServer]:
    server = TestServer(elicense_app(KEY, latency_ms=5))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def services(settings: Settings, elicense: TestServer) -> AsyncIterator[Services]:
    from pydantic import SecretStr

    configured = settings.model_copy(
        update={"elicense_url": str(elicense.make_url("")), "elicense_key": SecretStr(KEY)}
    )
    built = await build_services(configured)
    yield built
    await built.close()


async def set_mode(server: TestServer, mode: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.post(server.make_url("/_sim/faults"), json={"mode": mode}) as r:
        assert r.status == 200


async def to_consent(c: Citizen, opening: str) -> list[Any]:
    await c.say(opening)
    replies = await c.say("开始办理")
    while not (
        isinstance(replies[-1], ChoicesReply)
        and "consent" not in replies[-1].text
        and [o.payload for o in replies[-1].options] == ["yes", "no"]
        and standard.CONSENT in replies[-1].text
    ):
        assert isinstance(replies[-1], ChoicesReply), c.dump()
        payloads = [o.payload for o in replies[-1].options]
        replies = await c.say("给自己办" if "self" in payloads else "是")  # eligibility questions, who applies
    return replies


async def test_prefilled_values_are_shown_confirmed_and_materials_waived(services: Services) -> None:
    c = Citizen(services.dialogue, "prefill:mother", metadata=verified("王丽", MOTHER))
    await to_consent(c, "孩子刚出生，要办出生一件事")
    replies = await c.say("同意")  # her verified identity is the key: the lookup follows at once
    shown = "\n".join(r.text for r in replies)
    assert standard.PREFILL_SHOWN in shown, c.dump()
    assert "138****2345" in shown and "李*" in shown and "2026-11-03" in shown and "中国医科大学附属盛京医院" in shown
    assert "无需提交" in shown and "结婚证" in shown
    assert MOTHER not in shown
    replies = await c.say("都对")
    # spouse, birth date, hospital and address came from shared data: not asked
    asked: list[str] = []
    thing = services.catalog.things["newborn"]
    while not isinstance(replies[-1], ChoicesReply) or "submit" not in [o.payload for o in replies[-1].options]:
        last = replies[-1]
        assert isinstance(last, FieldPrompt), c.dump()
        asked.append(last.field_id)
        replies = await c.say(c.answer_for(replies, thing) or "")
    assert not {
        "other_parent_name",
        "other_parent_id_card",
        "child_birth_date",
        "birth_hospital",
        "household_address",
    } & set(asked)
    assert "applicant_relation" in asked and "child_name" in asked
    assert "applicant_name" not in asked and "applicant_id_card" not in asked
    await c.say("确认提交")
    [app] = await services.applications.progress(c.user)
    stored = await services.applications.load_form(app["id"])
    assert stored["answers"]["other_parent_id_card"] == "210102198811203017"
    assert "marriage_certificate" in stored["shared_materials"]
    assert "household_address" in stored["prefilled"]


async def test_the_applicant_may_override_a_prefilled_value(services: Services) -> None:
    c = Citizen(services.dialogue, "prefill:override", metadata=verified("王丽", MOTHER))
    await to_consent(c, "新生儿出生一件事")
    await c.say("同意")
    replies = await c.say("有要改的")
    options = {o.label: o.n for o in replies[-1].options}  # type: ignore[union-attr]
    assert "出生医院" in options and "孩子的出生日期" in options  # what came from shared data
    await c.say(str(options["出生医院"]))
    replies = await c.say("沈阳市妇婴医院")
    replies = await c.say("查看已填")
    filled = replies[0].text
    assert "出生医院：沈阳市妇婴医院" in filled and "中国医科大学附属盛京医院" not in filled
    assert "落户地址：沈阳市和平区*" in filled and standard.PREFILLED_MARK in filled


async def test_shared_data_down_means_the_form_asks_for_everything(services: Services, elicense: TestServer) -> None:
    await set_mode(elicense, "down")
    c = Citizen(services.dialogue, "prefill:down", metadata=verified("王丽", MOTHER))
    await to_consent(c, "新生儿出生一件事")
    replies = await c.say("同意")
    assert standard.PREFILL_DOWN in [r.text for r in replies], c.dump()
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_phone"
    await set_mode(elicense, "ok")


async def test_declining_consent_asks_for_everything_without_a_lookup(services: Services, elicense: TestServer) -> None:
    c = Citizen(services.dialogue, "prefill:declined", metadata=verified("王丽", MOTHER))
    await to_consent(c, "新生儿出生一件事")
    replies = await c.say("不同意")
    assert replies[0].text == standard.CONSENT_DECLINED
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_phone"
    assert await calls(elicense) == 0


async def test_a_listed_person_is_not_offered_the_commitment(services: Services) -> None:
    thing = services.catalog.things["open_restaurant"]
    c = Citizen(
        services.dialogue, "prefill:listed", overrides={"big_sign": "是"}, metadata=verified("赵海涛", LISTED_OWNER)
    )
    replies = await to_consent(c, "我要开饭店")
    replies = await c.say("同意")
    for _ in range(60):
        text = "\n".join(r.text for r in replies)
        if "告知承诺书" in text or "不能以告知承诺代替" in text:
            break
        if isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "uscc":
            replies = await c.say(LISTED)
            continue
        replies = await c.say(c.answer_for(replies, thing) or "都对")
    assert "不能以告知承诺代替" in text, c.dump()
    assert "告知承诺书（" not in text
    replies = await c.say("我承诺")  # not accepted in place of the proof
    assert "请上传" in replies[-1].text
    replies = await c.say("已上传 物业同意书.jpg")
    assert "已收到" in replies[0].text


async def test_sixty_and_over_are_offered_elderly_mode(services: Services) -> None:
    c = Citizen(services.dialogue, "prefill:elder", metadata=verified("张国庆", ELDER))
    await to_consent(c, "老伴走了，后事要办啥手续")
    replies = await c.say("同意")
    assert standard.ELDERLY_OFFER in "\n".join(r.text for r in replies), c.dump()


# ---- shared data is for the person's own record (seed 002 §7) ------------------------------


async def test_without_a_verified_identity_nothing_is_looked_up(services: Services, elicense: TestServer) -> None:
    """Typing a stranger's name and ID number into the form fetches nothing of theirs."""
    c = Citizen(services.dialogue, "prefill:unverified")
    replies = await c.say("孩子刚出生，要办出生一件事")
    replies = await c.say("开始办理")
    seen = list(replies)
    while not (isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_name"):
        assert isinstance(replies[-1], ChoicesReply), c.dump()
        assert standard.CONSENT not in replies[-1].text  # no consent: nothing will be looked up
        replies = await c.say("是")
        seen += replies
    assert standard.PREFILL_UNVERIFIED in [r.text for r in seen], c.dump()
    await c.say("王丽")
    replies = await c.say(MOTHER)
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_phone", c.dump()
    said = "\n".join(r.text for r in replies)
    assert "138****2345" not in said and standard.PREFILL_SHOWN not in said
    assert await calls(elicense) == 0
    state = await services.dialogue.form_state(c.user, "test", "newborn")
    assert set(state["answers"]) == {"applicant_name", "applicant_id_card"}  # what was typed, nothing more


async def to_proxy_form(c: Citizen, opening: str, relation: str) -> list[Any]:
    """Open the one-thing as someone applying for a relative, up to the consent question."""
    await c.say(opening)
    replies = await c.say("开始办理")
    for _ in range(12):
        last = replies[-1]
        if isinstance(last, ChoicesReply) and standard.CONSENT in last.text:
            return replies
        payloads = [o.payload for o in last.options] if isinstance(last, ChoicesReply) else []
        if "proxy" in payloads:
            replies = await c.say("替家人代办")
        elif standard.PROXY_RELATION in last.text:
            replies = await c.say(relation)
        else:
            replies = await c.say("是")
    raise AssertionError(c.dump())


async def test_a_household_member_may_be_applied_for(services: Services) -> None:
    """A son living in his father's household applies for him: the household record confirms it."""
    c = Citizen(services.dialogue, "prefill:son", metadata=verified("张建军", ELDERS_SON))
    await to_proxy_form(c, "老伴走了，后事要办啥手续", "子女")
    replies = await c.say("同意")
    assert isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "applicant_name", c.dump()
    await c.say("张国庆")
    replies = await c.say(ELDER)
    shown = "\n".join(r.text for r in replies)
    assert standard.PREFILL_SHOWN in shown and "139****1234" in shown, c.dump()


async def test_a_verified_stranger_gets_nothing_of_someone_elses(services: Services, elicense: TestServer) -> None:
    """Verified as themselves, yet typing another person's ID: that record is not fetched."""
    c = Citizen(services.dialogue, "prefill:stranger", metadata=verified("孙伟", STRANGER))
    await to_proxy_form(c, "老伴走了，后事要办啥手续", "子女")
    await c.say("同意")
    await c.say("张国庆")
    before = await calls(elicense)
    replies = await c.say(ELDER)
    said = "\n".join(r.text for r in replies)
    assert standard.PREFILL_NOT_OWN in said and "139****1234" not in said, c.dump()
    assert await calls(elicense) == before + 1  # only the stranger's own household, to see who is in it
    state = await services.dialogue.form_state(c.user, "test", "posthumous_affairs")
    assert "13998801234" not in str(state["answers"]) and "刘秀英" not in str(state["answers"])


async def test_a_company_is_looked_up_only_for_its_own_people(services: Services, elicense: TestServer) -> None:
    thing = services.catalog.things["open_restaurant"]
    c = Citizen(services.dialogue, "prefill:not-the-owner", metadata=verified("孙伟", STRANGER))
    replies = await to_consent(c, "我要开饭店")
    replies = await c.say("同意")
    for _ in range(60):
        if isinstance(replies[-1], FieldPrompt) and replies[-1].field_id == "uscc":
            replies = await c.say(LISTED)
            break
        replies = await c.say(c.answer_for(replies, thing) or "都对")
    said = "\n".join(r.text for r in replies)
    assert standard.PREFILL_NOT_OWN in said and "大连海涛餐饮" not in said, c.dump()
