"""The NLU as the rest of the app sees it: ``await nlu.parse(text)``.

With ``NLU_BACKEND=rasa`` the Rasa service answers; when it is down or slow
the embedded engine answers instead (logged), so a citizen never waits on
a dead dependency. Either way the result has Rasa's /model/parse shape, and
``ambiguous`` is set the same way for both back ends.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.nlu.engine import FALLBACK, EmbeddedNLU

OUT_OF_SCOPE = "out_of_scope"

log = logging.getLogger(__name__)


class RemoteNluUnavailable(Exception):
    """The NLU service (Rasa) is down, slow or answered nonsense."""


class RemoteNlu(Protocol):
    """``integrations/rasa.py``'s client, as the service needs it."""

    async def parse(self, text: str) -> dict[str, Any]: ...

    async def close(self) -> None: ...


def mark_ambiguity(result: dict[str, Any], threshold: float) -> dict[str, Any]:
    """Flag the two best intents when they are too close to choose between."""
    ranking = [r for r in result.get("intent_ranking", []) if r["name"] != FALLBACK]
    if len(ranking) > 1 and ranking[0]["confidence"] - ranking[1]["confidence"] < threshold:
        result["ambiguous"] = [ranking[0]["name"], ranking[1]["name"]]
    else:
        result.pop("ambiguous", None)
    return result


OnFallback = Callable[[str, str], Awaitable[None]]  # (channel, text) -> None


class NluService:
    def __init__(
        self,
        embedded: EmbeddedNLU | None,
        rasa: RemoteNlu | None = None,
        on_fallback: OnFallback | None = None,
        version: int | None = None,
    ) -> None:
        # None in a process that never parses (the worker): a model costs seconds of CPU to train
        self.embedded = embedded
        self.rasa = rasa
        self.on_fallback = on_fallback
        self.version = version  # the admin-trained version in use; None: nlu_data/ as shipped

    def replace_model(self, embedded: EmbeddedNLU, version: int | None = None) -> None:
        """Swap in a newly activated embedded model (no restart)."""
        self.embedded = embedded
        self.version = version

    async def parse(self, text: str, channel: str = "api") -> dict[str, Any]:
        if self.embedded is None:
            raise RuntimeError("this process was built without an NLU model (understands=False)")
        threshold = self.embedded.config.ambiguity_threshold
        result: dict[str, Any] | None = None
        if self.rasa is not None:
            try:
                result = mark_ambiguity(await self.rasa.parse(text), threshold)
            except RemoteNluUnavailable as exc:
                log.warning("Rasa unavailable, the embedded engine answers: %s", exc)
        if result is None:
            result = mark_ambiguity(self.embedded.parse(text), threshold)
        if result["intent"]["name"] in (FALLBACK, OUT_OF_SCOPE) and self.on_fallback is not None:
            # the admins' 待标注 inbox: what was not understood, and what was outside what we do
            try:
                await self.on_fallback(channel, text)
            except Exception:  # recording must never cost the citizen an answer
                log.exception("could not record a fallback utterance")
        return result

    async def close(self) -> None:
        if self.rasa is not None:
            await self.rasa.close()
