"""The one-things' own words (their name, keywords and the names of their items), found in a
message, a typo of one character forgiven (居著证, 退五, 湿业金): which one-thing a message names,
without any training, so that a guide edited in the console is understood at once."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from pypinyin import lazy_pinyin

from bot.catalog.models import OneThing

_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
SOUND = 0.85  # a word heard in the text (a homophone, pinyin) weighs this much of the word itself
SOUND_SHORT = 0.6  # …and a two-character one this much
SOUND_SURE = 5  # characters from which a word heard is as sure as one read (网巴消防检查)
_HAN = re.compile(r"[\u4e00-\u9fff]+")
KEY = 3  # letters a word's sound is looked up by
APART = "…"  # in a keyword: its two parts may be said apart
GAP = 8  # characters at most between them
MIN_FUZZY = 3  # shorter words are matched exactly only: one wrong character of two is another word


class ThingWords:
    def __init__(self, things: Iterable[OneThing]) -> None:
        owners: dict[str, set[str]] = defaultdict(set)
        for t in things:
            for word in (t.name, *t.keywords, *(i.name for i in t.items)):
                for w in {word, _BRACKETS.sub("", word)}:
                    if len(w) >= 2:
                        owners[w].add(t.id)
        # a word of several one-things says less of each
        self.words = sorted(((w, frozenset(ids)) for w, ids in owners.items()), key=lambda p: -len(p[0]))
        # “老伴…走了”: words said apart (“老伴上礼拜在家走了”), a few characters between them
        self.apart = [(re.compile(f"{re.escape(a)}.{{0,{GAP}}}{re.escape(b)}"), len(a) + len(b), ids)
                      for w, ids in self.words if w.count(APART) == 1 for a, b in [w.split(APART)]]  # fmt: skip
        self.words = [(w, ids) for w, ids in self.words if APART not in w]
        # how each word sounds: “推修” and “tuiyi” name 退休 and 退役 as surely as a typo does
        self.sounds: dict[str, list[tuple[str, int, frozenset[str]]]] = defaultdict(list)  # by first letters
        for w, ids in self.words:
            if _HAN.fullmatch(w):
                sound = "".join(lazy_pinyin(w))
                self.sounds[sound[:KEY]].append((sound, len(w), ids))

    def named_in(self, text: str, strict: bool = False) -> list[tuple[str, float]]:
        """One-things the text names, with a weight (longer, unshared words weigh more; a word with a
        typo less), best first. ``strict``: only words said as written or heard whole (no word with
        a character off, no two-character word by its sound), for a message about something else
        (a person, a complaint) that may still name a one-thing."""
        weights: dict[str, float] = {}
        for pattern, length, ids in self.apart:
            if pattern.search(text):
                for thing_id in ids:
                    weights[thing_id] = max(weights.get(thing_id, 0.0), _weight(length) / len(ids))
        spoken, starts, ends = _sounds_of(text)
        for at in sorted(starts):
            for sound, length, ids in self.sounds.get(spoken[at : at + KEY], ()):
                if not (spoken.startswith(sound, at) and at + len(sound) in ends) or (strict and length < 3):
                    continue
                # a two-character word by its sound alone may be another word (事业/失业)
                weight = (1.0 if length >= SOUND_SURE else SOUND if length > 2 else SOUND_SHORT) * _weight(length)
                weight /= len(ids)
                for thing_id in ids:
                    weights[thing_id] = max(weights.get(thing_id, 0.0), weight)
        for word, ids in self.words:
            if word in text:
                weight = _weight(len(word)) / len(ids)
            elif len(word) >= MIN_FUZZY and not strict and _near(word, text):
                weight = 0.8 * _weight(len(word)) / len(ids)
            else:
                continue
            for thing_id in ids:
                weights[thing_id] = max(weights.get(thing_id, 0.0), weight)
        return sorted(weights.items(), key=lambda kv: -kv[1])


def _sounds_of(text: str) -> tuple[str, set[int], set[int]]:
    """The text as pinyin without tones (Latin letters as typed, lower case), and where its
    syllables (or typed runs) begin and end: a word must match whole syllables."""
    spoken, starts, ends = "", set(), set()
    for part in lazy_pinyin(text.lower(), errors=lambda s: list(s)):
        if not part.isascii() or not part.isalpha():
            continue
        starts.add(len(spoken))
        spoken += part
        ends.add(len(spoken))
    return spoken, starts, ends


def _weight(length: int) -> float:
    return min(0.95, 0.45 + 0.15 * length) + 0.002 * length  # of two sure words, the longer


def _near(word: str, text: str) -> bool:
    """``word`` in ``text`` with exactly one character different (same length)."""
    n = len(word)
    for start in range(len(text) - n + 1):
        window = text[start : start + n]
        if window[0] != word[0] and window[-1] != word[-1]:
            continue  # one difference at most: the first or the last character must agree
        if sum(a != b for a, b in zip(window, word, strict=True)) == 1:
            return True
    return False
