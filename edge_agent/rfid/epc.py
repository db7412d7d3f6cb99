"""GS1 EPC decoding: SGTIN-96, the EPC on retail UHF tags (GS1 EPC Tag Data Standard).

Pure: a hex string in, a typed value out, no I/O. A UHF reader reports the
tag's EPC memory as hex; when it holds an SGTIN-96, the GTIN (the product's
barcode number) can be read straight from it, so the tag needs no mapping in
the configuration. Anything else (factory-default EPCs copied from the TID,
which start `E2`, or other GS1 schemes) raises `EpcError`: map those tags
through the reader's `tag_map` instead.

Layout of the 96 bits, most significant first: header `0x30` (8), filter (3),
partition (3), company prefix and item reference (44 together, split by the
partition), serial (38).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Final, Literal

from edge_agent.errors import EdgeError

SGTIN96_HEADER: Final = 0x30
EPC_HEX_DIGITS: Final = 24  # 96 bits

#: Partition value -> (company prefix bits, prefix digits, item reference bits,
#: item reference digits). The digits always add up to 13; the item reference
#: includes the indicator digit.
PARTITIONS: Final[tuple[tuple[int, int, int, int], ...]] = (
    (40, 12, 4, 1),
    (37, 11, 7, 2),
    (34, 10, 10, 3),
    (30, 9, 14, 4),
    (27, 8, 17, 5),
    (24, 7, 20, 6),
    (20, 6, 24, 7),
)

#: EPC binary headers of other schemes, named in error messages so a person can
#: tell a wrong scheme from a corrupt read (TDS header table).
_OTHER_HEADERS: Final = {
    0x00: "unprogrammed",
    0x31: "SSCC-96",
    0x32: "SGLN-96",
    0x33: "GRAI-96",
    0x34: "GIAI-96",
    0x35: "GID-96",
    0x36: "SGTIN-198",
}

_HEX: Final = frozenset(string.hexdigits)
_SERIAL_BITS: Final = 38


class EpcError(EdgeError):
    """An EPC is not a well-formed SGTIN-96 (wrong scheme, length, digits or partition)."""


@dataclass(frozen=True, slots=True)
class Sgtin:
    """A decoded SGTIN-96: a GTIN plus a serial number.

    `company_prefix` and `item_reference` keep their leading zeros (their
    lengths follow from the partition); `item_reference` starts with the
    indicator digit.
    """

    epc: str  # the 24 hex digits, upper case
    filter: int
    partition: int
    company_prefix: str
    item_reference: str
    serial: int
    scheme: Literal["sgtin-96"] = "sgtin-96"

    @property
    def indicator(self) -> str:
        """The indicator digit (packaging level), the item reference's first digit."""
        return self.item_reference[0]

    @property
    def gtin14(self) -> str:
        """The 14-digit GTIN with its GS1 check digit."""
        body = self.indicator + self.company_prefix + self.item_reference[1:]
        return body + str(gs1_check_digit(body))

    @property
    def uri(self) -> str:
        """Pure identity URI, e.g. `urn:epc:id:sgtin:0614141.812345.6789`."""
        return f"urn:epc:id:sgtin:{self.company_prefix}.{self.item_reference}.{self.serial}"

    @property
    def tag_uri(self) -> str:
        """EPC tag URI, which also carries the filter, e.g.
        `urn:epc:tag:sgtin-96:3.0614141.812345.6789`."""
        return (
            f"urn:epc:tag:sgtin-96:{self.filter}."
            f"{self.company_prefix}.{self.item_reference}.{self.serial}"
        )


def gs1_check_digit(body: str) -> int:
    """The GS1 check digit of a digit string (GTIN body without its check digit).

    Weights 3, 1, 3, ... from the rightmost digit; check = (10 - sum mod 10) mod 10.
    """
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"GS1 check digit needs a non-empty string of digits, got {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_epc(epc_hex: str) -> str:
    """Strip surrounding whitespace and upper-case; raise `EpcError` if not hex."""
    text = epc_hex.strip()
    if not text:
        raise EpcError("empty EPC")
    bad = next((c for c in text if c not in _HEX), None)
    if bad is not None:
        raise EpcError(f"EPC {epc_hex!r} is not hexadecimal (character {bad!r})")
    return text.upper()


def is_sgtin96(epc_hex: str) -> bool:
    """True when the EPC decodes as an SGTIN-96 (a cheap check before mapping a tag)."""
    try:
        decode_sgtin96(epc_hex)
    except EpcError:
        return False
    return True


def decode_sgtin96(epc_hex: str) -> Sgtin:
    """Decode a 96-bit EPC given as 24 hex digits (either case).

    Raises `EpcError` when it is not hex, not an SGTIN-96 header (`0x30`), not
    96 bits long, has partition 7, or a company prefix or item reference with
    more digits than its partition allows.
    """
    text = normalize_epc(epc_hex)
    # The header first: an EPC of another scheme or length is better explained
    # by its scheme than by its length.
    if len(text) >= 2 and int(text[:2], 16) != SGTIN96_HEADER:
        raise EpcError(_not_sgtin(int(text[:2], 16)))
    if len(text) != EPC_HEX_DIGITS:
        raise EpcError(
            f"SGTIN-96 EPC {text} has {len(text)} hex digits, expected {EPC_HEX_DIGITS} (96 bits)"
        )
    bits = int(text, 16)
    filter_value = (bits >> 85) & 0b111
    partition = (bits >> 82) & 0b111
    if partition >= len(PARTITIONS):
        raise EpcError(f"SGTIN-96 EPC {text} has partition {partition}; valid are 0 to 6")
    prefix_bits, prefix_digits, item_bits, item_digits = PARTITIONS[partition]
    prefix = (bits >> (_SERIAL_BITS + item_bits)) & ((1 << prefix_bits) - 1)
    item = (bits >> _SERIAL_BITS) & ((1 << item_bits) - 1)
    serial = bits & ((1 << _SERIAL_BITS) - 1)
    # The bit fields hold more values than the digit counts; a value that
    # overflows its digits is an invalid EPC, not a longer number (TDS decoding).
    if prefix >= 10**prefix_digits:
        raise EpcError(
            f"SGTIN-96 EPC {text}: company prefix {prefix} has more than "
            f"{prefix_digits} digits (partition {partition})"
        )
    if item >= 10**item_digits:
        raise EpcError(
            f"SGTIN-96 EPC {text}: item reference {item} has more than "
            f"{item_digits} digits (partition {partition})"
        )
    return Sgtin(
        epc=text,
        filter=filter_value,
        partition=partition,
        company_prefix=str(prefix).zfill(prefix_digits),
        item_reference=str(item).zfill(item_digits),
        serial=serial,
    )


def epc_to_json(epc_hex: str) -> dict[str, Any]:
    """The decoded SGTIN-96 as a JSON-ready dict (for `vmi epc decode`).

    Raises `EpcError` like `decode_sgtin96`.
    """
    sgtin = decode_sgtin96(epc_hex)
    return {
        "epc": sgtin.epc,
        "scheme": sgtin.scheme,
        "filter": sgtin.filter,
        "partition": sgtin.partition,
        "company_prefix": sgtin.company_prefix,
        "item_reference": sgtin.item_reference,
        "serial": sgtin.serial,
        "gtin14": sgtin.gtin14,
        "uri": sgtin.uri,
        "tag_uri": sgtin.tag_uri,
    }


def _not_sgtin(header: int) -> str:
    if header in _OTHER_HEADERS:
        what = f"{_OTHER_HEADERS[header]}, not decoded here"
    elif header == 0xE2:
        what = "not a GS1 EPC header; E2... is typical of a factory-default EPC copied from the TID"
    else:
        what = "not a GS1 EPC header this agent decodes"
    return f"not an SGTIN-96 EPC: header 0x{header:02X} ({what}); map the tag through tag_map"
