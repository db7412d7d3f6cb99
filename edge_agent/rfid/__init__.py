"""RFID identifiers: decoding GS1 EPCs read from UHF tags. See `epc`."""

from edge_agent.rfid.epc import (
    PARTITIONS,
    EpcError,
    Sgtin,
    decode_sgtin96,
    epc_to_json,
    gs1_check_digit,
    is_sgtin96,
    normalize_epc,
)

__all__ = [
    "PARTITIONS",
    "EpcError",
    "Sgtin",
    "decode_sgtin96",
    "epc_to_json",
    "gs1_check_digit",
    "is_sgtin96",
    "normalize_epc",
]
