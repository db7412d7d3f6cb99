"""Errors of the shared kernel. Each package has its own small hierarchy."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vmi.wire import DeadLetterReason


class VmiError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(VmiError):
    """A configuration file or option is invalid; raised once, at start-up."""


class WireError(VmiError):
    """A message does not follow the wire contract.

    `reason` (a `vmi.wire.DeadLetterReason`) is counted and names the
    dead-letter topic; `detail` says what exactly is wrong.
    """

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
