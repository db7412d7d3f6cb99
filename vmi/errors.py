"""Errors of the shared kernel. Each package has its own small hierarchy."""


class VmiError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(VmiError):
    """A configuration file or option is invalid; raised once, at start-up."""


class WireError(VmiError):
    """A message does not follow the wire contract.

    `reason` is a short, stable token (`bad_json`, `schema`, `version`,
    `topic_mismatch`, `topic`) used for counting and as the dead-letter topic.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
