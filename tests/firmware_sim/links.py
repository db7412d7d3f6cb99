"""A raw pyserial link to an emulator, shared by the emulator tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import serial


@contextmanager
def serial_links(
    emulator: Callable[..., Any],
    *,
    baudrate: int = 9600,
    timeout: float = 1.0,
    port_first: bool = False,
) -> Iterator[Callable[..., tuple[Any, serial.Serial]]]:
    """Yield `make(**knobs)`: a started emulator and a raw pyserial port on it.

    Everything made is closed and stopped afterwards. A pty carries bytes
    whatever the line settings, so the port is plain 8N1. With `port_first`
    the port is opened before the emulator starts (to read a power-up banner).
    """
    made: list[tuple[Any, serial.Serial]] = []

    def make(**knobs: Any) -> tuple[Any, serial.Serial]:
        emu = emulator(**knobs)
        if not port_first:
            emu.start()
        port = serial.Serial(emu.port, baudrate, timeout=timeout)
        made.append((emu, port))
        if port_first:
            emu.start()
        return emu, port

    try:
        yield make
    finally:
        for emu, port in made:
            port.close()
            emu.stop()


def read_until_hangup(port: serial.Serial) -> Exception | None:
    """Read what was sent before the hang-up, then return the error (bounded)."""
    for _ in range(100):
        try:
            port.read(256)
        except (serial.SerialException, OSError) as exc:
            return exc
    return None


def ask(port: serial.Serial, command: bytes) -> bytes:
    """Send a CR LF terminated command and read one CR LF terminated answer."""
    port.write(command + b"\r\n")
    return port.read_until(b"\r\n")


def fresh(port: serial.Serial) -> bytes:
    """The first whole streamed line after a flush."""
    port.reset_input_buffer()
    port.read_until(b"\r\n")
    return port.read_until(b"\r\n")
