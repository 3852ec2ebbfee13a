"""Branch conditions (``when``) against the answers given so far."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.catalog.models import Condition


def holds(cond: Condition | None, answers: Mapping[str, Any] | None) -> bool | None:
    """True or False when the answers decide it, None while a needed answer is missing."""
    if not cond:
        return True
    answers = answers or {}
    undecided = False
    for field_id, want in cond.items():
        if field_id not in answers:
            undecided = True
            continue
        allowed = want if isinstance(want, list) else [want]
        if answers[field_id] not in allowed:
            return False
    return None if undecided else True
