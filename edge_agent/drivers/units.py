"""Mass units in grams, defined once; each protocol picks the symbols it speaks."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

GRAMS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "g": 1.0,
        "kg": 1000.0,
        "mg": 0.001,
        "t": 1_000_000.0,  # metric ton
        "ct": 0.2,  # metric carat
        "oz": 28.349523125,  # avoirdupois ounce (exact)
        "lb": 453.59237,  # international avoirdupois pound (exact)
        "ozt": 31.1034768,  # troy ounce (exact)
        "dwt": 1.55517384,  # pennyweight (exact)
        "GN": 0.06479891,  # grain (exact)
        "mo": 3.75,  # momme (exact)
    }
)


def unit_table(*symbols: str, **aliases: str) -> Mapping[str, float]:
    """Grams per unit for `symbols`, plus `alias=symbol` spellings of a device."""
    table = {s: GRAMS[s] for s in symbols}
    table.update({alias: GRAMS[symbol] for alias, symbol in aliases.items()})
    return MappingProxyType(table)
