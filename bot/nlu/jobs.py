"""Retraining as a background job: one at a time across every process, its
progress (stage, percent) in Redis so that any serve process can answer the
console's polls. Knows nothing of HTTP.

Keys: ``nlu:training:lock`` (the running job's id; expires when its process
stops beating), ``nlu:training:job:<id>`` (the job as JSON, kept a week) and
``nlu:training:latest`` (the last job started). Every call is a short
command: the Redis client's 5 s socket timeout never bites.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.nlu.training import NluTrainer
from bot.texts import staff as tx

log = logging.getLogger(__name__)

LOCK = "nlu:training:lock"
LATEST = "nlu:training:latest"
JOB = "nlu:training:job:{}"
LOCK_SECONDS = 60  # a process that died mid-training frees the lock this long after its last beat
BEAT_SECONDS = 10
KEEP_SECONDS = 7 * 86400
STOP_WAIT_SECONDS = 20  # at shutdown: how long to wait for a fold to finish before giving up on it

# Extend / release the lock only while it still names this job (never someone else's).
_EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class TrainingBusy(Exception):
    """Another training is running (in this process or another); ``job`` is that one."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(job.get("id", ""))
        self.job = job


class TrainingStopped(Exception):
    """The service is stopping: the training thread gives up at its next progress report."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class TrainingJobs:
    def __init__(self, redis: Redis, trainer: NluTrainer) -> None:
        self.redis = redis
        self.trainer = trainer
        self._tasks: set[asyncio.Task[dict[str, Any]]] = set()
        self._stopping = threading.Event()  # read by the training thread
        self._extend = redis.register_script(_EXTEND)
        self._release = redis.register_script(_RELEASE)

    async def start(self, actor: str) -> tuple[dict[str, Any], asyncio.Task[dict[str, Any]]]:
        """Start a retraining now; TrainingBusy while one runs. → (job, its task: the retrain result)."""
        job_id = secrets.token_hex(8)
        if not await self.redis.set(LOCK, job_id, nx=True, ex=LOCK_SECONDS):
            raise TrainingBusy(await self.running() or {"id": "", "status": "running", "stage": "preparing"})
        now = _now()
        job: dict[str, Any] = {
            "id": job_id,
            "status": "running",
            "stage": "preparing",
            "percent": 0,
            "detail": {},
            "actor": actor,
            "started_at": now,
            "updated_at": now,
            "finished_at": None,
            "version": None,
            "result": None,
            "error": None,
            "message": None,
        }
        await self._write(job)
        await self.redis.set(LATEST, job_id, ex=KEEP_SECONDS)
        task = asyncio.create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return job, task

    def _done(self, task: asyncio.Task[dict[str, Any]]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # seen (and logged by _reason) even when nobody waited for the job

    async def get(self, job_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(JOB.format(job_id))
        if raw is None:
            return None
        job: dict[str, Any] = json.loads(raw)
        if job["status"] == "running" and await self.redis.get(LOCK) != job_id:
            # Its process stopped without a word (a finished job is written before the lock goes).
            job.update(status="failed", error="interrupted", message=tx.NLU_TRAINING_INTERRUPTED)
        return job

    async def latest(self) -> dict[str, Any] | None:
        job_id = await self.redis.get(LATEST)
        return await self.get(job_id) if job_id else None

    async def running(self) -> dict[str, Any] | None:
        job_id = await self.redis.get(LOCK)
        if not job_id:
            return None
        # Between taking the lock and writing the job, another process sees only the id.
        return await self.get(job_id) or {"id": job_id, "status": "running", "stage": "preparing", "percent": 0}

    async def close(self) -> None:
        """At shutdown: the thread stops at its next report, the job is marked failed, the lock freed."""
        self._stopping.set()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=STOP_WAIT_SECONDS)

    async def _write(self, job: dict[str, Any]) -> None:
        await self.redis.set(JOB.format(job["id"]), json.dumps(job, ensure_ascii=False), ex=KEEP_SECONDS)

    async def _run(self, job: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def note(stage: str, percent: float, detail: dict[str, Any]) -> None:  # on the loop
            job.update(stage=stage, percent=max(job["percent"], round(percent)), detail=detail, updated_at=_now())
            changed.set()

        def progress(stage: str, percent: float, detail: dict[str, Any]) -> None:  # any thread
            if self._stopping.is_set():
                raise TrainingStopped()
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody to tell
                loop.call_soon_threadsafe(note, stage, percent, dict(detail))

        async def publish() -> None:
            """Write each change of progress, and beat the lock meanwhile."""
            while True:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), BEAT_SECONDS)
                changed.clear()
                try:
                    await self._write(job)
                    await self._extend(keys=[LOCK], args=[job["id"], LOCK_SECONDS])
                except RedisError as exc:  # progress is best effort; training goes on
                    log.warning("could not record NLU training progress: %s", exc)

        publisher = asyncio.create_task(publish())
        try:
            result = await self.trainer.retrain(job["actor"], progress)
        except BaseException as exc:
            job.update(status="failed", **_failure(exc))
            raise
        else:
            job.update(
                status="done",
                stage="done",
                percent=100,
                detail={},
                version=result["version"],
                result={k: result[k] for k in ("version", "evaluation", "accuracy_change")},
            )
            return result
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
            job.update(finished_at=_now(), updated_at=_now())
            try:
                await self._write(job)  # before the lock goes: a job without its lock reads as interrupted
                await self._release(keys=[LOCK], args=[job["id"]])
            except RedisError as exc:
                log.warning("could not record the end of NLU training %s: %s", job["id"], exc)


def _failure(exc: BaseException) -> dict[str, str]:
    """What the job says about why it failed (``error``: a code; ``message``: for the admin)."""
    if isinstance(exc, TrainingStopped | asyncio.CancelledError):
        return {"error": "interrupted", "message": tx.NLU_TRAINING_INTERRUPTED}
    if isinstance(exc, ValueError):  # the trainer's words, e.g. an intent with too few examples
        return {"error": "invalid", "message": tx.NLU_TRAINING_INVALID.format(reason=exc)}
    log.error("NLU training failed", exc_info=exc)
    return {"error": "error", "message": tx.NLU_TRAINING_ERROR}
