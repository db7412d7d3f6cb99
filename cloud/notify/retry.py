"""When to try a webhook again: which answers are worth a retry, and how long to wait.

Pure; no I/O. Retried: network errors and timeouts (no status), 408, 425,
429 and every 5xx. Not retried: 3xx (redirects are not followed: a signed
request is not sent to a host the subscription does not name) and the
other 4xx (the receiver refused this request; sending it again will not help).

The wait after failed attempt n is `base_delay_s * 2**(n-1)`, capped at
`max_delay_s`, less up to `jitter` of it at random (so receivers coming back
are not hit by every sender at once). A `Retry-After` (seconds or an HTTP
date) lengthens the wait to what it asks, up to `max_retry_after_s`. With the
defaults a delivery gets 16 attempts, the waits between them 5 s, 10 s,
20 s ... 43 min, then hourly: 6.4 hours in all, less the jitter (3.2 at least).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 425, 429})
"""4xx statuses that mean "later", not "never"."""


def is_success(status: int) -> bool:
    """A 2xx answer: the receiver took the event."""
    return 200 <= status < 300


def is_retryable(status: int | None) -> bool:
    """True for a network error (None), 408, 425, 429 and 5xx."""
    return status is None or status >= 500 or status in RETRYABLE_STATUSES


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or HTTP date); None if absent
    or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a delivery is retried."""

    max_attempts: int = 16
    base_delay_s: float = 5.0
    max_delay_s: float = 3600.0
    jitter: float = 0.5
    max_retry_after_s: float = 6 * 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.base_delay_s <= self.max_delay_s:
            raise ValueError("need 0 < base_delay_s <= max_delay_s")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        if self.max_retry_after_s < 0:
            raise ValueError("max_retry_after_s must not be negative")

    def backoff_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt number `attempt` (1 is the first), jitter applied."""
        exponent = min(max(attempt, 1) - 1, 62)  # 2**62 s is past any cap
        delay = min(self.max_delay_s, self.base_delay_s * 2.0**exponent)
        return delay * (1.0 - self.jitter * (rng or random).random())

    def delay_s(
        self, attempt: int, retry_after_s: float | None = None, rng: random.Random | None = None
    ) -> float:
        """The wait after failed attempt `attempt`, at least what `Retry-After` asked (capped)."""
        delay = self.backoff_s(attempt, rng)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.max_retry_after_s))
        return delay
