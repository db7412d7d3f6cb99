"""Errors of the cloud package."""

from vmi.errors import VmiError


class CloudError(VmiError):
    """Root of the cloud package's errors."""


class StoreError(CloudError):
    """A time-series or SQL store failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now; the same call may succeed later."""


class StoreRejected(StoreError):
    """The store refused the data or the query; retrying will not help."""
