"""Bounded waiting for something another thread or process does."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    check: Callable[[], object],
    timeout_s: float,
    what: str | Callable[[], str],
    *,
    poll_s: float = 0.05,
) -> None:
    """Return once `check()` is truthy; fail after `timeout_s` saying `what` was awaited.

    `what` may be a function, to describe the state at the moment of failure.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(poll_s)
    detail = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout_s}s waiting for {detail}")
