"""Rule-based entity extraction with validation, on normalised text.

Each entity comes out in Rasa's shape (entity, value, start, end, extractor);
identifiers that fail their check carry ``problem`` (a code from
``bot.validators``) so the dialogue can say which check failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from bot.nlu.normalize import SPOKEN_DIGITS
from bot.validators import id_card_problem, mobile_problem, uscc_problem

EXTRACTOR = "EmbeddedEntityExtractor"

_NUM = "0-9零〇一二两三四五六七八九十"
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_USCC = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{18}(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
_APP_NO = re.compile(r"(?<![0-9A-Za-z])SB\d{14}(?!\d)", re.IGNORECASE)
_DATE_FULL = re.compile(
    rf"(?P<y>\d{{4}}|[{_NUM}]{{4}})\s*年\s*(?P<m>[{_NUM}]{{1,3}})\s*月\s*(?P<d>[{_NUM}]{{1,3}})\s*[日号]?"
)
_DATE_ISO = re.compile(r"(?<!\d)(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)")
_DATE_MD = re.compile(rf"(?<![年\d])(?P<m>[{_NUM}]{{1,3}})\s*月\s*(?P<d>[{_NUM}]{{1,3}})\s*[日号]")
_DATE_REL = re.compile(r"大前天|前天|昨天|今天|明天|后天|大后天")
_WEEKDAY = re.compile(r"(?P<w>上上|上|这|本|下下|下)?(?:个)?(?:周|星期|礼拜)(?P<d>[一二三四五六日天1-7])")
_YEAR_REL = re.compile(r"前年|去年|今年|明年")
# “今年10月5号”, “上个月20号”: a day in a year or month said relative to today
_DATE_REL_YEAR = re.compile(
    rf"(?P<r>前年|去年|今年|明年)\s*(?P<m>[{_NUM}]{{1,3}})\s*月(?:份)?\s*(?:(?P<d>[{_NUM}]{{1,3}})\s*[日号])?"
)
_DATE_REL_MONTH = re.compile(rf"(?P<r>上上个?|上个?|这个?|本|下个?)月\s*(?P<d>[{_NUM}]{{1,3}})\s*[日号]")
# “1978年9月”, “86年7月”: a month (the day not said)
_MONTH = re.compile(
    rf"(?<!\d)(?P<y>\d{{4}}|\d{{2}}|[{_NUM}]{{4}})\s*年\s*(?P<m>[{_NUM}]{{1,3}})\s*月(?!\s*[{_NUM}]{{1,3}}\s*[日号])"
)
_YEAR = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2}|\d{2})\s*年(?![\d一二三四五六七八九十两]*\s*(?:月|多|来|了|间|内|底|限))"
)
_AMOUNT = re.compile(rf"(?P<n>\d+(?:\.\d+)?|[{_NUM}百千万亿]+)\s*(?P<u>万元|万块|万|元|块钱|块)")
_NAME = re.compile(
    r"(?:我叫|名叫|名字是|名字叫|姓名是|姓名|叫做)\s*(?P<n>[\u4e00-\u9fa5]{2,4}?)(?=[，,。.\s电手身我今住的]|$)"
)

_REL_DAYS = {"大前天": -3, "前天": -2, "昨天": -1, "今天": 0, "明天": 1, "后天": 2, "大后天": 3}
_REL_YEARS = {"前年": -2, "去年": -1, "今年": 0, "明年": 1}
_WEEK_SHIFT = {None: 0, "这": 0, "本": 0, "上": -1, "上上": -2, "下": 1, "下下": 2}
_WEEKDAY_NO = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}


def chinese_number(text: str) -> float | None:
    """'1950', '三十五', '两千五百', '一九五零', '十二' → number; None if not a number."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if all(c in SPOKEN_DIGITS for c in text):  # read digit by digit
        return float("".join(SPOKEN_DIGITS[c] for c in text))
    total, section, digit = 0.0, 0.0, None
    for c in text:
        if c in SPOKEN_DIGITS or c.isdigit():
            digit = float(SPOKEN_DIGITS.get(c, c))
        elif c in _UNITS:
            unit = _UNITS[c]
            if unit >= 10_000:
                total += (section + (digit or 0)) * unit
                section, digit = 0.0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)


@dataclass(frozen=True)
class Places:
    """Liaoning's cities and districts, with their variants (from nlu_data)."""

    cities: dict[str, str]  # surface form -> canonical
    districts: dict[str, str]

    @classmethod
    def from_data(cls, lookups: dict[str, list[str]], synonyms: dict[str, str]) -> Places:
        def table(name: str) -> dict[str, str]:
            out = {v: synonyms.get(v, v) for v in lookups.get(name, [])}
            canon = set(out.values())
            out.update({k: v for k, v in synonyms.items() if v in canon})
            return out

        return cls(cities=table("city"), districts=table("district"))

    @cached_property
    def longest_first(self) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
        """(entity, (surface, canonical)…) with longer surfaces first, as ``extract`` tries them:
        sorted once, not on every message."""
        return tuple(
            (entity, tuple((surface, table[surface]) for surface in sorted(table, key=len, reverse=True)))
            for entity, table in (("district", self.districts), ("city", self.cities))
        )


def _span(entity: str, value: Any, start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {"entity": entity, "start": start, "end": end, "value": value, "extractor": EXTRACTOR, **extra}


def _full_year(said: str, today: date) -> int | None:
    """“1978”, “一九七八”, and “86” (1986: a two-digit year past this one is last century's)."""
    y = chinese_number(said)
    if y is None:
        return None
    if len(said) == 2:
        y += 2000 if y <= today.year % 100 else 1900
    return int(y) if 1900 <= y <= today.year + 5 else None


def _date_value(y: float | None, m: float | None, d: float | None) -> str | None:
    try:
        return date(int(y), int(m), int(d)).isoformat() if y and m and d else None
    except ValueError:
        return None


def extract(text: str, places: Places | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """Entities of normalised ``text`` (see ``bot.nlu.normalize``), left to right, no overlaps."""
    today = today or date.today()
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def add(span: dict[str, Any]) -> None:
        if free(span["start"], span["end"]):
            found.append(span)
            taken.append((span["start"], span["end"]))

    for m in _APP_NO.finditer(text):
        add(_span("application_no", m.group(0).upper(), m.start(), m.end()))
    for m in _ID.finditer(text):
        v = m.group(0).upper()
        if id_card_problem(v, today) and not uscc_problem(v):
            continue  # a valid credit code made of digits: the USCC pass takes it
        problem = id_card_problem(v, today)
        add(_span("id_card", v, m.start(), m.end(), **({"problem": problem} if problem else {})))
    for m in _USCC.finditer(text):
        v = m.group(0).upper()
        if not any(c.isalpha() for c in v) and uscc_problem(v):
            continue  # all digits and not a credit code: an ID number, handled above
        problem = uscc_problem(v)
        add(_span("uscc", v, m.start(), m.end(), **({"problem": problem} if problem else {})))
    for m in _PHONE.finditer(text):
        problem = mobile_problem(m.group(0))
        add(_span("phone", m.group(0), m.start(), m.end(), **({"problem": problem} if problem else {})))

    for rx in (_DATE_FULL, _DATE_ISO):
        for m in rx.finditer(text):
            value = _date_value(*(chinese_number(m.group(k)) for k in "ymd"))
            if value:
                add(_span("date", value, m.start(), m.end()))
    for m in _DATE_REL_YEAR.finditer(text):
        y, month = today.year + _REL_YEARS[m.group("r")], chinese_number(m.group("m"))
        if m.group("d"):
            value = _date_value(y, month, chinese_number(m.group("d")))
            if value:
                add(_span("date", value, m.start(), m.end()))
        elif month and 1 <= month <= 12:
            add(_span("date", f"{y}-{int(month):02d}", m.start(), m.end(), grain="month"))
    for m in _DATE_REL_MONTH.finditer(text):
        shift = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1}[m.group("r").rstrip("个")]
        n = today.year * 12 + today.month - 1 + shift
        value = _date_value(n // 12, n % 12 + 1, chinese_number(m.group("d")))
        if value:
            add(_span("date", value, m.start(), m.end()))
    for m in _DATE_MD.finditer(text):
        value = _date_value(today.year, chinese_number(m.group("m")), chinese_number(m.group("d")))
        if value:
            add(_span("date", value, m.start(), m.end()))
    for m in _DATE_REL.finditer(text):
        add(_span("date", (today + timedelta(days=_REL_DAYS[m.group(0)])).isoformat(), m.start(), m.end()))
    for m in _WEEKDAY.finditer(text):
        day = m.group("d")
        weekday = int(day) - 1 if day.isdigit() else _WEEKDAY_NO[day]
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=_WEEK_SHIFT[m.group("w")])
        add(_span("date", (monday + timedelta(days=weekday)).isoformat(), m.start(), m.end()))
    for m in _MONTH.finditer(text):
        y, month = _full_year(m.group("y"), today), chinese_number(m.group("m"))
        if y and month and 1 <= month <= 12:
            add(_span("date", f"{y}-{int(month):02d}", m.start(), m.end(), grain="month"))
    for m in _YEAR.finditer(text):
        y = _full_year(m.group("y"), today)
        if y:
            add(_span("date", str(y), m.start(), m.end(), grain="year"))
    for m in _YEAR_REL.finditer(text):
        add(_span("date", str(today.year + _REL_YEARS[m.group(0)]), m.start(), m.end(), grain="year"))

    for m in _AMOUNT.finditer(text):
        n = chinese_number(m.group("n"))
        if n is None:
            continue
        if m.group("u").startswith("万"):
            n *= 10_000
        add(_span("amount", f"{n:.2f}", m.start(), m.end()))

    if places:
        for entity, surfaces in places.longest_first:
            for surface, canonical in surfaces:
                if surface not in text:  # most are absent: a substring test, not a regular expression
                    continue
                for m in re.finditer(re.escape(surface), text):
                    add(_span(entity, canonical, m.start(), m.end()))
    for m in _NAME.finditer(text):
        add(_span("person_name", m.group("n"), m.start("n"), m.end("n")))
    return sorted(found, key=lambda s: s["start"])


def entity_names(spans: Iterable[dict[str, Any]]) -> set[str]:
    return {s["entity"] for s in spans}
