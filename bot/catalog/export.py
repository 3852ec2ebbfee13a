"""The catalog as plain data: one JSON-ready dict per one-thing.

Each item carries its own materials (resolved from the one-thing's single set)
so that consumers need not join them.
"""

from __future__ import annotations

from typing import Any

from bot.catalog.loader import Catalog
from bot.catalog.models import OneThing


def thing_to_dict(t: OneThing) -> dict[str, Any]:
    data = t.model_dump(mode="json")
    for item in data["items"]:
        item["materials"] = [m.model_dump(mode="json") for m in t.materials_of(item["key"])]
    return data


def summary_of(t: OneThing) -> dict[str, Any]:
    """What a list of one-things shows."""
    return {
        "id": t.id,
        "seq": t.seq,
        "name": t.name,
        "category": t.category,
        "summary": t.summary,
        "lead": t.lead,
        "items": [{"key": i.key, "name": i.name, "dept": i.dept} for i in t.items],
        "version": t.version,
    }


def export_catalog(catalog: Catalog) -> list[dict[str, Any]]:
    return [thing_to_dict(t) for t in catalog]
