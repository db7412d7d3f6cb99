"""EM4100 125 kHz tags through RDM6300-class readers on a serial port.

`protocol` is the pure frame decoder; `driver` adapts it to pyserial. See README.md.
"""

from edge_agent.drivers.em4100.driver import Em4100Config, Em4100Reader
from edge_agent.drivers.em4100.protocol import (
    DecoderStats,
    Em4100Decoder,
    checksum,
    decode_frame,
    encode_frame,
)

__all__ = [
    "DecoderStats",
    "Em4100Config",
    "Em4100Decoder",
    "Em4100Reader",
    "checksum",
    "decode_frame",
    "encode_frame",
]
