"""Emulator + driver pairs for the driver tests, closed and stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

E = TypeVar("E")
D = TypeVar("D")


@contextmanager
def driver_rigs() -> Iterator[Callable[[Any, Any], tuple[Any, Any]]]:
    """Yield `opened(emulator, driver)`: opens the driver and returns the pair.

    On exit every driver is closed and every emulator stopped.
    """
    made: list[tuple[Any, Any]] = []

    def opened(emu: E, driver: D) -> tuple[E, D]:
        made.append((emu, driver))
        driver.open()  # type: ignore[attr-defined]
        return emu, driver

    try:
        yield opened
    finally:
        for emu, driver in made:
            driver.close()
            emu.stop()
