"""What the applications side needs from the unified platform, stated in
bot/ terms; ``integrations/platform.py`` implements it over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class PlatformUnavailable(Exception):
    """Down, slow, or answered something unusable: try again later."""


class PlatformRefused(Exception):
    """The request itself was refused (4xx): retrying cannot help, staff must look."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class Submitted:
    number: str  # 申办编号
    items: list[dict[str, Any]]  # [{"key", "accepted", "reason"?}]
    replayed: bool  # the platform had seen this idempotency key before


class Platform(Protocol):
    async def submit(self, application_id: str, payload: dict[str, Any]) -> Submitted: ...

    async def status(self, number: str) -> list[dict[str, Any]] | None: ...

    async def supplement(self, number: str, item: str, text: str, attachments: list[str]) -> None: ...
