"""Check digits and formats of identifiers. Each check returns None when the
value is valid, else a problem code; citizen-facing wording lives in
``bot.texts``, so the same code reads right in every channel style."""

from __future__ import annotations

import re
from datetime import date

# GB 11643-1999: 17 weighted digits, mod 11, check character from this table.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)

# GB 32100-2015: 31 characters (no I, O, Z, S, V), 17 weighted positions, mod 31.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def id_card_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_card_problem(value: str, today: date | None = None) -> str | None:
    """'length', 'chars', 'region', 'birth_date' or 'check_digit'."""
    v = value.strip().upper()
    if len(v) != 18:
        return "length"
    if not (v[:17].isdigit() and (v[17].isdigit() or v[17] == "X")):
        return "chars"
    if v[:2] not in _PROVINCES:
        return "region"
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "birth_date"
    if born > (today or date.today()) or born.year < 1890:
        return "birth_date"
    if id_card_check_char(v[:17]) != v[17]:
        return "check_digit"
    return None


def id_card_birth_date(value: str) -> date:
    v = value.strip()
    return date(int(v[6:10]), int(v[10:12]), int(v[12:14]))


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """'length', 'chars' or 'check_char'. A wrong check character is a warning
    for the caller to flag, not a refusal: early pilot codes fail it yet are legal."""
    v = value.strip().upper()
    if len(v) != 18:
        return "length"
    if any(c not in _USCC_CHARS for c in v):
        return "chars"
    if uscc_check_char(v[:17]) != v[17]:
        return "check_char"
    return None


def mobile_problem(value: str) -> str | None:
    """'format' unless an 11-digit mainland mobile number."""
    return None if _MOBILE.match(value.strip()) else "format"
