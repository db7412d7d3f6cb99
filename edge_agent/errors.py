"""Errors of the edge agent."""

from vmi.errors import VmiError


class EdgeError(VmiError):
    """Root of the edge agent's errors."""


class DriverError(EdgeError):
    """A device driver failed (device gone, timeout, error reply)."""


class DeviceUnavailable(DriverError):
    """The device cannot be opened or stopped answering; retry with backoff."""


class FrameError(DriverError):
    """A frame from the device could not be decoded (garbage, truncated, bad checksum)."""
