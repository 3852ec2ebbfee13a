"""Sessions in Redis (encrypted, with a TTL) and the per-person message queue: the real thing,
for every process of a deployment (``memory.py`` has the same for one process and for tests).

``UserQueue`` makes the messages of one person run strictly one after another,
in order of arrival, across every process (like aiogram's event isolation),
while different people never wait for each other. It is a ticket lock: each
message draws a number; the holder of ``serving + 1`` runs. A number whose
process died (its ``alive`` key expired) is skipped, so a crash costs the
person a few seconds, never a stuck conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from redis.asyncio import Redis

from bot.crypto import Vault
from bot.dialogue.session import Session
from bot.dialogue.storage.base import Held
from bot.people.keys import user_key

log = logging.getLogger(__name__)

# Commands a caller staged (see ``_Staged``), as ARGV from ``from``: for each, its length, then its
# words; → their answers, an error as an error (pcall), so that one failed command stops no other.
_RUN_STAGED = """
local function run_staged(from)
  local out = {}
  local i = from
  while i <= #ARGV do
    local n = tonumber(ARGV[i])
    out[#out + 1] = redis.pcall(unpack(ARGV, i + 1, i + n))
    i = i + n + 1
  end
  return out
end
"""

# Draw a number and, when nobody is ahead (the common case), take the turn at once and run the
# staged reads (the session, the inbox…): one round trip. → {ticket, answers…}, or {-ticket} to wait.
_ENTER = (
    _RUN_STAGED
    + """
local ticket = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SET', ARGV[2] .. ticket, 1, 'PX', ARGV[3])
local serving = tonumber(redis.call('GET', KEYS[2]) or '0')
while serving < ticket - 1 do
  if redis.call('EXISTS', ARGV[2] .. (serving + 1)) == 1 then break end
  serving = serving + 1
end
redis.call('SET', KEYS[2], serving, 'PX', ARGV[1])
if serving ~= ticket - 1 then return {-ticket} end
local out = run_staged(4)
table.insert(out, 1, ticket)
return out
"""
)

# Advance past dead tickets; 1 when ARGV[1] may run now.
_TURN = """
local serving = tonumber(redis.call('GET', KEYS[1]) or '0')
local ticket = tonumber(ARGV[1])
while serving < ticket - 1 do
  if redis.call('EXISTS', ARGV[2] .. (serving + 1)) == 1 then break end
  serving = serving + 1
end
redis.call('SET', KEYS[1], serving, 'PX', ARGV[3])
if serving == ticket - 1 then return 1 end
return 0
"""

# Let the person's next message in: ticket ARGV[1] done (never moving ``serving`` back).
_RELEASE = """
local serving = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > serving then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end
redis.call('DEL', ARGV[2] .. ARGV[1])
"""

_DONE = _RELEASE + "return 1\n"

# A turn's writes (staged), then the release, in one script
# call. One call, not a pipeline of a dozen commands: redis-py spends several times more CPU on
# each command of a pipeline than Redis does running it (bench: 0.21 → 0.08 ms a turn's save).
_COMMIT = _RUN_STAGED + "local out = run_staged(4)\n" + _RELEASE + "return out\n"


def _raise_first(answered: Sequence[Any]) -> None:
    """What ``pipe.execute()`` would have raised, for a pipeline run with ``raise_on_error=False``."""
    for a in answered:
        if isinstance(a, Exception):
            raise a


class _Staged:
    """What ``stages`` queue on a redis-py pipeline that is never sent, for a script to run: each
    store keeps staging its own commands, and one script call replaces a pipeline of them."""

    def __init__(self, redis: Redis, stages: Sequence[Callable[[Any], None]]) -> None:
        self.redis = redis
        collector = redis.pipeline(transaction=False)
        for stage in stages:
            stage(collector)
        self.commands: list[tuple[tuple[Any, ...], dict[str, Any]]] = list(collector.command_stack)
        encode = redis.connection_pool.get_encoder().encode
        self.keys = list(dict.fromkeys(str(args[1]) for args, _ in self.commands))  # declared, as scripts must
        self.words: list[Any] = []
        for args, _ in self.commands:
            self.words.append(len(args))
            self.words.extend(encode(word) for word in args)

    def answers(self, raw: Sequence[Any]) -> list[Any]:
        """Each command's answer as the pipeline would have given it (redis-py's reply callbacks)."""
        callbacks = self.redis.response_callbacks
        out = []
        for answer, (args, options) in zip(raw, self.commands, strict=True):
            name = str(args[0]).upper()
            if not isinstance(answer, Exception):
                answer = _RESP2_SHAPES.get(name, _same)(answer)
                if name in callbacks:
                    answer = callbacks[name](answer, **{k: v for k, v in options.items() if k != "keys"})
            out.append(answer)
        return out


def _same(answer: Any) -> Any:
    return answer


def _pairs(answer: Any) -> Any:
    return dict(zip(answer[::2], answer[1::2], strict=True)) if isinstance(answer, list) else answer


# Inside a script Redis answers in RESP2's shapes, while the client speaks RESP3, where a hash is a
# map: the commands staged beside a turn that answer differently are brought to the client's shape.
_RESP2_SHAPES: dict[str, Callable[[Any], Any]] = {"HGETALL": _pairs}


class UserQueue:
    def __init__(self, redis: Redis, hold_seconds: float = 30.0, alive_seconds: float = 5.0) -> None:
        self.redis = redis
        self.hold_ms = int(hold_seconds * 1000)
        self.alive_ms = int(alive_seconds * 1000)
        self.keep_ms = 24 * 3600 * 1000  # counters outlive any plausible gap between messages
        self._enter = redis.register_script(_ENTER)
        self._turn = redis.register_script(_TURN)
        self._done = redis.register_script(_DONE)
        self._commit = redis.register_script(_COMMIT)

    @contextlib.asynccontextmanager
    async def turn(self, user: str, along: Sequence[Callable[[Any], None]] = ()) -> AsyncIterator[Held]:
        """Hold the person's queue. ``along``: reads staged on a pipeline (the session, the inbox)
        and run by the same script call, once the turn is ours: when nobody is ahead, as is usual,
        one round trip in all; else they are read once the turn comes."""
        base = f"q:{{{user_key(user)}}}"  # a hash tag: the person's keys share one Redis Cluster slot
        alive = f"{base}:alive:"
        reads = _Staged(self.redis, along)
        keys = [f"{base}:ticket", f"{base}:serving", *reads.keys]
        # a Redis that lost its scripts (a restart) answers NOSCRIPT before running anything: the
        # script object loads it and calls again
        entered, *raw = await self._enter(keys=keys, args=[self.keep_ms, alive, self.alive_ms, *reads.words])
        held = Held(user, abs(int(entered)), reads.answers(raw) if int(entered) > 0 else [])
        keeper = _AliveKeeper(self.redis, f"{alive}{held.ticket}", self.alive_ms, self.hold_ms)
        try:
            _raise_first(held.peeked)  # inside: a read that failed still lets the next message in
            if int(entered) < 0:
                delay = 0.005
                while not await self._turn(keys=[f"{base}:serving"], args=[held.ticket, alive, self.keep_ms]):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
            if along and int(entered) < 0:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for stage in along:
                        stage(pipe)
                    held.peeked = await pipe.execute()
            yield held
        except BaseException:
            held.released = False  # whatever was queued may not have run: release for sure
            raise
        finally:
            await keeper.stop()
            if not held.released:
                await self._done(keys=[f"{base}:serving"], args=[held.ticket, alive, self.keep_ms])

    async def commit(self, held: Held, stages: Sequence[Callable[[Any], None]]) -> list[Any]:
        """Run what ``stages`` queue on a pipeline (the session, the log, the counters…) and let the
        person's next message in, all in one script call; → what each queued command answered.
        The pipeline only collects the commands, so that each store keeps staging its own writes;
        their keys are declared to Redis, as scripts must."""
        writes = _Staged(self.redis, stages)
        base = f"q:{{{user_key(held.user)}}}"
        args = [held.ticket, f"{base}:alive:", self.keep_ms, *writes.words]
        # NOSCRIPT comes before anything ran: the script object loads the script and calls again
        answered = writes.answers(await self._commit(keys=[f"{base}:serving", *writes.keys], args=args))
        held.released = True
        _raise_first(answered)
        return answered


class _AliveKeeper:
    """Refreshes a held ticket's ``alive`` key every third of its life, up to the longest allowed
    hold (a hung handler then releases the queue). A timer, not a task: nearly every turn ends
    long before the first refresh, and a task per turn was a measurable share of a turn's cost."""

    def __init__(self, redis: Redis, key: str, alive_ms: int, hold_ms: int) -> None:
        self.redis, self.key, self.alive_ms = redis, key, alive_ms
        self.loop = asyncio.get_running_loop()
        self.until = self.loop.time() + hold_ms / 1000
        self.refreshing: asyncio.Task[Any] | None = None
        self.timer: asyncio.TimerHandle | None = self.loop.call_later(alive_ms / 3000, self._due)

    def _due(self) -> None:
        self.timer = None
        if self.loop.time() >= self.until:
            return
        if self.refreshing is None or self.refreshing.done():
            self.refreshing = self.loop.create_task(self._refresh())
        self.timer = self.loop.call_later(self.alive_ms / 3000, self._due)

    async def _refresh(self) -> None:
        try:
            await self.redis.set(self.key, 1, px=self.alive_ms)
        except Exception as exc:  # Redis away for a moment: the next refresh tries again
            log.warning("could not refresh a queue ticket: %s", type(exc).__name__)

    async def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.refreshing is not None and not self.refreshing.done():
            self.refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.refreshing


class SessionStore:
    def __init__(self, redis: Redis, vault: Vault, ttl_seconds: float) -> None:
        self.redis = redis
        self.vault = vault
        self.ttl = int(ttl_seconds)

    def _key(self, user: str) -> str:
        return f"sess:{user_key(user)}"

    async def load(self, user: str, channel: str) -> Session:
        return self._session(await self.redis.get(self._key(user)), user, channel)

    def _session(self, raw: Any, user: str, channel: str) -> Session:
        if raw is None:
            return Session(user=user, channel=channel)
        return Session.model_validate_json(self.vault.decrypt(raw.decode() if isinstance(raw, bytes) else raw))

    async def save(self, session: Session) -> None:
        """Store the session outside a turn (a turn stages it: ``stage_save``)."""
        await self.redis.set(self._key(session.user), self.vault.encrypt(session.model_dump_json()), ex=self.ttl)

    def stage_save(self, pipe: Any, session: Session) -> None:
        """Store the session from a pipeline the caller runs (a turn's commit, ``UserQueue.commit``)."""
        pipe.set(self._key(session.user), self.vault.encrypt(session.model_dump_json()), ex=self.ttl)

    def stage_load(self, pipe: Any, user: str) -> None:
        """Read the session on a pipeline the caller runs; hand the result to ``parse``."""
        pipe.get(self._key(user))

    def parse(self, raw: Any, user: str, channel: str) -> Session:
        return self._session(raw, user, channel)

    async def forget(self, user: str) -> None:
        await self.redis.delete(self._key(user))
