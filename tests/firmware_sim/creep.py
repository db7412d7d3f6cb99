"""The creep (`drift_g_per_s`) scenario every emulated scale must pass."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

Reading = tuple[bool, float]  # (stable, grams) as the device showed them


class Loaded(Protocol):
    def set_load(self, grams: float) -> None: ...


def assert_creeps(
    scale: Loaded,
    read: Callable[[], Reading],
    *,
    rate_g_per_s: float,
    resolution_g: float,
    load_g: float = 100.0,
    wait_s: float = 0.3,
) -> list[float]:
    """Set `load_g`, wait `wait_s`, read; set `load_g + 100` and read again.

    Both readings must be stable and show the load plus `rate_g_per_s` times
    the time since it was set, and the second must start afresh from the new
    load. The emulator's clock is not ours, so each bound takes the instants
    that favour it: the least creep from just after `set_load()` to just
    before `read()`, the most from just before the one to just after the
    other. Returns the two weights.
    """
    shown: list[float] = []
    for grams, pause_s in ((load_g, wait_s), (load_g + 100.0, 0.0)):
        set_from = time.monotonic()
        scale.set_load(grams)
        set_until = time.monotonic()
        time.sleep(pause_s)
        read_from = time.monotonic()
        stable, weight = read()
        read_until = time.monotonic()
        least, most = sorted(
            grams + rate_g_per_s * elapsed
            for elapsed in (read_from - set_until, read_until - set_from)
        )
        assert stable, "creep is slow: the scale stays stable"
        assert least - resolution_g / 2 <= weight <= most + resolution_g / 2
        shown.append(weight)
    first_creep, second_creep = shown[0] - load_g, shown[1] - load_g - 100.0
    assert abs(first_creep) >= abs(rate_g_per_s) * wait_s - resolution_g
    assert abs(second_creep) < abs(first_creep)  # from the new load, not on from the old
    return shown
