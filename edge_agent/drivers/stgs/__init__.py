"""ST,GS weight indicators (Dini Argeo DGT/LTP and compatibles) on a serial port.

`protocol` is the pure parser; `driver` adapts it to pyserial. See README.md.
"""

from edge_agent.drivers.stgs.driver import (
    IndicatorFault,
    IndicatorStats,
    StGsConfig,
    StGsIndicator,
)
from edge_agent.drivers.stgs.protocol import (
    ERROR_REASONS,
    UNIT_GRAMS,
    CommandReply,
    Frame,
    Kind,
    RawFrame,
    Status,
    StatusFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)

__all__ = [
    "ERROR_REASONS",
    "UNIT_GRAMS",
    "CommandReply",
    "Frame",
    "IndicatorFault",
    "IndicatorStats",
    "Kind",
    "RawFrame",
    "StGsConfig",
    "StGsIndicator",
    "Status",
    "StatusFrame",
    "WeightFrame",
    "encode_command",
    "parse_frame",
]
