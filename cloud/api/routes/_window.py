"""Time windows of the time-series routes: `from` and `to` query parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Query
from pydantic import AwareDatetime

from cloud.api.errors import unprocessable

SinceQuery = Annotated[
    AwareDatetime | None,
    Query(alias="from", description="Start of the window (inclusive), with a UTC offset."),
]
UntilQuery = Annotated[
    AwareDatetime | None,
    Query(alias="to", description="End of the window (exclusive); default: now."),
]

_FIRST = datetime(1970, 1, 1, tzinfo=UTC)
_LAST = datetime(9000, 1, 1, tzinfo=UTC)


def _utc(at: datetime, name: str) -> datetime:
    try:
        utc = at.astimezone(UTC)
    except OverflowError:
        unprocessable("out of range", "query", name)
    # Nothing is stored before the epoch; far future bounds only risk overflow.
    return min(max(utc, _FIRST), _LAST)


def window(
    since: datetime | None,
    until: datetime | None,
    *,
    now: datetime,
    default_span: timedelta,
    max_span: timedelta | None = None,
) -> tuple[datetime, datetime]:
    """`[since, until)` in UTC, defaulting to the `default_span` before `until` (or now).

    422 if `since` is not before `until`, or the window is longer than `max_span`.
    """
    end = _utc(until, "to") if until is not None else now
    start = _utc(since, "from") if since is not None else max(end - default_span, _FIRST)
    if start >= end:
        unprocessable("`from` must be before `to`", "query", "from")
    if max_span is not None and end - start > max_span:
        unprocessable(f"the window may span at most {max_span.days} days", "query", "from")
    return start, end
