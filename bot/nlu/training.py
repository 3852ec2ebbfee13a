"""Admins teach the NLU: retrain from the database, compare with the active
model, activate (every serve process follows, through Redis pub/sub) or roll
back. Knows nothing of HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.nlu.classifier import ClassifierConfig
from bot.nlu.data import TrainingData, loads, read_file
from bot.nlu.engine import EmbeddedNLU, NluConfig
from bot.nlu.evaluate import cross_validate, evaluate
from bot.nlu.store import NluStore, summary
from bot.redis_client import channel

log = logging.getLogger(__name__)

ACTIVATIONS = "nlu:model:activated"  # Redis channel: {"version": N}

Progress = Callable[[str, float, dict[str, Any]], None]
"""(stage, percent, detail) of a retraining; called on the event loop and in the training thread.
Stages in order: preparing, training, cross_validation, held_out, saving."""


def _quiet(stage: str, percent: float, detail: dict[str, Any]) -> None:
    pass


class ActivationRefused(Exception):
    """The candidate is worse than the active model by more than the margin."""


@dataclass
class NluTrainer:
    store: NluStore
    redis: Redis
    config: NluConfig
    shipped: TrainingData  # nlu_data/ as shipped: the seed, and the lookups/synonyms/regexes
    userdict: Path
    eval_file: Path | None
    margin: float  # allowed drop of cross-validated accuracy
    folds: int = 3

    def _train(self, data: TrainingData) -> EmbeddedNLU:
        return EmbeddedNLU.train(data, self.userdict, self.config)

    def _evaluate(self, data: TrainingData, progress: Progress = _quiet) -> dict[str, Any]:
        """Figures of the candidate (summaries, used by activation), and under ``report``
        what the console's report shows: per intent, confusions, misclassified utterances.
        Percentages follow the work: one full training ~ the cross-validation's folds."""
        held_out = self.eval_file if self.eval_file is not None and self.eval_file.exists() else None
        model = None
        if held_out is not None:
            progress("training", 5, {"examples": len(data.examples)})
            model = self._train(data)

        def fold(i: int, folds: int) -> None:
            progress("cross_validation", 30 + 55 * i / folds, {"fold": i + 1, "folds": folds})

        cv = cross_validate(data, lambda part: self._train(part).parse_many, folds=self.folds, on_fold=fold)
        result: dict[str, Any] = {"cross_validation": cv.summary(f"embedded, {self.folds}-fold")}
        report = {"cross_validation": cv.details()}
        if held_out is not None and model is not None:
            progress("held_out", 85, {"file": held_out.name})
            held = evaluate(model.parse_many, read_file(held_out).examples)
            result["held_out"] = held.summary("embedded") | {"file": held_out.name}
            report["held_out"] = held.details()
        result["report"] = report
        return result

    @property
    def min_examples(self) -> int:
        """Per intent, so that every cross-validation fold can still calibrate it."""
        calibration = (self.config.classifier or ClassifierConfig()).calibration_folds
        return math.ceil(calibration * self.folds / (self.folds - 1))

    async def check(self) -> TrainingData:
        """The data to train on; ValueError when some intent has too few examples."""
        data = await self.store.training_data(self.shipped)
        thin = sorted(i for i, examples in data.by_intent().items() if len(examples) < self.min_examples)
        if thin:
            raise ValueError(f"每个意图至少需要 {self.min_examples} 条例句，这些不够：{'、'.join(thin)}")
        return data

    async def retrain(self, actor: str, progress: Progress = _quiet) -> dict[str, Any]:
        progress("preparing", 0, {})
        data = await self.check()
        progress("preparing", 4, {"examples": len(data.examples), "intents": len(data.intents)})
        evaluation = await asyncio.to_thread(self._evaluate, data, progress)
        progress("saving", 92, {})
        version = await self.store.save_model(data, actor, evaluation)
        active = await self.store.active()
        return {
            "version": version,
            "evaluation": summary(evaluation),  # the report: GET /api/admin/nlu/models/{v}/report
            "active": active.public() if active else None,
            "accuracy_change": _accuracy(evaluation) - _accuracy(active.evaluation) if active else None,
        }

    async def activate(self, version: int, actor: str, force: bool = False) -> dict[str, Any]:
        candidate, _ = await self.store.model(version)
        active = await self.store.active()
        if active is not None and active.version != version:
            drop = _accuracy(active.evaluation) - _accuracy(candidate.evaluation)
            if drop > self.margin and not force:
                raise ActivationRefused(f"{drop:.4f}")
        await self.store.activate(version, actor, {"force": force, "previous": active.version if active else None})
        await self.redis.publish(channel(self.redis, ACTIVATIONS), json.dumps({"version": version}))
        return {"version": version, "previous": active.version if active else None}

    async def rollback(self, actor: str) -> dict[str, Any]:
        previous = await self.store.previous_active()
        if previous is None:
            raise LookupError("no earlier active version")
        return await self.activate(previous.version, actor, force=True)

    async def build(self, version: int) -> EmbeddedNLU:
        """The model of a stored version (deterministic: identical in every process)."""
        _, text = await self.store.model(version)
        return await asyncio.to_thread(self._train, loads(text, f"model {version}"))


def _accuracy(evaluation: dict[str, Any]) -> float:
    return float(evaluation.get("cross_validation", {}).get("accuracy", 0.0))


async def follow_activations(
    trainer: NluTrainer, swap: Callable[[EmbeddedNLU, int], None], stop: asyncio.Event
) -> None:
    """Run in every serve process: load each newly activated version and swap it in.
    Survives Redis restarts (resubscribes); ends soon after ``stop`` is set. (A stop
    event rather than cancellation: redis-py can swallow a cancel inside get_message.)"""
    while not stop.is_set():
        pubsub = trainer.redis.pubsub()
        try:
            await pubsub.subscribe(channel(trainer.redis, ACTIVATIONS))
            while not stop.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    await _switch(trainer, swap, message["data"])
        except (RedisError, OSError) as exc:
            log.warning("NLU activation listener lost Redis, retrying: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 2)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), 2)


async def _switch(trainer: NluTrainer, swap: Callable[[EmbeddedNLU, int], None], data: str) -> None:
    try:
        version = int(json.loads(data)["version"])
        swap(await trainer.build(version), version)
        log.info("NLU model version %s is now in use", version)
    except Exception:  # a bad message must not stop the listener
        log.exception("could not switch to the announced NLU model")
