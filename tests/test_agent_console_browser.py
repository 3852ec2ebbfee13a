"""The agents' console and the citizen's page together, in Debian's headless
Chromium: a person on the demo page (the mini-program) starts a 新生儿出生
application and asks for a human; an agent logs in to the console, claims the
conversation, and they chat both ways (the agent over a WebSocket, the
person's page by long poll); the agent hands back to the bot at the form, and
the person's next answer lands in the form. Screenshots go to
``test-artifacts/console/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from bot.settings import Settings
from bot.texts import standard
from handlers.app import create_app
from handlers.keys import SERVICES
from tests.browser_helpers import (
    new_page,
    shot,
    with_wechat,
)
from tests.conftest import serving
from tests.console_helpers import PASSWORD, make_account
from tests.test_demo_page import last_turn, tap, type_and_send

TIMEOUT_MS = 20_000


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this test is about the pages; the database matrix is covered by test_agent_console."""
    return f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
async def server(settings: Settings, wechat: TestServer) -> AsyncIterator[TestServer]:
    configured = with_wechat(settings, wechat)
    async with serving(create_app(configured)) as app_server:
        yield app_server


async def test_request_claim_chat_hand_back_and_the_form_resumes(server: TestServer, browser: Browser) -> None:
    await make_account(server, "wang.li", "agent", "王丽")
    citizen = await new_page(browser, 480, 960, TIMEOUT_MS)
    agent = await new_page(browser, 1400, 900, TIMEOUT_MS)

    # the person starts an application and asks for a human
    await citizen.goto(str(server.make_url("/")))
    await type_and_send(citizen, "孩子刚出生，户口咋上")
    await tap(citizen, "开始办理")
    await type_and_send(citizen, "转人工")
    await expect(last_turn(citizen).locator("[data-kind=handoff]")).to_contain_text(standard.QUEUE_NEXT)
    await shot(citizen, "01-citizen-waits-for-a-human.png")

    # the agent logs in (a wrong password first), sees the line, claims the conversation
    await agent.goto(str(server.make_url("/console/agent")))
    await expect(agent).to_have_url(str(server.make_url("/console/login?next=/console/agent")))
    await agent.fill("#username", "wang.li")
    await agent.fill("#password", "wrong password!")
    await agent.click("#login-button")
    await expect(agent.locator("#login-error")).to_have_text("用户名或密码不对")
    await agent.fill("#password", PASSWORD)
    await agent.click("#login-button")
    await expect(agent.locator("#console-nav .me")).to_contain_text("王丽")
    row = agent.locator("#queue li").first
    await expect(row).to_contain_text("新生儿出生")
    await expect(row).to_contain_text("主动要求人工")
    await shot(agent, "02-agent-queue.png")
    await row.get_by_role("button", name="接入").click()
    await expect(agent.locator("#transcript")).to_contain_text("孩子刚出生，户口咋上")
    await expect(agent.locator("#case")).to_contain_text("新生儿出生")
    await expect(agent.locator("#case .missing")).to_contain_text("申请人姓名")  # in words, not field ids
    await expect(citizen.locator("#messages")).to_contain_text("人工客服 王丽 为您服务")

    # both ways: the agent's words reach the page, the person's reach the console, the bot stays silent
    await agent.fill("#say-text", "您好，出生医学证明由医院开具，其余事项我们一起办。")
    await agent.click("#say-send")
    bubble = citizen.locator("[data-kind=update-agent]").last
    await expect(bubble).to_contain_text("您好，出生医学证明由医院开具")
    await expect(bubble).to_contain_text("人工客服 王丽")
    turns_before = await citizen.locator("#messages > .turn").count()
    await citizen.get_by_role("textbox").fill("好的，那医保卡多久能拿到？")
    await citizen.get_by_role("button", name="发送", exact=True).click()
    await expect(agent.locator("#transcript li.citizen").last).to_have_text("办事人好的，那医保卡多久能拿到？")
    sent_turn = citizen.locator("#messages > .turn").nth(turns_before)
    await expect(sent_turn).to_have_attribute("data-state", "done")
    assert await sent_turn.locator(".replies > *").count() == 0  # no bot answer while the agent has it
    await shot(agent, "03-agent-chat.png")
    await shot(citizen, "04-citizen-chat.png")

    # hand back at the form: the bot asks the pending question again, and the answer lands in the form
    await agent.select_option("#handback-point", "form")
    await agent.click("#handback")
    await expect(agent.locator("#conv-status")).to_have_text("已交还机器人")
    await expect(citizen.locator("#messages")).to_contain_text(standard.AGENT_LEFT)
    await expect(citizen.locator("#messages")).to_contain_text(standard.RATE_AGENT_LATER)
    services = server.app[SERVICES]
    user = next(iter([k async for k in _mp_users(services)]))
    before = await services.dialogue.sessions.load(user, "miniprogram")
    assert before.awaiting is not None and before.awaiting.kind == "eligibility" and before.agent is None
    await type_and_send(citizen, "是")  # the eligibility question the form stood at
    after = await services.dialogue.sessions.load(user, "miniprogram")
    assert after.drafts["newborn"].eligibility == {before.awaiting.ref: True}  # the answer is in the draft
    await expect(last_turn(citizen).locator(".question").first).to_be_visible()
    await shot(citizen, "05-citizen-form-resumes.png")
    assert citizen.errors == [] and agent.errors == []  # type: ignore[attr-defined]


async def _mp_users(services: object) -> AsyncIterator[str]:
    """The one mini-program person of this test, as the handover desk knows them."""
    from bot.handover.desk import HandoverDesk

    desk: HandoverDesk = services.desk  # type: ignore[attr-defined]
    async with desk.engine.connect() as conn:
        from sqlalchemy import select

        from bot.db.schema import handovers

        for row in await conn.execute(select(handovers.c.user_ref)):
            yield desk.vault.decrypt(row.user_ref)
