"""Rasa 3.x NLU training data (``version: "3.1"``): reading and writing.

``nlu_data/`` is the one source of truth for both back ends; this module reads
every YAML file there into plain Python, and writes the same format back
(admins' edits are exported to it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# [text](entity) or [text]{"entity": "x", "value": "y"}; optional (entity:value) short form too.
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class EntitySpan:
    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Example:
    text: str  # plain, annotations removed
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    raw: str = ""  # as written, with annotations


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # variant -> canonical value
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def by_intent(self) -> dict[str, list[Example]]:
        out: dict[str, list[Example]] = {}
        for e in self.examples:
            out.setdefault(e.intent, []).append(e)
        return out

    def merge(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(values)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)


def parse_example(raw: str, intent: str) -> Example:
    """Strip Rasa entity annotations, keeping their spans in the plain text."""
    plain: list[str] = []
    spans: list[EntitySpan] = []
    pos = 0
    length = 0
    for m in _ANNOTATION.finditer(raw):
        before = raw[pos : m.start()]
        plain.append(before)
        length += len(before)
        text = m.group("text")
        if m.group("json"):
            spec = json.loads(m.group("json"))
            entity, value = spec["entity"], str(spec.get("value", text))
        else:
            entity, _, value = m.group("short").partition(":")
            value = value or text
        spans.append(EntitySpan(entity=entity, value=value, start=length, end=length + len(text), text=text))
        plain.append(text)
        length += len(text)
        pos = m.end()
    plain.append(raw[pos:])
    return Example(text="".join(plain), intent=intent, entities=tuple(spans), raw=raw)


def _items(block: str) -> list[str]:
    """Rasa's ``examples: |`` block: one ``- item`` per line."""
    out = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- "):
            out.append(line[2:].strip())
        elif line == "-":
            continue
    return [x for x in out if x]


def read_file(path: Path) -> TrainingData:
    return loads(path.read_text(encoding="utf-8"), str(path))


def loads(text: str, name: str = "<text>") -> TrainingData:
    """Training data from the text of one Rasa NLU YAML document."""
    doc = yaml.safe_load(text) or {}
    data = TrainingData()
    if not isinstance(doc, dict):
        raise ValueError(f"{name}: not a Rasa NLU file")
    for block in doc.get("nlu") or []:
        examples = _items(block.get("examples", ""))
        if "intent" in block:
            data.examples.extend(parse_example(x, block["intent"]) for x in examples)
        elif "synonym" in block:
            for x in examples:
                data.synonyms[x] = str(block["synonym"])
        elif "lookup" in block:
            data.lookups.setdefault(block["lookup"], []).extend(examples)
        elif "regex" in block:
            data.regexes.setdefault(block["regex"], []).extend(examples)
    # Annotated values that differ from their text are synonyms too (as in Rasa).
    for e in data.examples:
        for s in e.entities:
            if s.value != s.text:
                data.synonyms.setdefault(s.text, s.value)
    return data


def read_dir(directory: Path) -> TrainingData:
    """Every ``*.yml`` NLU file of a folder (Rasa's config.yml excluded)."""
    data = TrainingData()
    for path in sorted(directory.glob("*.yml")):
        if path.name == "config.yml":
            continue
        data.merge(read_file(path))
    return data


def _block(key: str, name: str, items: Iterable[str]) -> dict[str, Any]:
    return {key: name, "examples": "".join(f"- {x}\n" for x in items)}


class _Literal(str):
    pass


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def dump(data: TrainingData) -> str:
    """The whole data set as one Rasa ``version: "3.1"`` YAML document."""
    blocks: list[dict[str, Any]] = []
    for intent, examples in data.by_intent().items():
        blocks.append(_block("intent", intent, (e.raw or e.text for e in examples)))
    by_canonical: dict[str, list[str]] = {}
    for variant, canonical in data.synonyms.items():
        by_canonical.setdefault(canonical, []).append(variant)
    blocks += [_block("synonym", k, v) for k, v in by_canonical.items()]
    blocks += [_block("lookup", k, v) for k, v in data.lookups.items()]
    blocks += [_block("regex", k, v) for k, v in data.regexes.items()]
    for b in blocks:
        b["examples"] = _Literal(b["examples"])
    return yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False, width=1000)
