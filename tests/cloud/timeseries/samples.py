"""Times and hostile tag values shared by the TimeSeriesStore contract tests."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

HOSTILE = [
    "Acme, Inc.",
    "a=b c=d",
    "it's",
    'say "hi"',
    "' OR site =~ /.*/ --",
    r"back\slash",
    r"a\,b\ c\=d",
    '\\"',
    "ünïcødé 😀 货架",
    " spaced ",
    "tab\there",
]
