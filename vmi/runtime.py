"""Process plumbing shared by the `vmi` commands: logging and clean shutdown."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # One line per HTTP request drowns the service's own messages.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


def run_until_signalled(target: Callable[[threading.Event], None]) -> None:
    """Run `target(stop)`; SIGINT (Ctrl-C) or SIGTERM sets `stop` for a clean exit.

    A second signal while shutting down exits at once.
    """
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise SystemExit(128 + signum)
        logging.getLogger("vmi").info("stopping (signal %d)", signum)
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        target(stop)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
