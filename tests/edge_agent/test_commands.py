"""Which cloud commands are applied: once per id, while fresh; the ids kept on disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.commands import CLOCK_SKEW, CommandLog, Refusal, refusal
from edge_agent.errors import EdgeError
from vmi.wire import DeviceCommand

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def tare(id: str = "c-1", *, issued: datetime = NOW, minutes: float = 5) -> DeviceCommand:
    return DeviceCommand(
        id=id,
        issued_at=issued,
        expires_at=issued + timedelta(minutes=minutes),
        command="tare",
        location="A",
    )


def test_a_fresh_new_command_is_applied() -> None:
    assert refusal(tare(), now=NOW, seen={}) is None
    assert refusal(tare(issued=NOW + CLOCK_SKEW), now=NOW, seen={}) is None, "clocks drift"


@pytest.mark.parametrize(
    ("command", "seen", "why"),
    [
        (tare("c-1"), {"c-1": NOW + timedelta(minutes=5)}, Refusal.REPEATED),
        (tare(issued=NOW - timedelta(minutes=5)), {}, Refusal.EXPIRED),  # expires exactly now
        (tare(issued=NOW - timedelta(days=2)), {}, Refusal.EXPIRED),
        (tare(issued=NOW + CLOCK_SKEW + timedelta(seconds=1)), {}, Refusal.FROM_THE_FUTURE),
    ],
)
def test_refusals(command: DeviceCommand, seen: dict[str, datetime], why: Refusal) -> None:
    assert refusal(command, now=NOW, seen=seen) is why


def test_the_log_keeps_ids_until_they_expire_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state" / "commands.json"
    log = CommandLog(path)
    assert log.seen == {}
    log.record(tare("c-1", minutes=5), NOW)
    log.record(tare("c-2", minutes=60), NOW)
    again = CommandLog(path)
    assert again.seen == {"c-1": NOW + timedelta(minutes=5), "c-2": NOW + timedelta(minutes=60)}
    # Recording later forgets what expired meanwhile: the file stays small.
    again.record(tare("c-3", issued=NOW + timedelta(minutes=10)), NOW + timedelta(minutes=10))
    assert set(CommandLog(path).seen) == {"c-2", "c-3"}


def test_an_unreadable_log_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "commands.json"
    path.write_text("{not json")
    with pytest.raises(EdgeError, match="command log"):
        CommandLog(path)
