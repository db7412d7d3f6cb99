"""Errors of the cloud package."""

from vmi.errors import VmiError


class CloudError(VmiError):
    """Root of the cloud package's errors."""


class StoreError(CloudError):
    """A time-series or SQL store failed."""


class StoreUnavailable(StoreError):
    """The store cannot take the call right now; the same call may succeed later.

    Unreachable, timed out, overloaded (5xx, 429), a missing database,
    credentials refused (401, 403): none of these is about the data, so
    whatever was being written is kept and retried, never dropped. `reason`
    is a short token for counting (`unreachable`, `database_missing`,
    `unauthorized`, `forbidden`, `http_503`, ...).
    """

    def __init__(self, message: str, *, reason: str = "unavailable") -> None:
        super().__init__(message)
        self.reason = reason


class StoreRejected(StoreError):
    """The store refused the data itself or the query; retrying will not help.

    For a write, only what is wrong with the lines: bad syntax, a field type
    conflict, a partial write naming the lines it dropped.
    """
