"""What reading an answer gave: its value, or the problem the person is told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Parsed:
    value: Any = None
    problem: str | None = None  # code, see texts PROBLEM
    params: dict[str, Any] = field(default_factory=dict)
    flag: str | None = None  # accepted, but the officer must check it

    @property
    def ok(self) -> bool:
        return self.problem is None
