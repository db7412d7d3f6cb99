from __future__ import annotations

from edge_agent.mismatch import MismatchDetector


def test_a_lasting_disagreement_is_reported_once_per_episode() -> None:
    d = MismatchDetector(grace_s=5)
    d.update("A", "X", "scale", 10)
    assert d.check(0) == [], "no RFID count yet: nothing to compare"
    d.update("A", "X", "rfid", 10)
    assert d.check(1) == []
    d.update("A", "X", "scale", 9)  # a pick: the tag is still in the field
    assert d.check(2) == []
    assert d.check(6.9) == []
    [m] = d.check(7)
    assert (m.location, m.sku, m.by_weight, m.by_rfid) == ("A", "X", 9, 10)
    assert m.detail == "scale counts 9, RFID counts 10"
    assert d.check(20) == [], "reported once"
    d.update("A", "X", "rfid", 9)
    assert d.check(21) == []
    d.update("A", "X", "rfid", 7)
    assert d.check(22) == []
    assert len(d.check(27)) == 1, "a new episode after agreeing"


def test_a_short_disagreement_is_not_reported() -> None:
    d = MismatchDetector(grace_s=5)
    d.update("A", "X", "scale", 9)
    d.update("A", "X", "rfid", 10)
    assert d.check(0) == []
    d.update("A", "X", "rfid", 9)
    assert d.check(10) == []
