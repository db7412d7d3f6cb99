"""The time-series store interface: one contract, several implementations.

`InfluxStore` (production, InfluxDB v1 HTTP API) and `SqliteStore` (the
embedded default) both satisfy `TimeSeriesStore`, and one contract test suite
(`tests/cloud/timeseries/test_store_contract.py`) runs against both.

A level point is identified by (site, device, location, sku, source, time):
writing the same point again overwrites the fields the new write carries and
keeps the others, as InfluxDB does, so replays and duplicates are harmless.
Times are kept to the millisecond (truncated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

LEVEL_MEASUREMENT = "stock_level"

FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class LevelPoint:
    """One stored absolute stock level."""

    site: str
    device: str
    location: str
    sku: str
    time: datetime  # timezone-aware, UTC
    quantity: float
    source: str = "scale"
    raw_weight_g: float | None = None
    stable: bool = True
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceSeen:
    """A device's newest status: online or not, as of `at`."""

    online: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Point:
    """One point of any measurement other than `stock_level` (events, status,
    projections, health). Build them with `measurements.<M>.point(...)`.

    Identified like an InfluxDB point: measurement, tag set and time (ms).
    """

    measurement: str
    tags: tuple[tuple[str, str], ...]  # sorted by key, no empty values
    fields: tuple[tuple[str, FieldValue], ...]  # sorted by key
    time: datetime  # timezone-aware, UTC

    def tag(self, key: str) -> str | None:
        return dict(self.tags).get(key)

    def field(self, key: str) -> FieldValue | None:
        return dict(self.fields).get(key)


class TimeSeriesStore(Protocol):
    """Where stock levels are written and read back."""

    def write_levels(self, points: Sequence[LevelPoint]) -> None:
        """Write points durably; return only once they are stored.

        Raises `StoreUnavailable` when the store cannot be reached (retry later)
        and `StoreRejected` when it refuses the data. A failed call may have
        written some points; writing them again is harmless.
        """
        ...

    def level_series(
        self, site: str, sku: str, since: datetime, until: datetime | None = None
    ) -> list[LevelPoint]:
        """Points of one (site, SKU), all locations and devices, in `[since, until)`.

        Sorted by time, then location.
        """
        ...

    def level_series_many(
        self, keys: Sequence[tuple[str, str]], since: datetime, until: datetime | None = None
    ) -> dict[tuple[str, str], list[LevelPoint]]:
        """`level_series(site, sku, since, until)` of many (site, SKU)s in one round trip.

        Every key is in the answer (an empty list when it has no points).
        """
        ...

    def last_seen(self, since: datetime) -> dict[tuple[str, str], datetime]:
        """When each (site, device) last reported a level, of those seen since `since`."""
        ...

    def device_states(self, since: datetime) -> dict[tuple[str, str], DeviceSeen]:
        """Each (site, device)'s newest `device_status` since `since`: online or not, and when."""
        ...

    def latest_levels(self, site: str | None = None) -> list[LevelPoint]:
        """The newest point of every (site, device, location, sku, source).

        Optionally only those of one site.
        """
        ...

    def write_points(self, points: Sequence[Point]) -> None:
        """Write points of other measurements durably, with the same
        errors and idempotence as `write_levels`."""
        ...

    def points(
        self,
        measurement: str,
        since: datetime,
        until: datetime | None = None,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> list[Point]:
        """Points of `measurement` in `[since, until)` whose tags include `tags`.

        Sorted by time, then tag set.
        """
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class LineProtocolStore(Protocol):
    """A store that also takes InfluxDB line protocol as it is (a capability, not a type).

    The collector renders a message's lines as it decodes it when its store
    has this capability, and writes them as they are: no point objects on
    the hot path. Lines follow `cloud/timeseries/line_protocol.py`.
    """

    def write_lines(self, lines: Sequence[str]) -> None:
        """Write pre-rendered lines (precision ms) in one write; may raise `StoreError`."""
        ...


@runtime_checkable
class DatabaseCreator(Protocol):
    """A store whose database can be created (again) by its client: InfluxDB 1.x.

    InfluxDB 2.x (buckets behind a DBRP mapping) and 3.x refuse `CREATE
    DATABASE`; set `create_database = false` for them.
    """

    def ensure_database(self) -> None:
        """Create the database if it does not exist; may raise `StoreError`."""
        ...
