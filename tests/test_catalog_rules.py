"""The checker refuses what an agency might get wrong, saying where and why."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.catalog.validate import parse_file
from bot.settings import ROOT

BASE = yaml.safe_load((ROOT / "catalog" / "newborn.yaml").read_text(encoding="utf-8"))


def problems_of(tmp_path: Path, mutate: Any) -> list[str]:
    raw = copy.deepcopy(BASE)
    mutate(raw)
    path = tmp_path / "newborn.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _, problems = parse_file(path)
    return [str(p) for p in problems]


def field(raw: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(f for f in raw["form"]["fields"] if f["id"] == fid)


def material(raw: dict[str, Any], key: str) -> dict[str, Any]:
    return next(m for m in raw["materials"] if m["key"] == key)


def test_the_example_is_clean(tmp_path: Path) -> None:
    assert problems_of(tmp_path, lambda raw: None) == []


def test_promised_limit_longer_than_legal(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        raw["items"][3]["guide"]["promised_limit_days"] = 25

    assert problems_of(tmp_path, mutate) == [
        "newborn.yaml: items.4.guide.promised_limit_days: 承诺办结时限不能长于法定办结时限"
    ]


def test_immediate_item_with_a_promised_delay(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        raw["items"][1]["guide"]["promised_limit_days"] = 3

    assert any("即办件当场办结" in p for p in problems_of(tmp_path, mutate))


def test_field_used_by_no_existing_item(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        field(raw, "birth_hospital")["items"] = ["hospital_visit"]

    assert problems_of(tmp_path, mutate) == ["newborn.yaml: form.fields.11.items: 不存在的事项 hospital_visit"]


def test_field_used_by_no_item_at_all(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        field(raw, "birth_hospital")["items"] = []

    assert any(p.startswith("newborn.yaml: form.fields.11.items:") for p in problems_of(tmp_path, mutate))


def test_the_same_datum_asked_twice(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        dup = dict(field(raw, "applicant_phone"), id="contact_phone", prefill=None)
        raw["form"]["fields"].append(dup)

    assert any("字段“联系电话”重复" in p for p in problems_of(tmp_path, mutate))


def test_previous_item_material_from_a_later_item(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        material(raw, "birth_medical_certificate")["from_item"] = "social_security_card"

    found = problems_of(tmp_path, mutate)
    assert (
        "newborn.yaml: materials.6.from_item: social_security_card 须排在使用它的事项 birth_registration 之前" in found
    )


def test_previous_item_material_without_waiting_for_it(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        raw["items"][1]["depends_on"] = []
        raw["items"][2]["depends_on"] = []
        raw["items"][3]["depends_on"] = []

    found = problems_of(tmp_path, mutate)
    assert any("须在 depends_on 中等待它" in p for p in found)


def test_item_without_materials(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        for m in raw["materials"]:
            m["items"] = [k for k in m["items"] if k != "medical_insurance"] or ["birth_certificate"]

    assert "newborn.yaml: items.3: 事项 medical_insurance 没有任何申请材料" in problems_of(tmp_path, mutate)


def test_condition_on_a_value_the_field_does_not_offer(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        material(raw, "householder_consent")["when"] = {"settle_household": "集体户"}

    assert any("字段 settle_household 没有选项 ['集体户']" in p for p in problems_of(tmp_path, mutate))


def test_shared_material_needs_its_source(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        del material(raw, "household_register")["shared"]

    found = problems_of(tmp_path, mutate)
    assert any(p.startswith("newborn.yaml: materials.3:") and "shared" in p for p in found)


def test_tolerable_material_needs_a_deadline(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        del material(raw, "child_photo")["supply_within_days"]

    assert any("supply_within_days" in p for p in problems_of(tmp_path, mutate))


def test_topic_outside_the_standard_list(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        raw["items"][0]["guide"]["topics"] = ["生孩子"]

    assert problems_of(tmp_path, mutate) == ["newborn.yaml: items.1.guide.topics: 事项类型“生孩子”不在规范可选值内"]


def test_depends_on_a_later_item(tmp_path: Path) -> None:
    def mutate(raw: dict[str, Any]) -> None:
        raw["items"][0]["depends_on"] = ["birth_registration"]

    assert any(p.startswith("newborn.yaml: items.1.depends_on:") for p in problems_of(tmp_path, mutate))


def test_file_named_after_another_id(tmp_path: Path) -> None:
    path = tmp_path / "baby.yaml"
    path.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    _, problems = parse_file(path)
    assert [str(p) for p in problems] == ["baby.yaml: id: 文件名应为 newborn.yaml"]


@pytest.mark.parametrize("text", ["id: [unclosed", "- just\n- a list\n"])
def test_broken_yaml_is_reported_not_raised(tmp_path: Path, text: str) -> None:
    path = tmp_path / "newborn.yaml"
    path.write_text(text, encoding="utf-8")
    thing, problems = parse_file(path)
    assert thing is None and len(problems) == 1 and problems[0].file == "newborn.yaml"


def test_defaults_are_inherited_and_overridden(tmp_path: Path) -> None:
    path = tmp_path / "newborn.yaml"
    path.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    thing, _ = parse_file(path)
    assert thing is not None
    assert thing.item("birth_registration").guide.location.startswith("户籍所在地")  # from defaults
    assert thing.item("birth_certificate").guide.location.startswith("新生儿出生医院")  # its own
