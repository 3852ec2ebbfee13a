"""Entity extraction on normalised text: validated identifiers, dates in words, spoken digits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.nlu.data import dump, parse_example, read_file
from bot.nlu.entities import Places, chinese_number, extract
from bot.nlu.normalize import normalize

TODAY = date(2026, 11, 23)  # a Monday
PLACES = Places(cities={"沈阳": "沈阳", "沈阳市": "沈阳", "大连": "大连"}, districts={"和平区": "和平区"})


def ents(text: str) -> list[tuple[str, str, str | None]]:
    return [(s["entity"], s["value"], s.get("problem")) for s in extract(normalize(text), PLACES, TODAY)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫张三，电话13840012345", [("person_name", "张三", None), ("phone", "13840012345", None)]),
        ("身份证210102199003074522", [("id_card", "210102199003074522", None)]),
        ("身份证210102199003074521", [("id_card", "210102199003074521", "check_digit")]),
        ("身份证210102199013074522", [("id_card", "210102199013074522", "birth_date")]),
        ("91210106MA0Y7U4R2H", [("uscc", "91210106MA0Y7U4R2H", None)]),
        ("91210106MA0Y7U4R2K", [("uscc", "91210106MA0Y7U4R2K", "check_char")]),
        ("申办编号SB20261120000123", [("application_no", "SB20261120000123", None)]),
        ("一九五零年三月五号出生", [("date", "1950-03-05", None)]),
        ("2026-11-03", [("date", "2026-11-03", None)]),
        ("3月5号", [("date", "2026-03-05", None)]),
        ("昨天", [("date", "2026-11-22", None)]),
        ("下周一", [("date", "2026-11-30", None)]),
        ("上星期五", [("date", "2026-11-20", None)]),
        ("去年", [("date", "2025", None)]),
        ("补贴五千元", [("amount", "5000.00", None)]),
        ("两万块", [("amount", "20000.00", None)]),
        ("3.5万", [("amount", "35000.00", None)]),
        ("沈阳市和平区", [("city", "沈阳", None), ("district", "和平区", None)]),
    ],
)
def test_extract(text: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert ents(text) == expected


def test_spoken_digits_read_one_by_one_become_an_id_and_a_phone() -> None:
    text = "身份证二一零一零二一九九零零三零七四五二二，电话幺三八四零零幺二三四五"
    assert ents(text) == [("id_card", "210102199003074522", None), ("phone", "13840012345", None)]


def test_offsets_point_into_the_original_text() -> None:
    text = "电话：１３８４００１２３４５"  # full-width digits
    (span,) = extract(normalize(text), PLACES, TODAY)
    assert text[span["start"] : span["end"]] == "１３８４００１２３４５"
    assert span["value"] == "13840012345" and span["extractor"] == "EmbeddedEntityExtractor"


def test_normalize_keeps_length_and_words() -> None:
    for text in ["一件事两个孩子三月", "ＡＢＣ　１２３", "幺三八"]:
        assert len(normalize(text)) == len(text)
    assert normalize("一件事两个孩子") == "一件事两个孩子"


@pytest.mark.parametrize(
    ("text", "value"), [("三十五", 35), ("两千五百", 2500), ("一九五零", 1950), ("十二", 12), ("一万零五", 10005)]
)
def test_chinese_numbers(text: str, value: int) -> None:
    assert chinese_number(text) == value


def test_rasa_annotations_round_trip(tmp_path: Path) -> None:
    raw = '我叫[张三](person_name)，在[沈阳市]{"entity": "city", "value": "沈阳"}'
    ex = parse_example(raw, "greet")
    assert ex.text == "我叫张三，在沈阳市"
    assert [(e.entity, e.value, ex.text[e.start : e.end]) for e in ex.entities] == [
        ("person_name", "张三", "张三"),
        ("city", "沈阳", "沈阳市"),
    ]
    from bot.nlu.data import TrainingData

    path = tmp_path / "nlu.yml"
    path.write_text(dump(TrainingData(examples=[ex])), encoding="utf-8")
    back = read_file(path)
    assert back.examples == [ex]
    assert back.synonyms == {"沈阳市": "沈阳"}


@pytest.mark.parametrize(
    ("text", "value", "grain"),
    [
        ("上个月20号生的", "2026-11-20", None),
        ("今年10月5号打的", "2026-10-05", None),
        ("打了 今年10月打的", "2026-10", "month"),
        ("86年7月参加的工作", "1986-07", "month"),
        ("1978年9月", "1978-09", "month"),
        ("1986年参加工作的", "1986", "year"),
    ],
)
def test_dates_as_people_say_them_with_what_they_leave_out(text: str, value: str, grain: str | None) -> None:
    dates = [s for s in extract(normalize(text), today=date(2026, 12, 5)) if s["entity"] == "date"]
    assert (dates[0]["value"], dates[0].get("grain")) == (value, grain)


def test_a_duration_in_years_is_no_date() -> None:
    for text in ("交了15年了", "干了三十多年", "服役5年"):
        assert not [s for s in extract(normalize(text), today=date(2026, 12, 5)) if s["entity"] == "date"]
