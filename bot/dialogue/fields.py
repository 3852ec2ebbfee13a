"""Reading one form field's value out of what the person said, with a specific
problem when it cannot be accepted. Problems are codes (``id_card.check_digit``);
their wording lives in the style's texts module."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.catalog.models import FieldType, FormField
from bot.dialogue.options import meant
from bot.nlu.entities import chinese_number, extract
from bot.nlu.normalize import normalize
from bot.validators import id_card_problem, mobile_problem, uscc_problem

YES_WORDS = ("是", "对", "有", "已", "嗯", "好", "要", "同意", "可以", "行", "确认", "yes", "ok")
NO_WORDS = ("不是", "不对", "没有", "没", "否", "不", "无", "未", "no")
_YES_EXACT = ("没问题", "没错", "没毛病", "不错")
_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,20}$")
_NAME_PREFIX = re.compile(r"^(?:我叫|我是|叫|姓名是?|名字是?|他叫|她叫|孩子叫|就叫)[:：]?")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ATTACHMENT_TEXT = re.compile(r"\.(?:jpe?g|png|pdf|heic)$|^(?:已上传|上传了|\[图片\])", re.IGNORECASE)


@dataclass
class Parsed:
    value: Any = None
    problem: str | None = None  # code, see texts PROBLEM
    params: dict[str, Any] = field(default_factory=dict)
    flag: str | None = None  # accepted, but the officer must check it

    @property
    def ok(self) -> bool:
        return self.problem is None


def yes_no(text: str) -> bool | None:
    t = normalize(text).strip().lower().rstrip("。！!.，, ")
    if not t:
        return None
    if t in _YES_EXACT or t == "1":
        return True
    if t in ("2",):
        return False
    if any(t.startswith(w) for w in NO_WORDS):
        return False
    if any(t.startswith(w) for w in YES_WORDS):
        return True
    return None


_NEGATED_QUESTION = re.compile(r"没有|没在|没欠|未|不在|不是在|无")  # “…没有欠别人的钱吗？”
_ECHOES_NO = ("没有", "没", "未", "无", "不欠", "不在")
_ECHOES_YES = ("有", "欠", "在")


def yes_to(question: str, text: str) -> bool | None:
    """A yes or no to ``question``, read against its wording: to “您没有在处罚期间，对吗？” or
    “企业没有欠债吗？”, “没有” agrees (yes, the condition holds) and “有” disagrees."""
    said = yes_no(text)
    t = normalize(text).strip()
    if _NEGATED_QUESTION.search(question) and not t.startswith(("不是", "不对", "对", "是")):
        if t.startswith(_ECHOES_NO):
            return True
        if t.startswith(_ECHOES_YES):
            return False
    return said


def pick_option(text: str, options: list[str]) -> str | None:
    """An option by its number, its text, or a text containing it (or contained in it)."""
    t = normalize(text).strip().rstrip("。！!.")
    if t.isdigit() and 1 <= int(t) <= len(options):
        return options[int(t) - 1]
    forms = {o: normalize(o) for o in options}  # full-width brackets in options, half-width in speech
    for o, n in forms.items():
        if t == n:
            return o
    around = [o for o, n in forms.items() if t and t in n]
    if len(around) == 1:
        return around[0]
    # an option inside a longer answer (“随母亲吧”), unless the answer negates it (“不同意”)
    inside = [o for o, n in forms.items() if n in t and not _negated(t, n)]
    if len(inside) == 1:
        return inside[0]
    return meant(t, options)  # in the person's own words (“我是他爸”, “租的房子”)


def _negated(text: str, option: str) -> bool:
    at = text.find(option)
    return at > 0 and text[at - 1] in "不没别无非" and not option.startswith(("不", "没"))


def _digits_like(text: str) -> str:
    return re.sub(r"[\s\-]", "", normalize(text)).upper()


def parse_value(f: FormField, text: str, today: date | None = None, metadata: dict[str, Any] | None = None) -> Parsed:
    today = today or date.today()
    raw = text.strip()
    t = FieldType(f.type)
    if t is FieldType.attachment:
        files = (metadata or {}).get("attachments") or []
        if files:
            return Parsed(value=str(files[0]))
        if _ATTACHMENT_TEXT.search(raw):
            return Parsed(value=raw)
        return Parsed(problem="attachment.missing", params={"label": f.label})
    if not raw:
        return Parsed(problem="text.empty")
    if t is FieldType.id_card:
        spans = [s for s in extract(normalize(raw), today=today) if s["entity"] == "id_card"]
        if spans:
            s = spans[0]
            return Parsed(problem=f"id_card.{s['problem']}") if "problem" in s else Parsed(value=s["value"])
        v = _digits_like(raw)
        token = max(re.findall(r"[0-9X]+", v), key=len, default="")
        candidate = token if len(token) >= 15 else v
        problem = id_card_problem(candidate, today) or "length"
        return Parsed(problem=f"id_card.{problem}", params={"length": len(candidate)})
    if t is FieldType.phone:
        v = _digits_like(raw)
        found = re.search(r"(?<!\d)1\d{10}(?!\d)", v)
        if found and not mobile_problem(found.group(0)):
            return Parsed(value=found.group(0))
        return Parsed(problem="phone.format")
    if t is FieldType.uscc:
        v = _digits_like(raw)
        token = max(re.findall(r"[0-9A-Z]+", v), key=len, default="")
        problem = uscc_problem(token)
        if problem == "check_char":
            return Parsed(value=token, flag="uscc.check_char")
        return Parsed(problem=f"uscc.{problem}") if problem else Parsed(value=token)
    if t is FieldType.date:
        spans = [s for s in extract(normalize(raw), today=today) if s["entity"] == "date" and "grain" not in s]
        if not spans:
            return Parsed(problem="date.format")
        value = date.fromisoformat(spans[0]["value"])
        if f.not_future and value > today:
            return Parsed(problem="date.future")
        if f.not_past and value < today:
            return Parsed(problem="date.past")
        return Parsed(value=value.isoformat())
    if t is FieldType.enum:
        chosen = pick_option(raw, list(f.options or []))
        if chosen is None:
            return Parsed(problem="enum.option", params={"options": "、".join(f.options or [])})
        return Parsed(value=chosen)
    if t is FieldType.boolean:
        answer = yes_no(raw)
        return Parsed(problem="boolean.format") if answer is None else Parsed(value=answer)
    if t in (FieldType.integer, FieldType.amount):
        return _number(f, raw)
    if t is FieldType.name:
        v = _NAME_PREFIX.sub("", raw).strip().rstrip("。")
        limit = f.max_length or 20
        if not _NAME.match(v) or len(v) > limit:
            return Parsed(problem="name.format")
        return Parsed(value=v)
    if t is FieldType.address and len(raw) < 6:
        return Parsed(problem="address.short")
    limit = f.max_length or 200
    if len(raw) > limit:
        return Parsed(problem="text.too_long", params={"max": limit})
    return Parsed(value=raw)


def _number(f: FormField, raw: str) -> Parsed:
    t = normalize(raw)
    found = _NUMBER.search(t.replace(",", ""))
    n: float | None = float(found.group(0)) if found else None
    if n is None:
        n = chinese_number(re.sub(r"[元块钱个月年岁人平米方]", "", t))
    if n is not None and "万" in t and n < 10_000:
        n *= 10_000
    code = "integer.format" if f.type is FieldType.integer else "amount.format"
    if n is None or (f.type is FieldType.integer and n != int(n)):
        return Parsed(problem=code, params={"example": f.example})
    if f.min is not None and n < f.min:
        return Parsed(problem="number.min", params={"min": f.min})
    if f.max is not None and n > f.max:
        return Parsed(problem="number.max", params={"max": f.max})
    return Parsed(value=int(n) if f.type is FieldType.integer else round(n, 2))


# Entities a message may carry for fields other than the one asked.
ENTITY_FOR_TYPE = {FieldType.id_card: "id_card", FieldType.phone: "phone", FieldType.uscc: "uscc"}


def extra_values(text: str, fields: list[FormField], today: date | None = None) -> dict[str, Any]:
    """Several fields in one message (“我叫张三，电话138…”): valid ID numbers, phones,
    credit codes and a name after 我叫, each into the first open field of its type."""
    spans = extract(normalize(text), today=today)
    out: dict[str, Any] = {}
    for s in spans:
        if "problem" in s:
            continue
        for f in fields:
            if f.id in out:
                continue
            if ENTITY_FOR_TYPE.get(FieldType(f.type)) == s["entity"] or (
                s["entity"] == "person_name" and f.type is FieldType.name
            ):
                out[f.id] = s["value"]
                break
    return out
