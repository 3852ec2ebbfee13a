"""The demo page at ``/`` in a real browser: Debian's headless Chromium driven by
Playwright, the app over real HTTP with the WeChat and platform simulators.

A 新生儿出生 application is done on the page by clicking its buttons and typing
what its prompts show; 长辈模式 is then measured against the national 适老化
rules for apps (text sizes, tap targets, contrast, no pop-ups, errors in
words, one thing at a time); “my applications” shows the application with its
per-item status. Screenshots go to ``test-artifacts/demo/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Dialog, Locator, Page, Request, Route, async_playwright, expect
from pydantic import SecretStr
from sqlalchemy import select

from bot.db.schema import outbox
from bot.settings import ROOT, Settings
from bot.texts import elderly, standard
from handlers.app import create_app
from handlers.keys import SERVICES
from integrations.simulators.elicense import create_app as elicense_app
from integrations.simulators.platform import PlatformSim
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import MP_APPID, MP_SECRET, WECHAT_APPID, WECHAT_SECRET

ARTIFACTS = ROOT / "test-artifacts" / "demo"
PLATFORM_KEY, CALLBACK_SECRET, ELICENSE_KEY = "platform-demo-key", "callback-demo-secret", "elicense-demo-key"
PUBLIC_API = {"/", "/api/mp/login", "/api/chat", "/api/chat/updates", "/api/me/applications", "/api/things"}
REPLY_TIMEOUT_MS = 20_000
# What a cooperative applicant taps when the page offers a choice.
AGREE = ("开始办理", "是", "同意", "都对", "给自己办", "对", "确认提交")

# 适老化 (移动互联网应用适老化通用设计规范): 18pt/30pt at 96 dpi, 4.5:1, 60x60 px
MIN_TEXT_PX, MIN_LARGEST_PX, MIN_CONTRAST, MIN_TARGET_PX = 24, 40, 4.5, 60

MEASURE_JS = """
() => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && Number(s.opacity) > 0;
  };
  const rgba = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) throw new Error("unexpected colour " + c);
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  const background = (el) => {  // what is painted behind the element: its and its ancestors' backgrounds
    const chain = [];
    for (let n = el; n; n = n.parentElement) chain.push(rgba(getComputedStyle(n).backgroundColor));
    return chain.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const luminance = (c) => {
    const lin = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  };
  const ratio = (fg, bg) => {
    const [a, b] = [luminance(over(fg, bg)), luminance(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");

  const texts = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const field = el.tagName === "INPUT";
    if (!own && !field) continue;
    const s = getComputedStyle(el);
    const bg = background(el);
    const entry = {el: name(el), text: (el.textContent || el.placeholder || "").trim().slice(0, 30),
                   px: parseFloat(s.fontSize), contrast: ratio(rgba(s.color), bg)};
    if (field && el.placeholder && !el.value) {
      entry.contrast = Math.min(entry.contrast, ratio(rgba(getComputedStyle(el, "::placeholder").color), bg));
    }
    texts.push(entry);
  }
  const targets = [];
  const interactive = "button, a[href], input, select, textarea, [role=button], [role=switch], [tabindex]";
  for (const el of document.querySelectorAll(interactive)) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    targets.push({el: name(el), text: (el.textContent || "").trim().slice(0, 20),
                  w: Math.round(r.width * 10) / 10, h: Math.round(r.height * 10) / 10});
  }
  const turns = [...document.querySelectorAll("#messages > .turn")].filter(shown).length;
  const questions = [...document.querySelectorAll("#messages .question")].filter(shown).length;
  const popups = document.querySelectorAll("dialog, [role=dialog], [role=alertdialog], [aria-modal=true]").length;
  return {texts, targets, turns, questions, popups};
}
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this test is about the page, the database matrix is covered elsewhere."""
    return f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(PlatformSim(tmp_path / "platform.db", PLATFORM_KEY, CALLBACK_SECRET, pace=0).app())
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def elicense() -> AsyncIterator[TestServer]:
    server = TestServer(elicense_app(ELICENSE_KEY, latency_ms=0))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def server(
    settings: Settings, wechat: TestServer, platform: TestServer, elicense: TestServer
) -> AsyncIterator[TestServer]:
    """The whole app over real HTTP, as `make run` serves it, pointed at the simulators."""
    configured = settings.model_copy(
        update={
            "elicense_url": str(elicense.make_url("")).rstrip("/"),
            "elicense_key": SecretStr(ELICENSE_KEY),
            "wechat_appid": WECHAT_APPID,
            "wechat_secret": SecretStr(WECHAT_SECRET),
            "miniprogram_appid": MP_APPID,
            "miniprogram_secret": SecretStr(MP_SECRET),
            "wechat_api_url": str(wechat.make_url("")).rstrip("/"),
            "platform_url": str(platform.make_url("")),
            "platform_key": SecretStr(PLATFORM_KEY),
            "platform_timeout_seconds": 2.0,
        }
    )
    app_server = TestServer(create_app(configured), host="127.0.0.1")
    await app_server.start_server()
    yield app_server
    await app_server.close()


class Watch:
    """What the page does behind the person's back: pop-ups, script errors, requests."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.paths: set[str] = set()
        page.on("dialog", self.on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", self.on_request)

    async def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")  # a pop-up is a failure (asserted below)
        await dialog.dismiss()

    def on_request(self, request: Request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https"):
            self.paths.add(url.path)

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"the page opened pop-ups: {self.dialogs}"
        assert self.errors == [], f"script errors: {self.errors}"


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 480, "height": 960}, locale="zh-CN")
        context.set_default_timeout(REPLY_TIMEOUT_MS)
        try:
            yield await context.new_page()
        finally:
            await context.close()
            await browser.close()


# ---- driving the page as a person would ----------------------------------------


def last_turn(page: Page) -> Locator:
    return page.locator("#messages > .turn").last


async def settled(page: Page, before: int) -> None:
    """Wait for the answer to what was just sent: one more exchange, answered."""
    await page.wait_for_function(
        """n => { const t = document.querySelectorAll("#messages > .turn");
                  return t.length > n && t[t.length - 1].dataset.state === "done"; }""",
        arg=before,
    )


async def turns(page: Page) -> int:
    return await page.locator("#messages > .turn").count()


async def tap(page: Page, label: str) -> None:
    before = await turns(page)
    await last_turn(page).get_by_role("button", name=label, exact=True).click()
    await settled(page, before)


async def type_and_send(page: Page, text: str) -> None:
    before = await turns(page)
    await page.get_by_role("textbox").fill(text)
    await page.get_by_role("button", name="发送", exact=True).click()
    await settled(page, before)


async def labels(scope: Locator) -> list[str]:
    return [t.strip() for t in await scope.locator("button.answer:enabled").all_inner_texts()]


async def complete_application(page: Page) -> list[str]:
    """Answer what the page asks until the application is in; one ID number is first typed wrong.
    Returns the buttons tapped and the words typed, in order."""
    tried_wrong = False
    answered: list[str] = []
    for _ in range(60):
        turn = last_turn(page)
        said = await turn.inner_text()
        if standard.SUBMITTED in said:
            return answered
        field = turn.locator(".question[data-kind=field]")
        if await field.count():
            options = await labels(field)
            prompt = await field.locator(".prompt").inner_text()
            if options:  # “跳过” when optional: there is nothing to upload from a web page
                pick = "跳过" if "跳过" in options else options[0]
                answered.append(pick)
                await tap(page, pick)
                continue
            example = (await field.locator(".example").inner_text()).removeprefix("例如：")
            if "身份证号" in prompt and not tried_wrong:
                tried_wrong = True
                await wrong_id_is_told_in_words(page, example)
            answered.append(example)
            await type_and_send(page, example)
            continue
        choices = turn.locator(".question[data-kind=choices]")
        if await choices.count():
            offered = await labels(choices)
            wanted = next((w for w in AGREE if w in offered), None)
            assert wanted is not None, f"no agreeable choice among {offered}:\n{said}"
            answered.append(wanted)
            await tap(page, wanted)
            continue
        if "我承诺" in said:
            answered.append("我承诺")
            await type_and_send(page, "我承诺")
            continue
        raise AssertionError(f"the page shows no question to answer:\n{said}")
    raise AssertionError("no submission after 60 answers")


async def wrong_id_is_told_in_words(page: Page, good: str) -> None:
    """A wrong check digit: the same question comes back with what is wrong, written out."""
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    field_id = await last_turn(page).locator(".question[data-kind=field]").get_attribute("data-field")
    await type_and_send(page, wrong)
    again = last_turn(page).locator(".question[data-kind=field]")
    assert await again.get_attribute("data-field") == field_id
    problem = again.locator(".problem")
    await expect(problem).to_be_visible()
    assert await problem.get_attribute("role") == "alert"
    told = await problem.inner_text()
    assert told.startswith("请注意：") and "校验码" in told, told
    await shot(page, "01-standard-problem-in-words.png")


async def measure(page: Page) -> dict[str, Any]:
    return await page.evaluate(MEASURE_JS)  # type: ignore[no-any-return]


def assert_contrast(m: dict[str, Any], where: str) -> None:
    assert len(m["texts"]) >= 5, f"{where}: too little text measured: {m['texts']}"
    low = [t for t in m["texts"] if t["contrast"] < MIN_CONTRAST]
    assert not low, f"{where}: contrast below {MIN_CONTRAST}:1: {low}"


def assert_elderly_rules(m: dict[str, Any], where: str) -> None:
    """The 适老化 rules that can be measured in the browser."""
    assert_contrast(m, where)
    small = [t for t in m["texts"] if t["px"] < MIN_TEXT_PX]
    assert not small, f"{where}: text under {MIN_TEXT_PX}px: {small}"
    largest = max(t["px"] for t in m["texts"])
    assert largest >= MIN_LARGEST_PX, f"{where}: largest text is {largest}px"
    assert len(m["targets"]) >= 4, f"{where}: too few tap targets measured: {m['targets']}"
    tiny = [t for t in m["targets"] if t["w"] < MIN_TARGET_PX or t["h"] < MIN_TARGET_PX]
    assert not tiny, f"{where}: tap targets under {MIN_TARGET_PX}x{MIN_TARGET_PX}px: {tiny}"
    assert m["popups"] == 0, f"{where}: a dialog element is on the page"


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.locator("#phone").screenshot(path=str(ARTIFACTS / name))


async def drain_outbox(server: TestServer) -> None:
    """What the background worker does under `make run`: submit, then queue the person's notice."""
    services = server.app[SERVICES]
    worker = services.delivery()
    assert worker is not None
    notifier = services.notifier()
    for _ in range(20):
        await worker.deliver_due()
        await notifier.deliver_due()
        async with services.db.connect() as conn:
            left = (await conn.execute(select(outbox.c.id).where(outbox.c.delivered_at.is_(None)))).all()
        if not left:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox did not empty")


async def platform_numbers(platform: TestServer) -> list[str]:
    async with aiohttp.ClientSession() as http, http.get(platform.make_url("/_sim/applications")) as resp:
        assert resp.status == 200
        return [a["number"] for a in await resp.json()]


# ---- the test ----------------------------------------------------------------------


async def test_newborn_application_on_the_demo_page_and_elderly_mode(
    page: Page, server: TestServer, platform: TestServer
) -> None:
    watch = Watch(page)
    resp = await page.goto(str(server.make_url("/")))
    assert resp is not None and resp.ok and resp.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    await expect(page).to_have_title("辽宁“一件事一次办”助手")
    await page.wait_for_function("() => localStorage.getItem('lnyjs-demo-code') !== null")
    assert (await page.evaluate("localStorage.getItem('lnyjs-demo-code')")).startswith("demo-")
    switch = page.get_by_role("switch", name="长辈模式")
    assert await switch.get_attribute("aria-checked") == "false"

    # ---- standard mode: a 新生儿出生 application, by buttons and typing ----
    await type_and_send(page, "孩子刚出生，想办出生证和户口")
    guide = last_turn(page).locator("[data-kind=guide]")
    await expect(guide.locator(".card-title")).to_have_text("【新生儿出生】办事指南（一次告知）")
    assert await guide.get_attribute("data-thing") == "newborn"
    await shot(page, "00-standard-guide.png")
    unfold = guide.get_by_role("button", name="展开全部内容")
    await unfold.click()  # the long guide starts folded so the buttons stay in reach
    assert await guide.get_by_role("button", name="收起").get_attribute("aria-expanded") == "true"
    assert await page.locator('a[href^="/pages/"]').count() == 0  # mini-program pages are not web links
    assert "开始办理" in await labels(last_turn(page))
    assert_contrast(await measure(page), "standard mode, the guide")

    answered = await complete_application(page)
    # the demo login carries no 辽事通 real-name voucher: nothing is looked up in shared data (it is
    # only for a verified person's own record), the person types the form and the platform checks it
    assert answered[0] == "开始办理" and "同意" not in answered and "都对" not in answered, answered
    assert standard.PREFILL_UNVERIFIED in await page.locator("#messages").inner_text()
    assert answered[-1] == "确认提交", answered
    review = page.locator("#messages [data-kind=review]").last
    rows = await review.locator(".review-line dt").all_inner_texts()
    assert len(rows) >= 10 and "孩子的姓名" in rows, rows
    # answered questions cannot be answered twice
    assert await page.locator("#messages > .turn:not(:last-child) button.answer:enabled").count() == 0
    await shot(page, "02-standard-submitted.png")

    # the worker hands the application to the platform, which accepts it with a number
    await drain_outbox(server)
    [number] = await platform_numbers(platform)

    # ---- 长辈模式: the page and the assistant both switch ----
    before = await turns(page)
    await switch.click()
    await settled(page, before)
    assert await switch.get_attribute("aria-checked") == "true"
    await expect(switch).to_contain_text("已开启")  # on/off in words, not only colour
    assert await page.evaluate("document.documentElement.classList.contains('elderly')")
    said = await last_turn(page).locator(".replies").inner_text()
    assert elderly.ELDERLY_ON in said and number in said, said  # the engine's switch, and the acceptance notice

    await type_and_send(page, "新生儿出生")
    assert "开始办理" in await labels(last_turn(page))
    m = await measure(page)
    assert_elderly_rules(m, "长辈模式, what to do next")
    assert m["turns"] == 1 and m["questions"] == 1, m  # one thing at a time
    await tap(page, "开始办理")
    for _ in range(4):  # eligibility, then whether they act for a relative
        offered = await labels(last_turn(page))
        if not offered:
            break
        await tap(page, next(w for w in AGREE if w in offered))
    field = last_turn(page).locator(".question[data-kind=field]")
    await expect(field.locator(".prompt")).to_contain_text("申请人姓名")
    m = await measure(page)
    assert_elderly_rules(m, "长辈模式, a form question")
    assert m["turns"] == 1 and m["questions"] == 1, m
    await shot(page, "03-elderly-question.png")

    # ---- an error is said in words; what was typed is kept to send again ----
    async def fail(route: Route) -> None:
        await route.abort("internetdisconnected")

    await page.route("**/api/chat", fail)
    await page.get_by_role("textbox").fill("王丽")
    await page.get_by_role("button", name="发送", exact=True).click()
    notice = page.locator("#notice")
    await expect(notice).to_be_visible()
    assert await notice.get_attribute("role") == "alert"
    told = await notice.inner_text()
    assert told.startswith("出错了：") and "没有发出去" in told, told
    assert await page.get_by_role("textbox").input_value() == "王丽"
    await expect(last_turn(page).locator(".question[data-kind=field] .prompt")).to_contain_text("申请人姓名")
    m = await measure(page)
    assert_elderly_rules(m, "长辈模式, a failed send")
    assert m["turns"] == 1, m
    await shot(page, "04-elderly-error-in-words.png")
    await page.unroute("**/api/chat", fail)
    before = await turns(page)
    await page.get_by_role("button", name="发送", exact=True).click()
    await settled(page, before)
    await expect(notice).to_be_hidden()
    assert "王丽" in await last_turn(page).inner_text()  # read back for confirmation

    # ---- my applications: the submitted one, each item with its status ----
    await page.get_by_role("button", name="我的申请", exact=True).click()
    card = page.locator("#apps .card.app")
    await expect(card).to_have_count(1)
    assert await card.get_attribute("data-thing") == "newborn"
    await expect(card.locator(".card-title")).to_have_text("新生儿出生")
    await expect(card.locator(".app-number dd")).to_have_text(number)
    await expect(card.locator(".app-status dd")).to_have_text("已受理")
    items = dict(
        zip(
            await card.locator(".item-name").all_inner_texts(),
            await card.locator(".item-status").all_inner_texts(),
            strict=True,
        )
    )
    thing = server.app[SERVICES].catalog.things["newborn"]
    assert set(items) == {i.name for i in thing.items} and set(items.values()) == {"已受理"}, items
    m = await measure(page)
    assert_elderly_rules(m, "长辈模式, my applications")
    await shot(page, "05-elderly-my-applications.png")

    # the choice of layout is kept for next time
    await page.reload()
    assert await page.get_by_role("switch", name="长辈模式").get_attribute("aria-checked") == "true"
    assert await page.evaluate("document.documentElement.classList.contains('elderly')")

    watch.assert_clean()
    outside = {p for p in watch.paths if p not in PUBLIC_API and not p.startswith("/demo/")}
    assert not outside, f"the page used more than the public API: {outside}"
