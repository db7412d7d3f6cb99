"""A&D balances (FX-i, GX, GF, EK-i and others) in A&D standard format on a serial port.

`protocol` is the pure parser; `driver` adapts it to pyserial. See README.md.
"""

from edge_agent.drivers.aandd.driver import AandDConfig, AandDScale, BalanceFault
from edge_agent.drivers.aandd.protocol import (
    ERROR_REASONS,
    NON_WEIGHT_UNITS,
    UNIT_GRAMS,
    Acknowledge,
    ErrorReply,
    Frame,
    Header,
    NonWeightFrame,
    OutOfRangeFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)
from edge_agent.drivers.base import FrameStats

__all__ = [
    "ERROR_REASONS",
    "NON_WEIGHT_UNITS",
    "UNIT_GRAMS",
    "AandDConfig",
    "AandDScale",
    "Acknowledge",
    "BalanceFault",
    "ErrorReply",
    "Frame",
    "FrameStats",
    "Header",
    "NonWeightFrame",
    "OutOfRangeFrame",
    "WeightFrame",
    "encode_command",
    "parse_frame",
]
