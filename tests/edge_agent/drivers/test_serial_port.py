"""SerialLink and SerialDriver against a bare pseudo-terminal: no device, just bytes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from edge_agent.drivers.base import FrameStats
from edge_agent.drivers.serial_port import NoLine, SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.errors import DeviceFault, DeviceUnavailable, DriverError, FrameError
from tests.edge_agent.drivers.bare_pty import Pty, soon

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def link(pty: Pty) -> Iterator[SerialLink]:
    made = SerialLink(
        SerialSettings(port=pty.port), timeout_s=0.2, name="scale#01", stats=FrameStats()
    )
    made.open()
    yield made
    made.close()


def test_open_drops_what_came_before_and_close_is_idempotent(pty: Pty) -> None:
    link = SerialLink(SerialSettings(port=pty.port), timeout_s=0.2)
    pty.send(b"old\r\n")
    time.sleep(0.05)
    link.open()
    link.open()  # opening an open link does nothing
    assert link.is_open
    with pytest.raises(NoLine):
        link.read_line(soon(0.1), 64)
    link.close()
    link.close()
    assert not link.is_open


def test_missing_port_names_the_port() -> None:
    link = SerialLink(SerialSettings(port="/dev/does-not-exist-link"), timeout_s=0.2, name="x#01")
    with pytest.raises(DeviceUnavailable, match=r"^/dev/does-not-exist-link: cannot open"):
        link.open()
    assert not link.is_open


def test_a_closed_link_refuses_io(pty: Pty) -> None:
    link = SerialLink(SerialSettings(port=pty.port), timeout_s=0.2, name="scale#01")
    for call in (
        link.flush_input,
        lambda: link.write(b"x"),
        lambda: link.read_line(soon(), 64),
        lambda: link.read(16, soon()),
    ):
        with pytest.raises(DeviceUnavailable, match="scale#01: not open"):
            call()


def test_read_line_returns_lines_with_their_terminator(pty: Pty, link: SerialLink) -> None:
    pty.send(b"ST,+1.0 g\r\nUS,+2.0 g\r\n12.5 g\n")
    assert link.read_line(soon(), 64, end=b"\r\n") == b"ST,+1.0 g\r\n"
    assert link.read_line(soon(), 64, end=b"\r\n") == b"US,+2.0 g\r\n"
    assert link.read_line(soon(), 64) == b"12.5 g\n"
    assert link.stats == FrameStats()


def test_read_line_timeout_is_counted_and_says_so(pty: Pty, link: SerialLink) -> None:
    pty.send(b"half a li")
    with pytest.raises(NoLine, match=r"^scale#01: nothing within 0\.1 s$"):
        link.read_line(soon(0.1), 64, silence="nothing within 0.1 s")
    assert link.stats is not None
    assert link.stats.timeouts == 1
    assert isinstance(NoLine("x"), DeviceUnavailable)


def test_an_overlong_line_is_garbage(pty: Pty, link: SerialLink) -> None:
    pty.send(b"x" * 40 + b"\r\n")
    with pytest.raises(FrameError, match="no line end within 16 bytes"):
        link.read_line(soon(), 16)
    assert link.stats is not None
    assert link.stats.bad == 1


def test_write_sends_and_flush_input_drops_unread_bytes(pty: Pty, link: SerialLink) -> None:
    link.write(b"Q\r\n", drain=True)
    assert pty.received(3) == b"Q\r\n"
    pty.send(b"stale\r\n")
    time.sleep(0.05)
    link.flush_input()
    pty.send(b"fresh\r\n")
    assert link.read_line(soon(), 64) == b"fresh\r\n"


def test_read_takes_what_arrived_up_to_the_limit(pty: Pty, link: SerialLink) -> None:
    assert link.read(16, soon()) == b""  # one slice, nothing there
    pty.send(bytes(range(10)))
    time.sleep(0.05)
    assert link.read(4, soon()) == bytes(range(4))
    assert link.read(16, soon()) == bytes(range(4, 10))
    pty.send(b"late")
    time.sleep(0.05)
    assert link.read(16, time.monotonic()) == b""  # past the deadline: nothing read
    assert link.read(16, soon()) == b"late"


def test_serial_driver_opens_and_closes_with_a_with_block(pty: Pty) -> None:
    class Device(SerialDriver):
        def __init__(self) -> None:
            self._link = SerialLink(SerialSettings(port=pty.port), timeout_s=0.2)

    device = Device()
    with device as opened:
        assert opened is device
        assert device.is_open
    assert not device.is_open
    device.close()


def test_device_fault_carries_its_context() -> None:
    fault = DeviceFault("/dev/ttyUSB0", "TL", "not level", device="indicator")
    assert str(fault) == "/dev/ttyUSB0: indicator reports TL: not level"
    assert (fault.port, fault.code, fault.reason) == ("/dev/ttyUSB0", "TL", "not level")
    assert isinstance(fault, DriverError)
