"""Errors of the edge agent and its drivers."""

from typing import Literal

from vmi.errors import VmiError


class EdgeError(VmiError):
    """Root of the edge agent's errors."""


class DriverError(EdgeError):
    """A device driver failed (device gone, timeout, error reply)."""


class DeviceUnavailable(DriverError):
    """The device cannot be opened or stopped answering; retry with backoff."""


class FrameError(DriverError):
    """A frame from the device could not be decoded (garbage, truncated, bad checksum)."""


class DeviceFault(DriverError):
    """The device answers but is in a state that gives no usable reading: a
    balance counting pieces, an indicator not level, a balance calibrating or
    showing an error number, a board not calibrated. A person must fix it;
    retrying the connection will not help.

    `code` is what the device showed, `reason` what that means; `device`
    names the kind of device in the message ("balance", "indicator").
    """

    def __init__(self, port: str, code: str, reason: str, *, device: str = "device") -> None:
        super().__init__(f"{port}: {device} reports {code}: {reason}")
        self.port = port
        self.code = code
        self.reason = reason


class CommandRejected(DriverError):
    """The scale answered but refused: `ES`/`ET`/`EL`, or a status such as `I`
    for tare/zero. The device is there; retrying the connection will not help."""

    def __init__(self, port: str, command: str, code: str, reason: str) -> None:
        super().__init__(f"{port}: {command!r} rejected with {code}: {reason}")
        self.port = port
        self.command = command
        self.code = code
        self.reason = reason


class WeightOutOfRange(DriverError):
    """The scale reports overload (`+`) or underload (`-`).

    Raised, not returned as None, so the agent can publish it as a fault event
    (a load beyond capacity or a missing pan is something a person must fix).
    """

    def __init__(self, port: str, direction: Literal["overload", "underload"]) -> None:
        super().__init__(f"{port}: scale reports {direction}")
        self.port = port
        self.direction = direction
