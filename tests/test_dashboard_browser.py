"""The dashboard and the admins' 投递与评价 page in Debian's headless Chromium:
after a few real conversations the charts are drawn (the canvases hold
pixels), the funnel names the question where people gave up, and each page
is kept as a screenshot in ``test-artifacts/console/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright, expect

from bot.dialogue.scripted import Citizen
from bot.settings import ROOT, Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS
from tests.console_helpers import PASSWORD, make_account
from tests.test_dashboard import stop_at_first_question

ARTIFACTS = ROOT / "test-artifacts" / "console"

PAINTED = """id => {
  const c = document.getElementById(id);
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
  return n;
}"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'dashboard.db'}"


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[TestServer]:
    app_server = TestServer(create_app(settings), host="127.0.0.1")
    await app_server.start_server()
    yield app_server
    await app_server.close()


async def test_the_dashboard_draws_its_charts(server: TestServer) -> None:
    services = server.app[SERVICES]
    field = await stop_at_first_question(services, "mp:oBrowse1")
    await stop_at_first_question(services, "mp:oBrowse2")
    await Citizen(services.dialogue, "mp:oBrowse3", channel="miniprogram").complete(
        services.catalog.things["newborn"], "孩子刚出生，户口咋上"
    )
    label = next(f.label for f in services.catalog.things["newborn"].form.fields if f.id == field)
    await make_account(server, "li.admin", "admin", "李明")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await (
                await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            ).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(str(server.make_url("/console/login")))
            await page.screenshot(path=str(ARTIFACTS / "login.png"))
            await page.fill("#username", "li.admin")
            await page.fill("#password", PASSWORD)
            await page.click("#login-button")
            await expect(page.locator("#console-nav .me")).to_contain_text("李明")
            await page.goto(str(server.make_url("/console/dashboard")))
            await expect(page.locator("body[data-ready='1']")).to_have_count(1)
            assert await page.locator("#t-conversations").inner_text() == "3"
            assert await page.locator("#t-submissions").inner_text() == "1"
            await expect(page.locator("#gave-up")).to_contain_text(f"“{label}”")
            for chart in ("c-daily", "c-things", "c-funnel", "c-fields", "c-rates", "c-ratings"):
                assert await page.evaluate(PAINTED, chart) > 500, f"{chart} is blank"
            await page.select_option("#funnel-thing", "newborn")
            await expect(page.locator("#gave-up")).to_contain_text("2 人没有继续")
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            await page.goto(str(server.make_url("/console/admin")))
            await expect(page.locator("#dead-empty")).to_be_visible()
            await page.screenshot(path=str(ARTIFACTS / "deliveries-and-ratings.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()
