from __future__ import annotations

import pytest

from edge_agent.rfid.presence import TagPresence, TagResolver

SGTIN = "3074257BF7194E4000001A85"  # urn:epc:id:sgtin:0614141.812345.6789


def test_a_tag_counts_after_repeated_sightings_within_the_window() -> None:
    p = TagPresence(window_s=2.0, min_sightings=2)
    p.seen("aa01", 0.0)
    assert p.present(0.1) == set(), "one sighting may be a ghost read"
    p.seen("AA01", 0.5)
    assert p.present(0.6) == {"AA01"}
    assert p.present(2.4) == {"AA01"}
    assert p.present(2.6) == set(), "gone once not seen within the window"
    p.seen("AA01", 10.0)
    assert p.present(10.0) == set(), "forgotten: counts start again"


def test_counts_per_sku_through_tag_map_and_sgtin() -> None:
    resolver = TagResolver(tag_map={"aa01": "BOLT", "AA02": "BOLT"}, gtin_map={})
    p = TagPresence(window_s=5.0, min_sightings=1)
    for tag in ("AA01", "AA02", SGTIN, "FFFF"):
        p.seen(tag, 0.0)
    counts, unknown = p.counts(1.0, resolver)
    assert counts == {"BOLT": 2, "80614141123458": 1}
    assert unknown == {"FFFF"}
    mapped = TagResolver(gtin_map={"80614141123458": "WIDGET"})
    assert mapped.sku_of(SGTIN) == "WIDGET"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="window_s"):
        TagPresence(window_s=0)
