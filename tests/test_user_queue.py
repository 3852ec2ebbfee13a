"""A person's queue and session on the real Redis: two round trips a turn, a Redis that lost
its Lua scripts (a restart; SCRIPT FLUSH here) before or within a turn, and a ticket kept alive
through a long turn but not past the longest hold."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.crypto import Vault, new_key
from bot.dialogue.session import Session
from bot.dialogue.storage import SessionStore, UserQueue
from bot.people.keys import user_key

USER = "mp:oQueue"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def stores(redis: Redis) -> tuple[UserQueue, SessionStore]:
    return UserQueue(redis), SessionStore(redis, Vault([new_key()]), ttl_seconds=600)


async def one_turn(queue: UserQueue, sessions: SessionStore, said: str) -> tuple[int, Session]:
    """Take the turn reading the session along, save it with the release: → the ticket, the session read."""
    async with queue.turn(USER, [lambda pipe: sessions.stage_load(pipe, USER)]) as held:
        session = sessions.parse(held.peeked[0], USER, "miniprogram")
        seen = session.model_copy()
        session.last_replies = [{"type": "text", "text": said}]
        await queue.commit(held, [lambda pipe: sessions.stage_save(pipe, session)])
    return held.ticket, seen


async def commands(redis: Redis) -> dict[str, int]:
    return {k.removeprefix("cmdstat_"): v["calls"] for k, v in (await redis.info("commandstats")).items()}


async def test_a_turn_is_two_round_trips_with_no_script_checks(redis: Redis) -> None:
    queue, sessions = stores(redis)
    await one_turn(queue, sessions, "warm")  # the scripts loaded once
    before = await commands(redis)
    await one_turn(queue, sessions, "again")
    after = await commands(redis)
    ran = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    ran.pop("info", None)
    assert ran.get("script|exists", 0) == 0 and ran.get("script|load", 0) == 0, ran
    assert ran.get("evalsha") == 2, ran  # taking the turn and letting the next message in


async def test_scripts_lost_before_a_turn_are_loaded_and_the_session_read_again(redis: Redis) -> None:
    queue, sessions = stores(redis)
    await one_turn(queue, sessions, "before")
    await redis.script_flush()
    ticket, seen = await one_turn(queue, sessions, "after")
    assert seen.last_replies == [{"type": "text", "text": "before"}]
    assert ticket == 2
    ticket, seen = await one_turn(queue, sessions, "third")
    assert ticket == 3 and seen.last_replies == [{"type": "text", "text": "after"}]


async def test_scripts_lost_within_a_turn_still_let_the_next_message_in(redis: Redis) -> None:
    queue, sessions = stores(redis)
    await one_turn(queue, sessions, "first")
    async with queue.turn(USER, [lambda pipe: sessions.stage_load(pipe, USER)]) as held:
        await redis.script_flush()  # Redis restarted between taking the turn and saving
        session = sessions.parse(held.peeked[0], USER, "miniprogram")
        session.last_replies = [{"type": "text", "text": "saved anyway"}]
        await queue.commit(held, [lambda pipe: sessions.stage_save(pipe, session)])  # loads the script again
        assert held.released
    ticket, seen = await one_turn(queue, sessions, "next")
    assert ticket == held.ticket + 1  # not queued behind a turn that was never released
    assert seen.last_replies == [{"type": "text", "text": "saved anyway"}]


async def test_a_turn_longer_than_a_tickets_life_keeps_the_next_message_waiting(redis: Redis) -> None:
    """The ticket's ``alive`` key lives 0.3 s; a 1 s turn refreshes it, so the person's next
    message waits for it rather than taking it for a dead process's and running alongside."""
    queue = UserQueue(redis, hold_seconds=30, alive_seconds=0.3)
    order: list[str] = []

    async def slow() -> None:
        async with queue.turn(USER):
            order.append("slow starts")
            await asyncio.sleep(1.0)
            order.append("slow ends")

    async def next_message() -> None:
        await asyncio.sleep(0.1)
        async with queue.turn(USER):
            order.append("next runs")

    await asyncio.gather(slow(), next_message())
    assert order == ["slow starts", "slow ends", "next runs"]


async def test_a_hung_turn_lets_the_next_message_in_after_the_longest_hold(redis: Redis) -> None:
    queue = UserQueue(redis, hold_seconds=0.5, alive_seconds=0.3)
    hung = asyncio.Event()

    async def hangs() -> None:
        async with queue.turn(USER):
            hung.set()
            await asyncio.sleep(30)

    stuck = asyncio.create_task(hangs())
    await hung.wait()
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with queue.turn(USER):
        waited = loop.time() - started
    stuck.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stuck
    assert 0.4 <= waited < 3.0  # refreshed for the hold (0.5 s), then skipped once its key expired


async def test_no_refresh_outlives_its_turn(redis: Redis) -> None:
    queue = UserQueue(redis, hold_seconds=30, alive_seconds=0.3)
    async with queue.turn(USER) as held:
        await asyncio.sleep(0.25)  # one refresh has run
    alive = f"q:{{{user_key(USER)}}}:alive:{held.ticket}"
    assert await redis.exists(alive) == 0  # released
    await asyncio.sleep(0.3)
    assert await redis.exists(alive) == 0  # and no timer wrote it back


async def test_a_commit_writes_every_staged_command_and_answers_each(redis: Redis) -> None:
    queue, sessions = stores(redis)
    async with queue.turn(USER) as held:
        answered = await queue.commit(
            held,
            [
                lambda pipe: pipe.set("probe:s", "值", ex=60),
                lambda pipe: pipe.xadd("probe:log", {"r": "citizen", "t": "你好"}, maxlen=10, approximate=True),
                lambda pipe: pipe.hincrby("probe:h", "turn", 2),
                lambda pipe: pipe.hdel("probe:h", "absent"),
            ],
        )
    assert answered[0] is True and answered[2:] == [2, 0]  # as a pipeline answers
    assert await redis.xrange("probe:log") == [(answered[1], {"r": "citizen", "t": "你好"})]
    assert await redis.get("probe:s") == "值" and 0 < await redis.ttl("probe:s") <= 60
    ticket, _ = await one_turn(queue, sessions, "next")
    assert ticket == held.ticket + 1  # released with the writes


async def test_a_commit_whose_write_fails_still_lets_the_next_message_in(redis: Redis) -> None:
    queue, sessions = stores(redis)
    await redis.set("probe:not-a-hash", "x")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        async with queue.turn(USER) as held:
            await queue.commit(held, [lambda pipe: pipe.hincrby("probe:not-a-hash", "turn", 1)])
    ticket, _ = await one_turn(queue, sessions, "after")
    assert ticket == held.ticket + 1


async def test_reads_staged_with_the_turn_come_back_as_a_pipeline_gives_them(redis: Redis) -> None:
    queue, _ = stores(redis)
    await redis.hset("probe:inbox", mapping={"1": "甲", "2": "乙"})
    async with queue.turn(
        USER, [lambda pipe: pipe.hgetall("probe:inbox"), lambda pipe: pipe.get("probe:none")]
    ) as held:
        assert held.peeked == [{"1": "甲", "2": "乙"}, None]


async def test_a_read_that_fails_with_the_turn_still_lets_the_next_message_in(redis: Redis) -> None:
    queue, sessions = stores(redis)
    await redis.set("probe:not-a-hash", "x")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        async with queue.turn(USER, [lambda pipe: pipe.hgetall("probe:not-a-hash")]):
            pytest.fail("the turn must not run on a failed read")
    ticket, _ = await one_turn(queue, sessions, "after")
    assert ticket == 2
