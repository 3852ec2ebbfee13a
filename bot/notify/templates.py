"""The data of a progress notice in WeChat's template formats. WeChat limits
each value (``thing``: 20 characters, ``phrase``: 5, ``character_string``: 32),
so the full text goes where it fits and the rest points to the conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.applications.notice_text import thing_and_item
from bot.catalog import Catalog

STATUS_OF_KIND = {"accepted": "已受理", "needs_staff": "人工核对"}


def _value(text: str, limit: int) -> dict[str, str]:
    return {"value": text if len(text) <= limit else text[: limit - 1] + "…"}


def _parts(notice: dict[str, Any], catalog: Catalog) -> tuple[str, str, str]:
    name, item = thing_and_item(catalog, notice)
    status = str(notice.get("status") or STATUS_OF_KIND.get(notice["kind"], "新进展"))
    return name, item, status


def template_data(notice: dict[str, Any], catalog: Catalog, text: str, at: datetime) -> dict[str, Any]:
    """The official account's 办件进度通知 (keyword template)."""
    name, item, status = _parts(notice, catalog)
    return {
        "first": {"value": f"您的“{name}”有新进展"},
        "keyword1": {"value": f"{name}" + (f"·{item}" if item else "")},
        "keyword2": {"value": str(notice.get("number") or "")},
        "keyword3": {"value": status},
        "keyword4": {"value": at.strftime("%Y-%m-%d %H:%M")},
        "remark": {"value": text},
    }


def subscribe_data(notice: dict[str, Any], catalog: Catalog, at: datetime) -> dict[str, Any]:
    """The mini-program's 办理进度提醒 (subscribe message: short fields only)."""
    name, item, status = _parts(notice, catalog)
    return {
        "thing1": _value(item or name, 20),
        "character_string2": _value(str(notice.get("number") or "-"), 32),
        "phrase3": _value(status, 5),
        "time4": {"value": at.strftime("%Y-%m-%d %H:%M")},
        "thing5": _value("点开查看详情和下一步", 20),
    }
