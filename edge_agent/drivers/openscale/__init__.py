"""SparkFun OpenScale load-cell boards (firmware 1.x) on a serial port.

`protocol` is the pure parser; `driver` adapts it to pyserial. See README.md.
"""

from edge_agent.drivers.openscale.driver import (
    BoardStats,
    OpenScale,
    OpenScaleConfig,
    StabilityWindow,
)
from edge_agent.drivers.openscale.protocol import (
    UNIT_GRAMS,
    BannerLine,
    Line,
    NoNumber,
    Reading,
    parse_line,
)

__all__ = [
    "UNIT_GRAMS",
    "BannerLine",
    "BoardStats",
    "Line",
    "NoNumber",
    "OpenScale",
    "OpenScaleConfig",
    "Reading",
    "StabilityWindow",
    "parse_line",
]
