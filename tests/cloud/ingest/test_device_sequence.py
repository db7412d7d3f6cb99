from __future__ import annotations

from cloud.ingest.sequence import SequenceTracker


def test_gaps_and_replays_per_device() -> None:
    t = SequenceTracker()
    for seq in (41, 42, 45, 43, 45, 46):
        t.see("s", "d", seq)
    t.see("s", "other", 7)
    d = t.devices[("s", "d")]
    assert (d.highest, d.messages, d.gaps, d.replays) == (46, 6, 2, 2)
    assert (t.gaps, t.replays) == (2, 2)
    assert t.devices[("s", "other")].highest == 7
