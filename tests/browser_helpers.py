"""What the consoles' browser tests share: Debian's headless Chromium, a page that
records its script errors and pop-ups, the app set up for WeChat and the
mini-program, and screenshots in ``test-artifacts/console/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright, expect
from pydantic import SecretStr

from bot.settings import ROOT, Settings
from tests.conftest import MP_APPID, MP_SECRET, WECHAT_APPID, WECHAT_SECRET
from tests.console_helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's own browsers are never downloaded
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "console"


def with_wechat(settings: Settings, wechat: TestServer, **extra: Any) -> Settings:
    """The settings pointed at the WeChat simulator, with the official account's and the mini-program's ids."""
    return settings.model_copy(
        update={
            "wechat_appid": WECHAT_APPID, "wechat_secret": SecretStr(WECHAT_SECRET),
            "miniprogram_appid": MP_APPID, "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            **extra,
        }
    )  # fmt: skip


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_page(browser: Browser, width: int, height: int, timeout_ms: int) -> Page:
    """A page of its own context; ``page.errors`` collects script errors and dialogs, which no page may raise."""
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.set_default_timeout(timeout_ms)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def shot(page: Page, name: str, from_top: bool = False) -> None:
    """A full-page screenshot; ``from_top`` scrolls up first (a sticky list is shot where it starts)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if from_top:
        await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(ARTIFACTS / name), full_page=True)


async def log_in(page: Page, server: TestServer, username: str, shown_as: str) -> None:
    """Through the login page, as a person does; done when the header shows who is logged in."""
    await page.goto(str(server.make_url("/console/login")))
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await expect(page.locator("#console-nav .me")).to_contain_text(shown_as)
