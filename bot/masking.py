"""Personal data out of text that is stored or shown to staff: ID numbers,
mobile numbers, bank-card-like digit runs and names said as 我叫/姓名.

Kept: the first six digits of an ID number (the region) and the last four
of any number, so an agent can still match a case the citizen reads out.
"""

from __future__ import annotations

import logging
import re

from bot.nlu.entities import extract
from bot.nlu.normalize import normalize

_LONG_DIGITS = re.compile(r"\d{7,}")
# numbers written in groups, as people copy them off a card: 2101 0219 5511 1145 61, 139-9876-1234
_GROUPED = re.compile(r"(?<![\d])\d+(?:[ \-–—]\d+)+[Xx]?(?![\dA-Za-z])")
_MOBILE = re.compile(r"1[3-9]\d{9}")


def _mask(value: str, keep_head: int, keep_tail: int) -> str:
    hidden = len(value) - keep_head - keep_tail
    return (
        value[:keep_head] + "*" * max(hidden, 0) + value[len(value) - keep_tail :] if hidden > 0 else "*" * len(value)
    )


def mask_text(text: str) -> str:
    """The same text with personal data starred out (offsets keep their length)."""
    chars = list(text)
    normal = normalize(text)  # length-preserving: spans index the original too
    for span in extract(normal):
        start, end = span["start"], span["end"]
        piece = text[start:end]
        if span["entity"] == "id_card":
            masked = _mask(piece, 6, 4)
        elif span["entity"] == "phone":
            masked = _mask(piece, 3, 4)
        elif span["entity"] == "person_name":
            masked = piece[:1] + "*" * (len(piece) - 1)
        else:
            continue
        chars[start:end] = masked
    # digit runs no extractor claimed (bank cards, old ID numbers), also when
    # spoken (二一零一…): found in the normalised text, starred in the original
    for m in _LONG_DIGITS.finditer(normal):
        if "*" not in chars[m.start() : m.end()]:
            chars[m.start() : m.end() - 4] = "*" * (m.end() - 4 - m.start())
    _star_grouped(normal, chars)
    return "".join(chars)


def _star_grouped(text: str, chars: list[str]) -> None:
    """Grouped numbers in ``text`` starred in ``chars`` (the same positions), separators kept: an ID
    number keeps its region and last four, a mobile its first three and last four, a card its last
    four. Other groups (dates, times, amounts) are left alone."""
    for m in _GROUPED.finditer(text):
        at = [m.start() + i for i, c in enumerate(m.group()) if c.isdigit() or c in "Xx"]
        value = "".join(text[i] for i in at)
        if len(value) == 18 and value[:17].isdigit():
            head, tail = 6, 4
        elif _MOBILE.fullmatch(value):
            head, tail = 3, 4
        elif value.isdigit() and 16 <= len(value) <= 19:
            head, tail = 0, 4
        else:
            continue
        for i in at[head : len(at) - tail]:
            chars[i] = "*"


def mask_value(kind: str, value: object) -> str:
    """One form value as staff consoles and review summaries show it."""
    text = str(value)
    if kind == "id_card":
        return _mask(text, 6, 4)
    if kind == "phone":
        return _mask(text, 3, 4)
    if kind == "name":
        return text[:1] + "*" * (len(text) - 1)
    if kind == "address":
        return text[:6] + "*" * max(len(text) - 6, 0) if len(text) > 6 else text
    return text


_LOG_ID = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_LOG_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_log_line(text: str) -> str:
    """ID and mobile numbers starred in a log line (cheap: every line passes here), grouped ones too."""
    text = _LOG_MOBILE.sub(r"\1****\2", _LOG_ID.sub(r"\1********\2", text))
    if "-" in text or " " in text:
        chars = list(text)
        _star_grouped(text, chars)
        text = "".join(chars)
    return text


class MaskingFilter(logging.Filter):
    """On a log handler: whatever a message says, ID and mobile numbers leave it starred."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_log_line(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
