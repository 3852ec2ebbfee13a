"""Personal data is starred out of text before it is stored or shown to staff."""

from __future__ import annotations

import pytest

from bot.masking import mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证号11010519491231002X", "身份证号110105********002X"),
        ("电话13912345678，麻烦回电", "电话139****5678，麻烦回电"),
        ("我叫王小明，想给孩子上户口", "我叫王**，想给孩子上户口"),
        ("卡号6222021234567890123", "卡号***************0123"),
        # voice input reads numbers out: masked all the same
        ("手机幺三九一二三四五六七八", "手机幺三九****五六七八"),
        ("二一零一零二一九八零", "******一九八零"),
        # copied off a card in groups (the security review's finding): starred all the same
        ("身份证 2101 0219 5511 1145 61", "身份证 2101 02** **** **45 61"),
        ("电话 139-9876-1234", "电话 139-****-1234"),
        ("手机 139 9876 1234", "手机 139 **** 1234"),
        ("210102-19551111-456X", "210102-********-456X"),
        ("卡号 6222 0212 3456 7890 123", "卡号 **** **** **** ***0 123"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("caller said 2101 0219 5511 1145 61", "caller said 2101 02** **** **45 61"),
        ("phone 139-9876-1234 refused", "phone 139-****-1234 refused"),
        ("deadline 2026-12-05 09:16, item 3-2-1", "deadline 2026-12-05 09:16, item 3-2-1"),
    ],
)
def test_grouped_numbers_in_log_lines(line: str, masked: str) -> None:
    from bot.masking import mask_log_line

    assert mask_log_line(line) == masked


@pytest.mark.parametrize(
    "text",
    [
        "孩子户口咋上",
        "二零二六年三月五号办的",
        "社保缴了12个月",
        "老爷子走了，后面要办啥",
        "2026-12-05 09:16 到 88 号 3-2-1",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_masking_keeps_length_so_offsets_still_point_right() -> None:
    text = "我叫张三丰，电话13912345678，身份证11010519491231002X"
    assert len(mask_text(text)) == len(text)


def test_log_lines_are_masked_whatever_logged_them(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from bot.masking import MaskingFilter, mask_log_line

    assert mask_log_line("id 210102199001011237 phone 13812345678 order GD20261123000001") == (
        "id 210102********1237 phone 138****5678 order GD20261123000001"
    )
    logger = logging.getLogger("test.masking")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("lookup for %s failed", "21010219900101123X")
    assert "21010219900101123X" not in caplog.text and "210102********123X" in caplog.text
