"""English and Simplified Chinese: every word in both, the reader's language chosen from
the switch or the browser, numbers and times written per language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cloud.portal.i18n import (
    MESSAGES,
    format_number,
    format_time,
    pick_locale,
    translator,
    zone,
)

PLACEHOLDER = re.compile(r"\{(\w+)\}")
SAME_IN_BOTH = {"shelf.stockout_day"}  # "(10 / 50 / 90 %)" aside, it is translated
LATIN = re.compile(r"[A-Za-z]{3,}")


def test_every_key_is_in_both_languages_with_the_same_placeholders() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["zh"])
    for key, english in MESSAGES["en"].items():
        chinese = MESSAGES["zh"][key]
        assert set(PLACEHOLDER.findall(english)) == set(PLACEHOLDER.findall(chinese)), key


def test_no_chinese_entry_is_left_in_english() -> None:
    for key, chinese in MESSAGES["zh"].items():
        assert chinese != MESSAGES["en"][key] or key in SAME_IN_BOTH, key
        words = set(LATIN.findall(PLACEHOLDER.sub("", chinese)))
        # The switch names English; MASE is the measure's name in both languages.
        assert words <= {"English", "MASE"}, f"{key}: {chinese!r}"


@pytest.mark.parametrize(
    ("cookie", "header", "locale"),
    [
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "zh-Hans-CN", "zh"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", "zh"),
        (None, "de-DE", "en"),
        (None, None, "en"),
        (None, "zh;q=0,en", "en"),
        (None, "zh;q=abc,en;q=0.5", "en"),
        ("en", "zh-CN", "en"),  # the switch wins
        ("zh", "en", "zh"),
        ("xx", "zh", "zh"),  # a cookie we do not know is ignored
    ],
)
def test_the_language_comes_from_the_switch_then_the_browser(
    cookie: str | None, header: str | None, locale: str
) -> None:
    assert pick_locale(cookie, header) == locale


def test_words_numbers_and_times_per_language() -> None:
    assert translator("zh")("orders.confirm") == "确认"
    assert translator("en")("orders.done", id=7, status="Shipped") == "Order 7 is now Shipped."
    assert translator("xx")("orders.confirm") == "Confirm"
    assert format_number(1234.56, "en") == "1,234.6"
    assert format_number(1200.0, "zh") == "1,200"
    assert format_number(None, "en") == "–"
    at = datetime(2026, 12, 5, 1, 30, tzinfo=UTC)
    assert format_time(at, "en") == "5 Dec 2026 01:30"
    assert format_time(at, "zh", ZoneInfo("Asia/Shanghai")) == "2026年12月5日 09:30"
    assert zone("Not/AZone") is UTC
    assert zone("../../etc/passwd") is UTC
