"""Per-device sequence tracking: gaps (messages never seen) and replays. Pure.

The edge numbers its readings messages; a jump forward is a gap (messages
lost, or still on their way), a number at or below the highest seen is a
replay (an outbox resend after a crash, a broker redelivery, or reordering).
Both are harmless to the data (levels are absolute) but worth watching.

This is one collector's view: behind a shared subscription each collector
sees only part of every device's stream, so gaps are expected there; the
`seq` field stored with every level is the complete record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeviceSequence:
    highest: int = 0
    messages: int = 0
    gaps: int = 0  # messages skipped over
    replays: int = 0


class SequenceTracker:
    def __init__(self) -> None:
        self.devices: dict[tuple[str, str], DeviceSequence] = {}

    def see(self, site: str, device: str, seq: int) -> None:
        d = self.devices.setdefault((site, device), DeviceSequence())
        d.messages += 1
        if d.messages == 1:
            d.highest = seq  # a collector starts anywhere in a device's stream
        elif seq > d.highest:
            d.gaps += seq - d.highest - 1
            d.highest = seq
        else:
            d.replays += 1

    @property
    def gaps(self) -> int:
        return sum(d.gaps for d in self.devices.values())

    @property
    def replays(self) -> int:
        return sum(d.replays for d in self.devices.values())
