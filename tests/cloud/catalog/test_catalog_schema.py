"""Catalog entries and files are validated once, with errors that name the entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cloud.catalog import (
    AgreementSpec,
    BindingSpec,
    CatalogFileError,
    DeviceSpec,
    LevelUnit,
    SkuSpec,
    parse_catalog,
    read_catalog_file,
)
from cloud.catalog.schema import gs1_check_digit

SAMPLE = Path(__file__).parents[3] / "cloud" / "sample-catalog.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(text, "test.yaml")
    assert str(caught.value).startswith("catalog file test.yaml is invalid:")
    return caught.value.problems


# -- GTIN ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("04006381333931", "04006381333931"),  # GTIN-14
        ("614141000012", "00614141000012"),  # GTIN-12 (UPC-A)
        ("96385074", "00000096385074"),  # GTIN-8
        ("4006 3813 3393 1", "04006381333931"),
    ],
)
def test_gtins_are_stored_as_gtin14(given: str, stored: str) -> None:
    assert SkuSpec(code="X", gtin=given).gtin == stored


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("4006381333932", "check digit should be 1, not 2"),
        ("400638133393", "check digit should be 0, not 3"),  # a GTIN-13 missing a digit
        ("40063813339", "8, 12, 13 or 14 digits"),
        ("40063813339X1", "8, 12, 13 or 14 digits"),
        (4006381333931, "quoted string"),
    ],
)
def test_bad_gtins_are_refused_saying_why(given: object, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        SkuSpec(code="X", gtin=given)


def test_check_digit_follows_gs1() -> None:
    # GS1's worked example: 629104150021 -> check digit 3.
    assert gs1_check_digit("629104150021") == 3
    assert gs1_check_digit("0000000000000") == 0


# -- entries ---------------------------------------------------------------------


def agreement(**changes: object) -> dict[str, object]:
    terms: dict[str, object] = {
        "supplier": "sup",
        "site": "site",
        "sku": "X",
        "lead_time_days": 2,
        "service_level": 0.95,
        "min_level": 1,
        "max_level": 5,
    }
    return {**terms, **changes}


def test_agreement_defaults() -> None:
    terms = AgreementSpec.model_validate(agreement())
    assert terms.key == ("site", "X")
    assert (terms.lead_time_sigma_days, terms.review_period_days) == (0.0, 0.0)
    assert terms.level_unit is LevelUnit.UNITS


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"service_level": 1.0}, "less than 1"),
        ({"service_level": 0}, "greater than 0"),
        ({"lead_time_days": 0}, "greater than 0"),
        ({"lead_time_sigma_days": -1}, "greater than or equal to 0"),
        ({"min_level": 6}, "min_level 6.0 is above max_level 5.0"),
        ({"level_unit": "weeks"}, "'units' or 'days_of_supply'"),
        ({"max_level": float("inf")}, "finite"),
    ],
)
def test_agreement_terms_are_checked(changes: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        AgreementSpec.model_validate(agreement(**changes))


def test_sku_pack_and_minimum_are_whole_positive_numbers() -> None:
    for bad in ({"pack_size": 0}, {"min_order_qty": 0}, {"unit_weight_g": 0}, {"pack_size": 1.5}):
        with pytest.raises(ValidationError):
            SkuSpec.model_validate({"code": "X", **bad})


def test_codes_follow_the_wire_alphabet() -> None:
    with pytest.raises(ValidationError, match="pattern"):
        SkuSpec(code="BOLT/M8")  # '/' would split an MQTT topic


def test_device_bindings_are_a_set() -> None:
    a, b = BindingSpec(location="A", sku="X"), BindingSpec(location="B", sku="X")
    assert DeviceSpec(code="d", site="s", bindings=(b, a)) == DeviceSpec(
        code="d", site="s", bindings=(a, b)
    )
    with pytest.raises(ValidationError, match="duplicate binding: A/X"):
        DeviceSpec(code="d", site="s", bindings=(a, a))


# -- files -----------------------------------------------------------------------


def test_the_sample_catalog_validates() -> None:
    catalog = read_catalog_file(SAMPLE)
    assert (len(catalog.suppliers), len(catalog.customers), len(catalog.sites)) == (2, 2, 3)
    assert len(catalog.skus) >= 4
    assert len(catalog.agreements) >= 4
    assert catalog.devices
    units = {a.level_unit for a in catalog.agreements}
    assert units == {LevelUnit.UNITS, LevelUnit.DAYS_OF_SUPPLY}, "shows both kinds of limit"
    labels = [label for label, _ in catalog.entries()]
    assert labels[0] == "suppliers[0]"
    assert "sites[0].locations[0]" in labels


def test_an_empty_file_is_an_empty_catalog() -> None:
    assert parse_catalog("", "empty.yaml").entries() == []


def test_unknown_keys_are_named_with_their_entry() -> None:
    assert problems("skus:\n  - code: BOLT-M8\n    colour: red\n") == [
        "skus[0] (BOLT-M8): unknown key 'colour'"
    ]
    assert problems("skuz: []\n") == ["unknown key 'skuz'"]


def test_every_problem_is_listed_with_where_it_is() -> None:
    text = """\
skus:
  - code: OK
  - code: BAD
    gtin: "4006381333932"
    pack_size: 0
agreements:
  - {supplier: s, site: north, sku: OK, lead_time_days: 2, service_level: 95,
     min_level: 1, max_level: 2}
devices:
  - code: gw
    site: north
    bindings:
      - {location: A-01}
"""
    assert problems(text) == [
        "skus[1] (BAD).gtin: GTIN 4006381333932: check digit should be 1, not 2",
        "skus[1] (BAD).pack_size: Input should be greater than or equal to 1",
        "agreements[0] (north/OK).service_level: Input should be less than 1",
        "devices[0] (gw).bindings[0]: 'sku' is required",
    ]


def test_duplicates_are_refused() -> None:
    assert problems("skus:\n  - code: A\n  - code: B\n  - code: A\n") == ["duplicate sku: A"]
    gtins = 'skus:\n  - {code: A, gtin: "4006381333931"}\n  - {code: B, gtin: "04006381333931"}\n'
    assert problems(gtins) == ["duplicate GTIN: 04006381333931"]
    locations = "sites:\n  - code: s\n    customer: c\n    locations: [{code: A}, {code: A}]\n"
    assert problems(locations) == ["sites[0] (s): duplicate location: A"]


def test_a_key_given_twice_in_one_mapping_is_refused() -> None:
    # PyYAML would silently keep the second value.
    assert problems("skus:\n  - code: A\n    pack_size: 10\n    pack_size: 100\n") == [
        "not valid YAML at line 4, column 5: key 'pack_size' appears twice in one mapping"
    ]


def test_broken_yaml_and_wrong_shapes_are_clear() -> None:
    assert problems("skus: [a\n")[0].startswith("not valid YAML at line 2")
    assert problems("- just a list\n") == ["the top level must be a mapping of sections"]
    assert problems("version: 2\n") == ["version: Input should be 1"]


def test_an_unreadable_file_is_a_catalog_file_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError, match="cannot read it"):
        read_catalog_file(tmp_path / "missing.yaml")
