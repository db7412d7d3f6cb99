"""Errors of the simulators."""

from vmi.errors import VmiError


class SimulatorError(VmiError):
    """A simulator or emulated device could not do what was asked."""
