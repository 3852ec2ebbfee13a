"""Text normalisation that keeps every character's position.

Entity offsets must point into the text the citizen sent, so each step maps
one character to one character: full-width forms to half-width, and runs of
spoken digits (voice transcripts read ID and phone numbers digit by digit:
“幺三八…”, “二一零一…”, “一九五零年”) to Arabic digits.
"""

from __future__ import annotations

import re
import unicodedata

SPOKEN_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "洞": "0",
    "一": "1", "幺": "1", "壹": "1",
    "二": "2", "两": "2", "贰": "2",
    "三": "3", "叁": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6",
    "七": "7", "拐": "7", "柒": "7",
    "八": "8", "捌": "8",
    "九": "9", "勾": "9", "玖": "9",
}  # fmt: skip

# A run this long of digit characters (spoken or written, mixed) is a number
# read out digit by digit, never words: “一九五零”, “幺三八四零零…”.
_MIN_RUN = 4
_RUN = re.compile(f"[0-9{''.join(SPOKEN_DIGITS)}]{{{_MIN_RUN},}}")


def _half_width(ch: str) -> str:
    if ch == "\u3000":
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def normalize(text: str) -> str:
    """Same length as ``text``; positions carry over unchanged."""
    half = "".join(_half_width(c) for c in text)

    # Short runs (一件事, 两个孩子, 三月) stay words; dates and amounts in words
    # are read by the entity extractors themselves.
    return _RUN.sub(lambda m: "".join(SPOKEN_DIGITS.get(c, c) for c in m.group(0)), half)
