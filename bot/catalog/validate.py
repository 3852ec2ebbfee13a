"""Checks of a whole guide file and of the catalog against the provincial list.

Errors are reported as ``file: path: message`` so that agency staff can find
the spot (path is dotted, list positions counted from 1, e.g.
``items.2.guide.fee``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.catalog.models import (
    TOPICS_LEGAL,
    TOPICS_PERSON,
    Condition,
    FieldType,
    OneThing,
    Source,
    merge_defaults,
)
from bot.validators import id_card_problem, mobile_problem, uscc_problem


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '-'}: {self.message}"


# libyaml's parser when present: several times faster, same safe subset.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in loc)


def parse_file(path: Path) -> tuple[OneThing | None, list[Problem]]:
    """Parse and validate one guide file."""
    name = path.name
    try:
        raw = read_yaml(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [Problem(name, "", f"无法读取或不是合法的 YAML：{exc}")]
    if not isinstance(raw, dict):
        return None, [Problem(name, "", "文件内容应为键值表")]
    try:
        thing = OneThing.model_validate(merge_defaults(raw))
    except ValueError as exc:
        if not isinstance(exc, ValidationError):
            return None, [Problem(name, "defaults", str(exc))]
        return None, [Problem(name, _loc(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
    problems = [Problem(name, p, m) for p, m in check_thing(thing)]
    if path.stem != thing.id:
        problems.append(Problem(name, "id", f"文件名应为 {thing.id}.yaml"))
    return thing, problems


def check_thing(t: OneThing) -> list[tuple[str, str]]:
    """Cross-reference checks inside one one-thing: (path, message) pairs."""
    out: list[tuple[str, str]] = []
    item_pos = {i.key: n for n, i in enumerate(t.items)}
    fields = {f.id: f for f in t.form.fields}
    materials = {m.key: m for m in t.materials}

    for what, keys in (
        ("items", [i.key for i in t.items]),
        ("materials", [m.key for m in t.materials]),
        ("form.fields", [f.id for f in t.form.fields]),
        ("eligibility", [e.id for e in t.eligibility]),
    ):
        for key, n in Counter(keys).items():
            if n > 1:
                out.append((what, f"标识 {key} 重复 {n} 次"))
    for label, n in Counter(f.label for f in t.form.fields).items():
        if n > 1:
            out.append(("form.fields", f"字段“{label}”重复：同一数据在一张表里只问一次"))
    for src, n in Counter(f.prefill for f in t.form.fields if f.prefill).items():
        if n > 1:
            out.append(("form.fields", f"预填来源 {src} 对应了 {n} 个字段：同一数据只问一次"))
    for name, n in Counter(m.name for m in t.materials).items():
        if n > 1:
            out.append(("materials", f"材料“{name}”重复：一套材料里每份只收一次"))

    def check_when(path: str, cond: Condition | None) -> None:
        for fid, want in (cond or {}).items():
            f = fields.get(fid)
            if f is None:
                out.append((path, f"条件引用了不存在的字段 {fid}"))
                continue
            values = want if isinstance(want, list) else [want]
            if f.type is FieldType.enum:
                bad = [v for v in values if v not in (f.options or [])]
                if bad:
                    out.append((path, f"字段 {fid} 没有选项 {bad}"))
            elif f.type is FieldType.boolean:
                if any(not isinstance(v, bool) for v in values):
                    out.append((path, f"字段 {fid} 是是否题，条件值应为 true/false"))
            else:
                out.append((path, f"条件只能引用选择题或是否题，{fid} 是 {f.type.value}"))

    def depends_closure(key: str) -> set[str]:
        seen: set[str] = set()
        todo = list(t.item(key).depends_on) if key in item_pos else []
        while todo:
            k = todo.pop()
            if k in seen or k not in item_pos:
                continue
            seen.add(k)
            todo.extend(t.item(k).depends_on)
        return seen

    for n, item in enumerate(t.items, 1):
        p = f"items.{n}"
        g = item.guide
        for dep in item.depends_on:
            if dep not in item_pos:
                out.append((f"{p}.depends_on", f"不存在的事项 {dep}"))
            elif item_pos[dep] >= n - 1:
                out.append((f"{p}.depends_on", f"只能等待排在前面的事项，{dep} 不在 {item.key} 之前"))
        check_when(f"{p}.when", item.when)
        if g.promised_limit_days > g.legal_limit_days:
            out.append((f"{p}.guide.promised_limit_days", "承诺办结时限不能长于法定办结时限"))
        if g.handling_type == "即办件" and g.promised_limit_days != 0:
            out.append((f"{p}.guide.handling_type", "即办件当场办结，承诺办结时限应为 0"))
        if g.handling_type == "承诺件" and g.promised_limit_days == 0:
            out.append((f"{p}.guide.handling_type", "承诺件的承诺办结时限至少 1 个工作日"))
        allowed = set()
        if "自然人" in g.service_object:
            allowed |= set(TOPICS_PERSON)
        if "法人" in g.service_object:
            allowed |= set(TOPICS_LEGAL)
        for topic in g.topics:
            if topic not in allowed:
                out.append((f"{p}.guide.topics", f"事项类型“{topic}”不在规范可选值内"))
        if not t.materials_of(item.key):
            out.append((p, f"事项 {item.key} 没有任何申请材料"))

    for n, m in enumerate(t.materials, 1):
        p = f"materials.{n}"
        for k in m.items:
            if k not in item_pos:
                out.append((f"{p}.items", f"不存在的事项 {k}"))
        check_when(f"{p}.when", m.when)
        if m.source is Source.previous_item and m.from_item is not None:
            if m.from_item not in item_pos:
                out.append((f"{p}.from_item", f"不存在的事项 {m.from_item}"))
            else:
                for k in m.items:
                    if k not in item_pos:
                        continue
                    if item_pos[k] <= item_pos[m.from_item]:
                        out.append((f"{p}.from_item", f"{m.from_item} 须排在使用它的事项 {k} 之前"))
                    elif m.from_item not in depends_closure(k):
                        out.append((f"{p}.from_item", f"事项 {k} 使用 {m.from_item} 的结果，须在 depends_on 中等待它"))

    for n, f in enumerate(t.form.fields, 1):
        p = f"form.fields.{n}"
        for k in f.items:
            if k not in item_pos:
                out.append((f"{p}.items", f"不存在的事项 {k}"))
        check_when(f"{p}.when", f.when)
        if f.when and f.id in f.when:
            out.append((f"{p}.when", "字段不能以自己为条件"))
        example_problem = {
            FieldType.id_card: id_card_problem,
            FieldType.uscc: uscc_problem,
            FieldType.phone: mobile_problem,
        }.get(f.type)
        if example_problem and example_problem(f.example):
            out.append((f"{p}.example", f"示例“{f.example}”不是有效的{f.type.value}（{example_problem(f.example)}）"))
        if f.type is FieldType.enum and f.example not in (f.options or []):
            out.append((f"{p}.example", f"示例“{f.example}”不在选项中"))
        if f.material is not None:
            m = materials.get(f.material)
            if m is None:
                out.append((f"{p}.material", f"不存在的材料 {f.material}"))
            elif m.source in (Source.shared, Source.previous_item):
                out.append((f"{p}.material", f"材料 {f.material} 免提交，不应让申请人上传"))

    for n, e in enumerate(t.eligibility, 1):
        for k in e.items:
            if k not in item_pos:
                out.append((f"eligibility.{n}.items", f"不存在的事项 {k}"))
        check_when(f"eligibility.{n}.when", e.when)
        for fid in e.ages.fields if e.ages else []:
            f = next((x for x in t.form.fields if x.id == fid), None)
            if f is None or f.type != "id_card":
                out.append((f"eligibility.{n}.ages.fields", f"{fid} 不是表单里的身份证号字段"))
    return out


def check_against_list(things: dict[str, OneThing], listing: list[dict[str, Any]]) -> list[Problem]:
    """The catalog must hold exactly the provincial list's one-things."""
    out: list[Problem] = []
    listed = {e["id"]: e for e in listing}
    for tid in sorted(set(listed) - set(things)):
        out.append(Problem(f"{tid}.yaml", "", "清单中的一件事缺少办事指南文件"))
    for tid in sorted(set(things) - set(listed)):
        out.append(Problem(f"{tid}.yaml", "id", "不在一件事清单中"))
    for tid, entry in listed.items():
        t = things.get(tid)
        if t is None:
            continue
        f = f"{tid}.yaml"
        for attr in ("seq", "name", "category", "lead"):
            if getattr(t, attr) != entry[attr]:
                out.append(Problem(f, attr, f"应为 {entry[attr]!r}，与清单一致"))
        want = [(i["name"], i["dept"]) for i in entry["items"]]
        have = [(i.name, i.dept) for i in t.items]
        if want != have:
            out.append(Problem(f, "items", f"事项及部门应与清单一致（顺序相同）：{want}"))
    return out
