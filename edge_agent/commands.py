"""Which commands from the cloud the agent applies: each once, while fresh, never retained.

A command is refused (and counted by the reason) when it comes in a retained
message (a retained tare would zero the shelf again on every reconnect), when
its id was applied before (QoS 1 delivers again after a reconnect), when it
expired, or when it was issued further ahead of the agent's clock than clocks
drift apart. `refusal` decides, purely; `CommandLog` remembers the ids applied
until they expire, in `<state_dir>/commands.json`, so a restart does not apply
a redelivered command again either.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from edge_agent.errors import EdgeError
from edge_agent.state_file import read_json, write_json_atomically
from vmi.wire import DeviceCommand

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the agent's clock a command may say it was issued."""


class Refusal(StrEnum):
    """Why a command was not applied."""

    RETAINED = "retained"
    REPEATED = "repeated"
    EXPIRED = "expired"
    FROM_THE_FUTURE = "from_the_future"


def refusal(
    command: DeviceCommand, *, now: datetime, seen: Mapping[str, datetime]
) -> Refusal | None:
    """Why `command` must not be applied at `now`, given the ids applied (`seen`); None: apply."""
    if command.id in seen:
        return Refusal.REPEATED
    if command.expires_at <= now:
        return Refusal.EXPIRED
    if command.issued_at > now + CLOCK_SKEW:
        return Refusal.FROM_THE_FUTURE
    return None


class CommandLog:
    """The ids of the commands applied, each kept until its command expires."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        raw = read_json(path, "command log") or {}
        try:
            self._seen = {i: datetime.fromisoformat(at) for i, at in raw.items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise EdgeError(f"command log {path} is unreadable: {exc}") from exc

    @property
    def seen(self) -> dict[str, datetime]:
        """Applied ids and when their commands expire."""
        with self._lock:
            return dict(self._seen)

    def record(self, command: DeviceCommand, now: datetime) -> None:
        """Remember `command` as applied (on disk when this returns); forget expired ones."""
        with self._lock:
            self._seen = {i: at for i, at in self._seen.items() if at > now}
            self._seen[command.id] = command.expires_at
            data = {i: at.isoformat() for i, at in sorted(self._seen.items())}
            write_json_atomically(self._path, data)
