"""The intents console in Debian's headless Chromium, end to end: an admin logs
in, opens 意图训练, teaches 新生儿出生 a grandparent's phrasing the model gets
wrong (one example annotated with an entity by selecting its text), labels the
inbox (an agent's correction in one click, noise dismissed), retrains watching
the progress bar reach 100%, reads the report with its heat map, activates the
new version (and sees a worse one refused, then forced, then rolled back); on
the demo page the phrasing now brings the 新生儿出生 guide. Screenshots go to
``test-artifacts/console/intents-*.png``. A slice of nlu_data/ keeps
retraining to seconds."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from bot.nlu.data import dump, read_dir, read_file
from bot.settings import ROOT, Settings
from handlers.app import create_app
from handlers.keys import SERVICES
from tests.browser_helpers import (
    log_in,
    new_page,
    shot,
    with_wechat,
)
from tests.conftest import serving
from tests.console_helpers import PASSWORD, make_account
from tests.test_demo_page import last_turn, type_and_send
from tests.test_nlu_admin import _slice
from tests.test_processes import free_port

TIMEOUT_MS = 30_000
PHRASE = "抱上大孙子了，要跑哪些手续"  # a grandparent's way of saying a baby was born
ANNOTATED = "在沈阳抱上大孙子了，落户咋办"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this test is about the page; the database matrix is covered by test_intents_console."""
    return f"sqlite+aiosqlite:///{tmp_path / 'intents.db'}"


@pytest.fixture
async def server(settings: Settings, wechat: TestServer, tmp_path: Path) -> AsyncIterator[TestServer]:
    data_dir = tmp_path / "nlu_data"
    data_dir.mkdir()
    (data_dir / "nlu.yml").write_text(dump(_slice(read_dir(ROOT / "nlu_data"))), encoding="utf-8")
    shutil.copytree(ROOT / "nlu_data" / "jieba", data_dir / "jieba")
    held_out = tmp_path / "held_out.yml"
    held_out.write_text(dump(_slice(read_file(ROOT / "tests" / "data" / "nlu_test.yml"))), encoding="utf-8")
    configured = with_wechat(settings, wechat, nlu_data_dir=data_dir, nlu_eval_file=held_out)
    async with serving(create_app(configured)) as app_server:
        yield app_server


async def guide_of(browser: Browser, server: TestServer, text: str) -> str | None:
    """What a new person on the demo page gets for ``text``: the thing of the guide shown, if any."""
    page = await new_page(browser, 480, 960, TIMEOUT_MS)
    try:
        await page.goto(str(server.make_url("/")))
        await page.wait_for_function("() => localStorage.getItem('lnyjs-demo-code') !== null")
        await type_and_send(page, text)
        guide = last_turn(page).locator("[data-kind=guide]")
        thing = await guide.get_attribute("data-thing") if await guide.count() else None
        if thing == "newborn":
            await expect(guide.locator(".card-title")).to_have_text("【新生儿出生】办事指南（一次告知）")
            await shot(page, "intents-09-demo-page-answers.png")
        assert page.errors == []  # type: ignore[attr-defined]
        return thing
    finally:
        await page.context.close()


async def test_teach_a_phrasing_retrain_report_activate_and_the_bot_understands(
    server: TestServer, browser: Browser
) -> None:
    services = server.app[SERVICES]
    await make_account(server, "wang.li", "admin", "王丽")
    # first: the model in use gets the phrasing wrong, and the demo page shows another guide
    assert (await services.nlu.parse(PHRASE))["intent"]["name"] != "thing_newborn"
    assert await guide_of(browser, server, PHRASE) != "newborn"
    # the inbox: an agent's correction, and noise that fell back
    await services.nlu_store.record_correction(
        "miniprogram", "俺家添了个老疙瘩，上户口找谁", "thing_newborn", "chen", "H1"
    )
    await services.nlu_store.record_fallback("wechat", "阿巴阿巴嗯嗯")

    page = await new_page(browser, 1440, 900, TIMEOUT_MS)
    await log_in(page, server, "wang.li", "王丽")
    await page.locator("#console-nav").get_by_role("link", name="意图训练").click()
    await expect(page).to_have_url(str(server.make_url("/console/intents")))
    newborn = page.locator("#intents [data-intent=thing_newborn]")
    await expect(newborn).to_contain_text("新生儿出生")
    await expect(newborn).to_contain_text("还没有评估")
    await expect(page.locator("#accuracy-note")).to_contain_text("还没有评估")
    await expect(page.locator("#inbox-count")).to_have_text("2")
    await shot(page, "intents-01-list.png")

    # examples: one annotated by selecting 沈阳 and picking the entity, then the phrasing itself
    await newborn.click()
    await expect(page.locator("#examples-title")).to_have_text("新生儿出生")
    count_before = await page.locator("#examples li").count()
    await page.fill("#example-text", ANNOTATED)
    await page.locator("#example-text").evaluate("el => el.setSelectionRange(1, 3)")
    await page.select_option("#entity-pick", "city")
    await page.click("#annotate")
    await expect(page.locator("#example-text")).to_have_value("在[沈阳](city)抱上大孙子了，落户咋办")
    await expect(page.locator("#example-preview mark.ent[data-entity=city]")).to_have_text("沈阳城市")
    await shot(page, "intents-02-annotating.png")
    await page.click("#example-save")
    await expect(page.locator("#example-status")).to_contain_text("已添加到“新生儿出生”")
    await page.fill("#example-text", PHRASE)
    await page.click("#example-save")
    await expect(page.locator("#examples li")).to_have_count(count_before + 2)
    first = page.locator("#examples li").first
    await expect(first).to_contain_text(PHRASE)
    await expect(page.locator("#examples li").nth(1).locator("mark.ent")).to_have_text("沈阳城市")
    await expect(newborn).to_contain_text(f"{count_before + 2} 句")
    await shot(page, "intents-03-examples.png")

    # the inbox: the agent's suggestion is preselected; one click labels it, noise is dismissed
    await page.click("#tab-inbox")
    rows = page.locator("#inbox tbody tr")
    await expect(rows).to_have_count(2)
    corrected = rows.filter(has_text="俺家添了个老疙瘩")
    await expect(corrected).to_contain_text("坐席纠正")
    assert await corrected.locator("select").input_value() == "thing_newborn"
    await shot(page, "intents-04-inbox.png")
    await corrected.get_by_role("button", name="标注").click()
    await expect(page.locator("#inbox-status")).to_contain_text("已成为“新生儿出生”的例句")
    await rows.filter(has_text="阿巴阿巴嗯嗯").get_by_role("button", name="忽略").click()
    await expect(page.locator("#inbox-empty")).to_be_visible()
    await expect(page.locator("#inbox-count")).to_have_text("0")

    # retrain, watching the progress bar
    await page.click("#tab-models")
    await expect(page.locator("#models-empty")).to_be_visible()
    await expect(page.locator("#rasa-notice")).to_be_hidden()  # the embedded engine answers: what is activated here
    await page.evaluate(
        """() => { window.progress = [];
                   new MutationObserver(() => window.progress.push(
                       Number(document.getElementById("train-bar").getAttribute("aria-valuenow"))))
                     .observe(document.getElementById("train-bar"), { attributes: true }); }"""
    )
    await page.click("#train")
    await expect(page.locator("#train")).to_be_disabled()
    await page.wait_for_function(
        "() => { const v = Number(document.getElementById('train-bar').getAttribute('aria-valuenow')); return v > 0; }"
    )
    await shot(page, "intents-05-training.png")
    await expect(page.locator("#train-bar")).to_have_attribute("aria-valuenow", "100", timeout=90_000)
    await expect(page.locator("#train-percent")).to_have_text("100%")
    await expect(page.locator("#train-stage")).to_contain_text("训练完成：第 1 版")
    progress = await page.evaluate("window.progress")
    assert progress == sorted(progress) and progress[-1] == 100, progress
    assert any(0 < p < 100 for p in progress), progress  # it moved, not jumped

    # the report of version 1: per intent, heat map, misclassified
    report = page.locator("#report")
    await expect(report).to_be_visible()
    await expect(page.locator("#report-title")).to_have_text("第 1 版的评估报告")
    await expect(page.locator("#report-intents tbody tr")).to_have_count(6)
    await expect(page.locator("#report-intents tbody")).to_contain_text("新生儿出生")
    heatmap = page.locator("#heatmap")
    await expect(heatmap).to_be_visible()
    await page.wait_for_function("() => document.getElementById('heatmap').naturalWidth > 300")
    await expect(page.locator("#models tbody tr")).to_have_count(1)
    await page.locator("#report .sets").get_by_role("button", name="测试集（独立编写）").click()
    await expect(page.locator("#report-summary")).to_contain_text("测试集：准确率")
    await page.wait_for_function("() => document.getElementById('heatmap').src.includes('set=held_out')")
    await page.wait_for_function("() => document.getElementById('heatmap').complete")
    await page.locator("#report .sets").get_by_role("button", name="交叉验证（全部例句）").click()
    await page.wait_for_function(
        "() => { const img = document.getElementById('heatmap');"
        " return img.src.includes('set=cross_validation') && img.complete && !img.classList.contains('loading'); }"
    )
    await shot(page, "intents-06-report.png")

    # activate it: every process swaps the model in
    await page.locator("#models tbody tr[data-version='1']").get_by_role("button", name="启用").click()
    await expect(page.locator("#models-status")).to_contain_text("第 1 版已启用")
    await expect(page.locator("#models tbody tr[data-version='1']")).to_contain_text("使用中")
    for _ in range(100):
        if services.nlu.version == 1:
            break
        await asyncio.sleep(0.1)
    assert services.nlu.version == 1
    await expect(newborn).to_contain_text("召回")  # recent accuracy, from version 1's evaluation
    await expect(page.locator("#accuracy-note")).to_contain_text("第 1 版")
    await shot(page, "intents-07-activated.png")

    # a worse candidate (greetings scrambled into goodbyes through the API) is refused, then forced, then rolled back
    csrf = {"X-CSRF-Token": await page.evaluate("fetch('/console/api/me').then(r => r.json()).then(m => m.csrf)")}
    greetings = await page.request.get(str(server.make_url("/api/admin/nlu/examples?intent=greet")))
    for example in (await greetings.json())["examples"][::3]:
        resp = await page.request.put(
            str(server.make_url(f"/api/admin/nlu/examples/{example['id']}")), data={"intent": "goodbye"}, headers=csrf
        )
        assert resp.ok
    await page.click("#train")
    await expect(page.locator("#train-stage")).to_contain_text("训练完成：第 2 版", timeout=90_000)
    await page.wait_for_function(
        "() => { const img = document.getElementById('heatmap');"
        " return img.src.includes('/models/2/') && img.complete && !img.classList.contains('loading'); }"
    )
    await page.locator("#models tbody tr[data-version='2']").get_by_role("button", name="启用").click()
    await expect(page.locator("#models-status")).to_contain_text("交叉验证准确率比正在使用的版本低")
    await expect(page.locator("#models-status")).to_have_class("error")
    force = page.locator("#force")
    await expect(force).to_have_text("仍然启用第 2 版")
    await shot(page, "intents-08-activation-refused.png")
    await force.click()
    await expect(page.locator("#models tbody tr[data-version='2']")).to_contain_text("使用中")
    await page.click("#rollback")
    await expect(page.locator("#models-status")).to_contain_text("已回退到第 1 版")
    await expect(page.locator("#models tbody tr[data-version='1']")).to_contain_text("使用中")
    for _ in range(100):
        if services.nlu.version == 1:
            break
        await asyncio.sleep(0.1)
    assert services.nlu.version == 1
    assert page.errors == []  # type: ignore[attr-defined]

    # the demo page: the phrasing now brings the 新生儿出生 guide
    assert await guide_of(browser, server, PHRASE) == "newborn"


async def test_an_agent_marks_a_line_with_the_intent_it_should_have_been(server: TestServer, browser: Browser) -> None:
    services = server.app[SERVICES]
    await make_account(server, "chen.agent", "agent", "陈晨")
    said = "家里添丁了该办啥"  # the model in use takes it for 身后一件事
    citizen = await new_page(browser, 480, 960, TIMEOUT_MS)
    await citizen.goto(str(server.make_url("/")))
    await citizen.wait_for_function("() => localStorage.getItem('lnyjs-demo-code') !== null")
    await type_and_send(citizen, said)
    await type_and_send(citizen, "转人工")

    agent = await new_page(browser, 1400, 900, TIMEOUT_MS)
    await agent.goto(str(server.make_url("/console/login?next=/console/agent")))
    await agent.fill("#username", "chen.agent")
    await agent.fill("#password", PASSWORD)
    await agent.click("#login-button")
    await agent.locator("#queue li").first.get_by_role("button", name="接入").click()
    line = agent.locator("#transcript li.citizen").first
    await expect(line).to_have_text(f"办事人{said}")  # the action adds nothing to what the person said
    await line.get_by_role("button", name="标注意图").click()
    await expect(agent.locator("#intent-said")).to_have_text(said)
    await agent.select_option("#intent-pick", "thing_newborn")
    await shot(agent, "intents-10-agent-marks-a-line.png")
    await agent.click("#intent-send")
    await expect(agent.locator("#intent-status")).to_contain_text("已记下")
    await expect(agent.locator("#intent-form")).to_be_hidden()
    await expect(line.get_by_role("button", name="已标注：新生儿出生")).to_be_visible()
    await shot(agent, "intents-11-agent-marked.png")
    rows = await services.nlu_store.fallbacks(source="agent")
    assert [(r["text"], r["suggested_intent"], r["channel"]) for r in rows] == [(said, "thing_newborn", "miniprogram")]
    assert agent.errors == [] and citizen.errors == []  # type: ignore[attr-defined]


async def test_with_rasa_answering_the_page_says_what_an_activation_changes(
    settings: Settings, wechat: TestServer, browser: Browser
) -> None:
    """With NLU_BACKEND=rasa the versions trained here only stand in while Rasa is down: the page says so,
    and how to ship new examples to Rasa."""
    dead_rasa = f"http://127.0.0.1:{free_port()}"  # never asked: the page reads the setting, not Rasa
    configured = with_wechat(settings, wechat, nlu_backend="rasa", rasa_url=dead_rasa)
    async with serving(create_app(configured)) as server:
        await make_account(server, "wang.li", "admin", "王丽")
        page = await new_page(browser, 1440, 900, TIMEOUT_MS)
        await log_in(page, server, "wang.li", "王丽")
        await page.goto(str(server.make_url("/console/intents")))
        await page.click("#tab-models")
        notice = page.locator("#rasa-notice")
        await expect(notice).to_be_visible()
        await expect(notice).to_contain_text("Rasa")
        await expect(notice.get_by_role("link", name="下载")).to_have_attribute("href", "/api/admin/nlu/export")
        await shot(page, "intents-12-rasa-answers.png")
        assert page.errors == []  # type: ignore[attr-defined]
