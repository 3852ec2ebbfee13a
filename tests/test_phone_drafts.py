"""Codes of drafts begun on the phone: bound to the phone number the SMS went to, and limited per
person, per code and for everyone together, each try counted before it is checked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.db import make_engine
from bot.db.migrate import upgrade
from bot.handover import phone
from bot.handover.phone import CodeLocked, PhoneDraftBook
from bot.redis_client import make_redis
from bot.settings import Settings

PHONE = "13812345678"


@pytest.fixture
async def book(settings: Settings) -> AsyncIterator[PhoneDraftBook]:
    await asyncio.to_thread(upgrade, settings.database_url)
    engine, redis = make_engine(settings.database_url), make_redis(settings.redis_url)
    yield PhoneDraftBook(engine, redis, settings.vault())
    await redis.aclose()
    await engine.dispose()


async def made(book: PhoneDraftBook) -> str:
    _, code = await book.create("wang.agent", "newborn", {"applicant_name": "陈静"}, PHONE)
    return code


async def test_the_code_opens_the_draft_only_with_its_phone_and_once(book: PhoneDraftBook) -> None:
    code = await made(book)
    assert await book.redeem(code, "mp:someone-else", "13900001111") is None  # the right code is not enough
    assert await book.redeem(code, "mp:chen", PHONE) == ("newborn", {"applicant_name": "陈静"})
    assert await book.redeem(code, "mp:chen", PHONE) is None


async def test_a_code_tried_with_wrong_phones_is_burnt(book: PhoneDraftBook) -> None:
    code = await made(book)
    for n in range(phone.MAX_WRONG_PER_CODE):  # different people, so that no personal limit is reached
        assert await book.redeem(code, f"mp:prober{n}", f"1390000111{n}") is None
    assert await book.redeem(code, "mp:chen", PHONE) is None  # burnt: the caller asks 12345 for another


async def test_many_identities_guessing_together_close_redemption(
    book: PhoneDraftBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(phone, "MAX_WRONG_ALL", 12)
    code = await made(book)
    for n in range(12):  # each identity stays well under its own limit
        assert await book.redeem(f"{n:06d}", f"mp:bot{n}", PHONE) is None
    with pytest.raises(CodeLocked):
        await book.redeem(code, "mp:chen", PHONE)


async def test_parallel_wrong_tries_cannot_slip_past_the_personal_limit(book: PhoneDraftBook) -> None:
    async def guess(n: int) -> str:
        try:
            return "checked" if await book.redeem(f"{n:06d}", "mp:greedy", PHONE) is None else "opened"
        except CodeLocked:
            return "locked"

    results = await asyncio.gather(*(guess(n) for n in range(25)))
    assert results.count("checked") == phone.MAX_WRONG and results.count("locked") == 25 - phone.MAX_WRONG
