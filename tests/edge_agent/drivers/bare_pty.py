"""A bare pseudo-terminal for the tests of the serial plumbing: no device, just bytes."""

from __future__ import annotations

import os
import time
import tty


class Pty:
    """The device end of a raw pty; `port` is the path a link opens."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave  # kept open so the pty stays usable between opens

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def received(self, size: int, timeout_s: float = 1.0) -> bytes:
        os.set_blocking(self.master, False)
        deadline = time.monotonic() + timeout_s
        data = b""
        while len(data) < size and time.monotonic() < deadline:
            try:
                data += os.read(self.master, size - len(data))
            except BlockingIOError:
                time.sleep(0.01)
        return data

    def close(self) -> None:
        os.close(self.master)
        os.close(self._slave)


def soon(seconds: float = 0.2) -> float:
    """A deadline `seconds` from now, on `time.monotonic()` as the links use."""
    return time.monotonic() + seconds
