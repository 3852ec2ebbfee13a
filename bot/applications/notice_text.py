"""A notice about an application, in words: the same text in the conversation
(inbox), in a WeChat message and in an SMS. 需补正 tells what, why and by when
in one go (一次告知); 已办结 how the result reaches the person; 不予受理 why."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from bot.catalog import Catalog


def thing_and_item(catalog: Catalog, notice: dict[str, Any]) -> tuple[str, str]:
    thing = catalog.get(notice.get("thing", ""))
    name = thing.name if thing else str(notice.get("thing", ""))
    key = str(notice.get("item", ""))
    item = next((i.name for i in thing.items if i.key == key), key) if thing else key
    return name, item


def render_notice(notice: dict[str, Any], catalog: Catalog, tx: ModuleType) -> str:
    name, item = thing_and_item(catalog, notice)
    kind = notice["kind"]
    if kind == "accepted":
        return str(tx.NOTICE_ACCEPTED.format(name=name, number=notice["number"]))
    if kind == "needs_staff":
        return str(tx.NOTICE_NEEDS_STAFF.format(name=name))
    if kind == "message":
        return str(notice["text"])
    if kind == "rate_invite":
        return str(tx.NOTICE_RATE_INVITE.format(name=name, number=notice.get("number", "")))
    if kind == "work_order_opened":
        return str(tx.NOTICE_ORDER_OPENED.format(kind=notice.get("order_kind", ""), number=notice["number"]))
    if kind == "work_order":
        result = notice.get("result") or ""
        return str(tx.NOTICE_ORDER.format(number=notice["number"], status=notice["status"], result=result))
    detail = notice.get("detail") or {}
    status = notice.get("status", "")
    common = {"name": name, "number": notice.get("number", ""), "item": item}
    if status == "需补正":
        missing = "、".join(detail.get("missing") or []) or notice.get("note", "")
        return str(
            tx.NOTICE_SUPPLEMENT.format(
                **common,
                missing=missing,
                reason=detail.get("reason") or notice.get("note", ""),
                deadline=detail.get("deadline", ""),
            )
        )
    if status == "已办结":
        delivery = detail.get("delivery") or {}
        template = tx.NOTICE_DELIVERY.get(delivery.get("method", ""))
        told = template.format_map(_Blank(delivery)) if template else tx.NOTICE_DELIVERY_UNKNOWN
        return str(tx.NOTICE_DONE.format(**common, delivery=told))
    if status == "不予受理":
        return str(tx.NOTICE_REFUSED.format(**common, reason=detail.get("reason") or notice.get("note", "")))
    return str(tx.NOTICE_STATUS.format(**common, status=status, note=notice.get("note", "")))


class _Blank(dict[str, Any]):
    """A missing detail reads as blank rather than breaking the notice."""

    def __missing__(self, key: str) -> str:
        return ""
