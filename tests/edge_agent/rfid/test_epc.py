"""SGTIN-96 decoding: the GS1 worked example, every partition round-tripped
through an independent encoder, check digits, and every rejection."""

from __future__ import annotations

import argparse
import json
import random

import pytest

from edge_agent.errors import EdgeError
from edge_agent.rfid import (
    PARTITIONS,
    EpcError,
    Sgtin,
    decode_sgtin96,
    epc_to_json,
    gs1_check_digit,
    is_sgtin96,
)
from edge_agent.rfid.epc_cli import main as epc_main
from vmi.errors import VmiError

pytestmark = pytest.mark.timeout(30)

# GS1 EPC Tag Data Standard, Annex E (worked example): filter 3, company prefix
# 0614141 (7 digits, partition 5), indicator 8 + item reference 12345, serial 6789.
GS1_EXAMPLE = "3074257BF7194E4000001A85"

# (prefix bits, prefix digits, item bits, item digits) straight from the TDS
# partition table, written out again so a typo in the module's table shows.
TDS_PARTITIONS = [
    (40, 12, 4, 1),
    (37, 11, 7, 2),
    (34, 10, 10, 3),
    (30, 9, 14, 4),
    (27, 8, 17, 5),
    (24, 7, 20, 6),
    (20, 6, 24, 7),
]


def encode_sgtin96(
    *, filter_value: int, partition: int, prefix: int, item: int, serial: int, header: int = 0x30
) -> str:
    """Encoder for the tests: packs the fields MSB first, no range checks
    beyond the bit widths (so tests can build deliberately invalid EPCs)."""
    prefix_bits, _, item_bits, _ = TDS_PARTITIONS[partition % 7]
    if partition == 7:
        prefix_bits, item_bits = 20, 24
    fields = [
        (header, 8),
        (filter_value, 3),
        (partition, 3),
        (prefix, prefix_bits),
        (item, item_bits),
        (serial, 38),
    ]
    bits = 0
    for value, width in fields:
        assert 0 <= value < 1 << width, (value, width)
        bits = (bits << width) | value
    return f"{bits:024X}"


def test_gs1_worked_example() -> None:
    sgtin = decode_sgtin96(GS1_EXAMPLE)
    assert sgtin == Sgtin(
        epc=GS1_EXAMPLE,
        filter=3,
        partition=5,
        company_prefix="0614141",
        item_reference="812345",
        serial=6789,
    )
    assert sgtin.scheme == "sgtin-96"
    assert sgtin.indicator == "8"
    assert sgtin.uri == "urn:epc:id:sgtin:0614141.812345.6789"
    assert sgtin.tag_uri == "urn:epc:tag:sgtin-96:3.0614141.812345.6789"
    assert sgtin.gtin14 == "80614141123458"


def test_encoder_reproduces_the_gs1_example() -> None:
    hex_epc = encode_sgtin96(filter_value=3, partition=5, prefix=614141, item=812345, serial=6789)
    assert hex_epc == GS1_EXAMPLE


def test_lower_case_and_whitespace_are_accepted() -> None:
    assert decode_sgtin96(f"  {GS1_EXAMPLE.lower()}\n").epc == GS1_EXAMPLE


def test_partition_table_matches_the_standard() -> None:
    assert list(PARTITIONS) == TDS_PARTITIONS
    for prefix_bits, prefix_digits, item_bits, item_digits in PARTITIONS:
        assert prefix_bits + item_bits == 44
        assert prefix_digits + item_digits == 13


@pytest.mark.parametrize("partition", range(7))
def test_round_trip_every_partition(partition: int) -> None:
    rng = random.Random(0)
    _, prefix_digits, _, item_digits = TDS_PARTITIONS[partition]
    for _ in range(200):
        filter_value = rng.randrange(8)
        prefix = rng.randrange(10**prefix_digits)
        item = rng.randrange(10**item_digits)
        serial = rng.randrange(1 << 38)
        epc = encode_sgtin96(
            filter_value=filter_value, partition=partition, prefix=prefix, item=item, serial=serial
        )
        sgtin = decode_sgtin96(epc)
        assert sgtin.filter == filter_value
        assert sgtin.partition == partition
        assert sgtin.company_prefix == str(prefix).zfill(prefix_digits)
        assert sgtin.item_reference == str(item).zfill(item_digits)
        assert sgtin.serial == serial
        gtin = sgtin.gtin14
        assert len(gtin) == 14
        assert gtin[0] == sgtin.item_reference[0]
        assert gtin[1 : 1 + prefix_digits] == sgtin.company_prefix
        assert gtin[1 + prefix_digits : 13] == sgtin.item_reference[1:]
        assert int(gtin[13]) == gs1_check_digit(gtin[:13])
        assert (
            sgtin.uri == f"urn:epc:id:sgtin:{sgtin.company_prefix}.{sgtin.item_reference}.{serial}"
        )


@pytest.mark.parametrize("partition", range(7))
def test_largest_values_that_fit_each_partition(partition: int) -> None:
    _, prefix_digits, _, item_digits = TDS_PARTITIONS[partition]
    epc = encode_sgtin96(
        filter_value=7,
        partition=partition,
        prefix=10**prefix_digits - 1,
        item=10**item_digits - 1,
        serial=(1 << 38) - 1,
    )
    sgtin = decode_sgtin96(epc)
    assert sgtin.company_prefix == "9" * prefix_digits
    assert sgtin.item_reference == "9" * item_digits
    assert sgtin.serial == 274_877_906_943


@pytest.mark.parametrize("partition", range(7))
def test_prefix_with_too_many_digits_is_rejected(partition: int) -> None:
    prefix_bits, prefix_digits, _, _ = TDS_PARTITIONS[partition]
    too_big = 10**prefix_digits
    assert too_big < 1 << prefix_bits  # the bit field can hold it; the digits cannot
    epc = encode_sgtin96(filter_value=1, partition=partition, prefix=too_big, item=0, serial=1)
    with pytest.raises(EpcError, match=f"company prefix {too_big} has more than {prefix_digits}"):
        decode_sgtin96(epc)


@pytest.mark.parametrize("partition", range(7))
def test_item_reference_with_too_many_digits_is_rejected(partition: int) -> None:
    _, _, item_bits, item_digits = TDS_PARTITIONS[partition]
    too_big = 10**item_digits
    assert too_big < 1 << item_bits
    epc = encode_sgtin96(filter_value=1, partition=partition, prefix=0, item=too_big, serial=1)
    with pytest.raises(EpcError, match=f"item reference {too_big} has more than {item_digits}"):
        decode_sgtin96(epc)


def test_partition_7_is_rejected() -> None:
    epc = encode_sgtin96(filter_value=1, partition=7, prefix=1, item=1, serial=1)
    with pytest.raises(EpcError, match="partition 7; valid are 0 to 6"):
        decode_sgtin96(epc)


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("8061414112345", 8),  # the GS1 example's GTIN 80614141123458
        ("0061414112345", 2),  # 00614141123452, the same item at indicator 0
        ("400638133393", 1),  # EAN-13 4006381333931
        ("0400638133393", 1),  # ... as a GTIN-14 (a leading zero changes nothing)
        ("9501101020917", 6),  # hand-computed in the next test
        ("0000000000000", 0),
        ("0000000000001", 7),  # 1*3 = 3 -> 7
        ("0000000000010", 9),  # 1*1 = 1 -> 9
    ],
)
def test_check_digit(body: str, check: int) -> None:
    assert gs1_check_digit(body) == check


def test_check_digit_by_hand() -> None:
    # 9501101020917, digits from the right times 3, 1, 3, ...:
    # 7*3 + 1*1 + 9*3 + 0*1 + 2*3 + 0*1 + 1*3 + 0*1 + 1*3 + 1*1 + 0*3 + 5*1 + 9*3 = 94
    total = 21 + 1 + 27 + 0 + 6 + 0 + 3 + 0 + 3 + 1 + 0 + 5 + 27
    assert total == 94
    assert gs1_check_digit("9501101020917") == (10 - 94 % 10) % 10 == 6


@pytest.mark.parametrize("body", ["", "12a4", "１２３", "-123"])
def test_check_digit_needs_digits(body: str) -> None:
    with pytest.raises(ValueError, match="string of digits"):
        gs1_check_digit(body)


@pytest.mark.parametrize(
    ("epc", "message"),
    [
        ("E28068940000500A9D2298C6", "not an SGTIN-96 EPC: header 0xE2 (not a GS1 EPC header"),
        ("E2003412B802011834501234", "copied from the TID"),
        ("3174257BF7194E4000001A85", "header 0x31 (SSCC-96"),
        ("3674257BF6B7A659B2C2BF1000000000000000000000000000", "header 0x36 (SGTIN-198"),
        ("000000000000000000000000", "header 0x00 (unprogrammed"),
        ("AD0000000000000000000000", "header 0xAD (not a GS1 EPC header this agent decodes"),
    ],
)
def test_non_sgtin_headers_are_rejected_clearly(epc: str, message: str) -> None:
    with pytest.raises(EpcError, match=message.replace("(", r"\(").replace(".", r"\.")) as info:
        decode_sgtin96(epc)
    assert "tag_map" in str(info.value)
    assert not is_sgtin96(epc)


@pytest.mark.parametrize(
    "epc", [GS1_EXAMPLE[:-1], GS1_EXAMPLE + "0", GS1_EXAMPLE + "00000000", "3", "30", "3074"]
)
def test_wrong_length_is_rejected(epc: str) -> None:
    with pytest.raises(EpcError, match=rf"has {len(epc)} hex digits, expected 24 \(96 bits\)"):
        decode_sgtin96(epc)


@pytest.mark.parametrize(
    "epc", ["", "   ", "3074257BF7194E4000001A8G", "0x3074257BF7194E4000001A85", "30 74 25", "é"]
)
def test_non_hex_is_rejected(epc: str) -> None:
    with pytest.raises(EpcError, match=r"empty EPC|not hexadecimal"):
        decode_sgtin96(epc)


def test_epc_error_is_an_edge_and_vmi_error() -> None:
    assert issubclass(EpcError, EdgeError)
    assert issubclass(EpcError, VmiError)


def test_is_sgtin96() -> None:
    assert is_sgtin96(GS1_EXAMPLE)
    assert not is_sgtin96("nonsense")


def test_random_hex_never_raises_anything_but_epc_error() -> None:
    rng = random.Random(0)
    decoded = 0
    for _ in range(2000):
        header = rng.choice(["30", "E2", f"{rng.randrange(256):02X}"])
        epc = header + "".join(rng.choice("0123456789ABCDEF") for _ in range(22))
        try:
            sgtin = decode_sgtin96(epc)
        except EpcError:
            continue
        decoded += 1
        assert len(sgtin.gtin14) == 14
    assert decoded > 0


def test_epc_to_json() -> None:
    assert epc_to_json(GS1_EXAMPLE.lower()) == {
        "epc": GS1_EXAMPLE,
        "scheme": "sgtin-96",
        "filter": 3,
        "partition": 5,
        "company_prefix": "0614141",
        "item_reference": "812345",
        "serial": 6789,
        "gtin14": "80614141123458",
        "uri": "urn:epc:id:sgtin:0614141.812345.6789",
        "tag_uri": "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
    }


def test_cli_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert epc_main(argparse.Namespace(epc=GS1_EXAMPLE)) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == epc_to_json(GS1_EXAMPLE)


def test_cli_raises_epc_error_for_a_tid_epc(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(EpcError, match="header 0xE2"):
        epc_main(argparse.Namespace(epc="E28068940000500A9D2298C6"))
    assert capsys.readouterr().out == ""
