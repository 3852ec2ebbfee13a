"""一次告知: the whole guide in one message, materials grouped by who provides them."""

from __future__ import annotations

from pathlib import Path

from bot.catalog.render import render_guide
from bot.catalog.validate import parse_file
from bot.settings import ROOT

NEWBORN, _ = parse_file(ROOT / "catalog" / "newborn.yaml")
assert NEWBORN is not None


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def test_groups_in_order_with_their_materials() -> None:
    text = render_guide(NEWBORN)
    order = [
        "一、办理条件",
        "二、申请材料",
        "■ 需要您提供",
        "■ 无需提交",
        "■ 可用承诺代替",
        "■ 可容缺后补",
        "三、办理时限",
        "四、收费",
        "五、在哪办",
    ]
    positions = [text.index(h) for h in order]
    assert positions == sorted(positions)
    shared = section(text, "■ 无需提交", "■ 可用承诺代替")
    assert "父母双方居民身份证（通过电子证照“居民身份证”获取）" in shared
    assert "出生医学证明（由“出生医学证明办理”办结后自动取得）" in shared
    tolerable = section(text, "■ 可容缺后补", "三、办理时限")
    assert "新生儿彩色证件照片（可先申请，10个工作日内补交）" in tolerable
    # A material is told once, in one group only.
    assert text.count("新生儿彩色证件照片") == 1


def test_undecided_branches_say_when_they_apply() -> None:
    text = render_guide(NEWBORN)
    assert (
        "亲子关系证明：可承诺“新生儿与申报的父亲、母亲存在亲生血缘关系”代替〔仅当“父母是否已办理结婚登记”为“否”时需要〕"
        in text
    )


def test_answers_filter_the_branches() -> None:
    married = render_guide(NEWBORN, {"parents_married": True, "settle_household": "父母本人户"})
    assert "亲子关系证明" not in married
    assert "户主同意入户" not in married
    assert "父母结婚证（通过电子证照“结婚证”获取）\n" in married
    unmarried = render_guide(NEWBORN, {"parents_married": False})
    assert "父母结婚证" not in unmarried
    assert "亲子关系证明：可承诺" in unmarried


def test_time_limits_fees_and_order() -> None:
    text = render_guide(NEWBORN)
    assert "社会保障卡申领：承诺10个工作日内办结（法定20个工作日），在“新生婴儿出生落户”办结后办理" in text
    assert "新生婴儿出生落户：即办件，材料齐全当场办结" in text
    assert "全部事项均不收费。" in text
    assert "咨询电话：12345；监督电话：12345" in text


def test_every_material_of_every_guide_is_told(tmp_path: Path) -> None:
    from bot.catalog import load_catalog

    for thing in load_catalog(ROOT / "catalog"):
        text = render_guide(thing)
        for m in thing.materials:
            assert m.name in text, (thing.id, m.name)
