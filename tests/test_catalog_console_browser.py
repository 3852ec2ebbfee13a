"""The guides page of the console and the citizen's page together, in Debian's
headless Chromium: an admin logs in, opens 办事指南, picks 新生儿出生, sets a fee
on 社会保障卡申领 in the form inputs (first without a standard: refused next to
the field, in the checker's words), publishes, and sees version 2 and its diff
in the history; then a person on the demo page asks whether it costs anything
and is told the new fee. Screenshots go to ``test-artifacts/console/catalog-*``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from bot.settings import Settings
from handlers.app import create_app
from tests.browser_helpers import (
    ARTIFACTS,
    new_page,
    shot,
    with_wechat,
)
from tests.conftest import serving
from tests.console_helpers import PASSWORD, make_account
from tests.test_demo_page import last_turn, type_and_send

TIMEOUT_MS = 20_000
STANDARD = "补换卡工本费每张 10 元，首次申领免费"
BASIS = "《关于社会保障卡工本费标准的批复》（辽价发〔2026〕1号）"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this test is about the pages; the database matrix is covered by test_catalog_console."""
    return f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
async def server(settings: Settings, wechat: TestServer) -> AsyncIterator[TestServer]:
    configured = with_wechat(settings, wechat)
    async with serving(create_app(configured)) as app_server:
        yield app_server


async def test_admin_changes_a_fee_and_the_citizen_is_told_the_new_fee(server: TestServer, browser: Browser) -> None:
    await make_account(server, "wang.li", "admin", "王丽")
    admin = await new_page(browser, 1400, 900, TIMEOUT_MS)

    # log in through the page, open 办事指南
    await admin.goto(str(server.make_url("/console/catalog")))
    await expect(admin).to_have_url(str(server.make_url("/console/login?next=/console/catalog")))
    await admin.fill("#username", "wang.li")
    await admin.fill("#password", PASSWORD)
    await admin.click("#login-button")
    await expect(admin.locator("#console-nav a[aria-current=page]")).to_have_text("办事指南")
    await expect(admin.locator("#things li")).to_have_count(35)
    await expect(admin.locator("#things li").first).to_contain_text("新生儿出生")
    await expect(admin.locator("#things li").first).to_contain_text("第 1 版")
    await shot(admin, "catalog-01-list.png", from_top=True)

    # one guide: the elements people change most, all 36 elements, the form
    await admin.locator("#things .pick", has_text="新生儿出生").click()
    await expect(admin.locator("#thing-title")).to_have_text("1. 新生儿出生（个人）")
    await expect(admin.locator("#thing-meta")).to_contain_text("第 1 版")
    await expect(admin.locator("#hours")).to_have_value("周一至周五 8:30-11:30，13:00-17:00（法定节假日除外）")
    await shot(admin, "catalog-02-guide.png", from_top=True)
    await admin.get_by_role("tab", name="全部要素").click()
    await admin.select_option("#element-item", "birth_registration")
    location = admin.locator("#element-table tr[data-field=location]")
    await expect(location).to_contain_text("户籍所在地县（市、区）政务服务中心")
    await expect(location.locator(".badge")).to_have_text("defaults")
    await expect(admin.locator("#element-table tr[data-field=agency] .badge")).to_have_text("本事项")
    await shot(admin, "catalog-03-elements.png", from_top=True)
    await admin.get_by_role("tab", name="申请表").click()
    await expect(admin.locator("#form-table")).to_contain_text("applicant_id_card")
    await shot(admin, "catalog-04-form.png", from_top=True)

    # a fee without a standard: refused next to the field, with the path and the checker's words
    await admin.get_by_role("tab", name="常改要素").click()
    await admin.select_option("#scope", "social_security_card")
    await expect(admin.locator("[data-source=fee]")).to_have_text("本事项单独设置")
    await admin.select_option("#fee-charged", "true")
    await admin.fill("#fee-standard", "")
    await admin.click("#quick-publish")
    problems = admin.locator("[data-problems=fee]")
    await expect(problems).to_have_text("items.4.guide.fee: 收费事项须填写收费标准和收费依据")
    await expect(admin.locator("#quick-status")).to_contain_text("没有保存")
    await shot(admin, "catalog-05-refused.png", from_top=True)

    # with a standard and a basis: published as version 2
    await admin.fill("#fee-standard", STANDARD)
    await admin.fill("#fee-basis", BASIS)
    await admin.fill("#quick-note", "执行物价部门批复")
    await admin.click("#quick-publish")
    await expect(admin.locator("#quick-status")).to_have_text("已发布第 2 版，已在所有服务中生效")
    await expect(admin.locator("#thing-meta")).to_contain_text("第 2 版")
    await expect(admin.locator("#things li").first).to_contain_text("第 2 版")
    await expect(problems).to_be_empty()
    await shot(admin, "catalog-06-published.png", from_top=True)

    # the history: version 2 with its diff, the file as shipped below it
    await admin.get_by_role("tab", name="版本历史").click()
    newest = admin.locator("#versions > li").first
    await expect(newest).to_contain_text("第 2 版")
    await expect(newest).to_contain_text("wang.li")
    await expect(newest).to_contain_text("执行物价部门批复")
    await expect(newest.locator(".diff .add").filter(has_text=STANDARD)).to_have_count(1)
    await expect(newest.locator(".diff .del").filter(has_text="首次申领免费}")).to_have_count(1)
    await expect(admin.locator("#versions > li").nth(1)).to_contain_text("随程序发布的指南文件")
    await shot(admin, "catalog-07-history.png", from_top=True)
    await admin.get_by_role("tab", name="YAML 编辑").click()
    shown = await admin.locator("#yaml-text").input_value()
    assert "\nversion: 2\n" in shown and f"standard: {STANDARD}" in shown and "# 各事项共用的指南要素" in shown
    await shot(admin, "catalog-08-yaml.png", from_top=True)

    # the person on the mini-program page asks, and is told the new fee
    citizen = await new_page(browser, 480, 960, TIMEOUT_MS)
    await citizen.goto(str(server.make_url("/")))
    await type_and_send(citizen, "新生儿出生要交钱吗")
    answer = last_turn(citizen)
    await expect(answer).to_contain_text(f"社会保障卡申领：{STANDARD}")
    await expect(answer).not_to_contain_text("全部事项均不收费")
    await type_and_send(citizen, "要收费吗")
    await expect(last_turn(citizen)).to_contain_text(STANDARD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await citizen.locator("#phone").screenshot(path=str(ARTIFACTS / "catalog-09-citizen-told-the-fee.png"))

    # roll back: the file as shipped is published again, as version 3 (two presses, no pop-up)
    await admin.get_by_role("tab", name="版本历史").click()
    again = admin.locator("#versions > li[data-version='1'] button")
    await again.click()
    await expect(again).to_have_text("确认把第 1 版发布为新版本")
    await again.click()
    await expect(admin.locator("#versions > li").first).to_contain_text("第 3 版")
    await expect(admin.locator("#versions > li").first).to_contain_text("重新发布第 1 版")
    await expect(admin.locator("#versions > li").first.locator(".diff .del").filter(has_text=STANDARD)).to_have_count(1)
    await expect(admin.locator("#thing-meta")).to_contain_text("第 3 版")
    await shot(admin, "catalog-10-rolled-back.png", from_top=True)
    await type_and_send(citizen, "要收费吗")
    await expect(last_turn(citizen)).not_to_contain_text(STANDARD)
    await expect(last_turn(citizen)).to_contain_text("社会保障卡申领：首次申领免费")
    assert admin.errors == [] and citizen.errors == []  # type: ignore[attr-defined]
