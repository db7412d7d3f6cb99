"""`SqliteStore`: stock levels in one SQLite file, the embedded default.

It keeps InfluxDB's semantics so the two stores pass one contract suite: a
point is identified by (site, device, location, sku, source, time in ms), a
second write of the same identity overwrites the fields it carries, and a field
the second write leaves out (raw weight, sequence number) keeps its old value,
as InfluxDB merges fields of one point. Points that line protocol cannot carry
are refused here too, so switching stores never changes what is accepted.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from cloud.errors import StoreRejected, StoreUnavailable
from cloud.timeseries.base import DeviceSeen, LevelPoint, Point
from cloud.timeseries.line_protocol import (
    bound_epoch_ms,
    from_epoch_ms,
    level_line,
    point_line,
    to_epoch_ms,
)
from cloud.timeseries.measurements import restore_types

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stock_level (
    site TEXT NOT NULL,
    device TEXT NOT NULL,
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    source TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    quantity REAL NOT NULL,
    raw_weight_g REAL,
    stable INTEGER NOT NULL,
    seq INTEGER,
    PRIMARY KEY (site, device, location, sku, source, time_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stock_level_site_sku_time ON stock_level (site, sku, time_ms);
CREATE TABLE IF NOT EXISTS point (
    measurement TEXT NOT NULL,
    tags TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (measurement, tags, time_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS point_measurement_time ON point (measurement, time_ms);
"""

# Other measurements: tags and fields as JSON; a second write of the same
# identity merges its fields into the stored ones, as InfluxDB does.
_POINT_UPSERT = """
INSERT INTO point (measurement, tags, time_ms, fields) VALUES (?, ?, ?, ?)
ON CONFLICT (measurement, tags, time_ms) DO UPDATE SET
    fields = json_patch(point.fields, excluded.fields)
"""

_POINTS = """
SELECT tags, time_ms, fields FROM point
WHERE measurement = :measurement AND time_ms >= :since
    AND (:until IS NULL OR time_ms < :until)
ORDER BY time_ms, tags
"""

# An upsert rather than INSERT OR REPLACE: REPLACE would null the optional
# fields a later write leaves out, where InfluxDB keeps them.
_UPSERT = """
INSERT INTO stock_level
    (site, device, location, sku, source, time_ms, quantity, raw_weight_g, stable, seq)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (site, device, location, sku, source, time_ms) DO UPDATE SET
    quantity = excluded.quantity,
    raw_weight_g = COALESCE(excluded.raw_weight_g, stock_level.raw_weight_g),
    stable = excluded.stable,
    seq = COALESCE(excluded.seq, stock_level.seq)
"""

# Literal SQL with parameters only: nothing a caller passes is ever spliced in.
_SERIES = """
SELECT site, device, location, sku, source, time_ms, quantity, raw_weight_g, stable, seq
FROM stock_level
WHERE site = :site AND sku = :sku AND time_ms >= :since
    AND (:until IS NULL OR time_ms < :until)
ORDER BY time_ms, location, device, source
"""

# The newest row of every series: the window function picks exactly one row
# per identity without a self-join.
_LATEST = """
SELECT site, device, location, sku, source, time_ms, quantity, raw_weight_g, stable, seq
FROM (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY site, device, location, sku, source ORDER BY time_ms DESC
    ) AS newest
    FROM stock_level
    WHERE :site IS NULL OR site = :site
)
WHERE newest = 1
ORDER BY site, sku, location, device, source
"""

_DEVICE_STATES = """
SELECT p.tags, p.time_ms, p.fields FROM point AS p
WHERE p.measurement = 'device_status' AND p.time_ms >= :since
    AND p.time_ms = (
        SELECT MAX(q.time_ms) FROM point AS q
        WHERE q.measurement = 'device_status' AND q.tags = p.tags
    )
"""

_LAST_SEEN = """
SELECT site, device, MAX(time_ms) FROM stock_level WHERE time_ms >= :since GROUP BY site, device
"""

Row = tuple[str, str, str, str, str, int, float, float | None, int, int | None]


class SqliteStore:
    """A `TimeSeriesStore` in a SQLite file (created with its folder if missing).

    One connection guarded by a lock: safe for a writer thread and reader
    threads; SQLite serialises writers anyway.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
            # WAL lets readers in other processes (the API) read while we write;
            # NORMAL sync in WAL mode survives process crashes, and a commit
            # still happens before write_levels returns.
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite store {self.path}: {exc}") from exc

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    def write_levels(self, points: Sequence[LevelPoint]) -> None:
        """Store `points` in one transaction, committed before returning."""
        rows = [_to_row(point) for point in points]
        self._execute_many(_UPSERT, rows)

    def _execute_many(self, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        with self._lock:
            try:
                with self._conn:  # commits, or rolls back on error
                    self._conn.executemany(sql, rows)
            except sqlite3.OperationalError as exc:  # locked, disk full, I/O
                raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
            except sqlite3.Error as exc:
                raise StoreRejected(f"SQLite refused the points: {exc}") from exc

    def level_series(
        self, site: str, sku: str, since: datetime, until: datetime | None = None
    ) -> list[LevelPoint]:
        """Points of one (site, SKU) in `[since, until)`, sorted by time, then location."""
        until_ms = None if until is None else bound_epoch_ms(until)
        return self._read(
            _SERIES, {"site": site, "sku": sku, "since": bound_epoch_ms(since), "until": until_ms}
        )

    def level_series_many(
        self, keys: Sequence[tuple[str, str]], since: datetime, until: datetime | None = None
    ) -> dict[tuple[str, str], list[LevelPoint]]:
        """Many (site, SKU)s' series, one indexed query each (SQLite has no round trip)."""
        return {key: self.level_series(key[0], key[1], since, until) for key in keys}

    def last_seen(self, since: datetime) -> dict[tuple[str, str], datetime]:
        """When each (site, device) last reported a level, of those seen since `since`."""
        with self._lock:
            try:
                rows = self._conn.execute(_LAST_SEEN, {"since": bound_epoch_ms(since)}).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite read failed: {exc}") from exc
        return {(site, device): from_epoch_ms(ms) for site, device, ms in rows}

    def device_states(self, since: datetime) -> dict[tuple[str, str], DeviceSeen]:
        """Each (site, device)'s newest `device_status` point since `since`."""
        with self._lock:
            try:
                rows = self._conn.execute(
                    _DEVICE_STATES, {"since": bound_epoch_ms(since)}
                ).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite read failed: {exc}") from exc
        found: dict[tuple[str, str], DeviceSeen] = {}
        for tags_json, time_ms, fields_json in rows:
            tags = dict(json.loads(tags_json))
            online = json.loads(fields_json).get("online")
            if isinstance(online, bool):
                key = (tags.get("site", ""), tags.get("device", ""))
                found[key] = DeviceSeen(online=online, at=from_epoch_ms(time_ms))
        return found

    def latest_levels(self, site: str | None = None) -> list[LevelPoint]:
        """The newest point of every series, optionally of one site."""
        return self._read(_LATEST, {"site": site})

    def _read(self, sql: str, params: dict[str, object]) -> list[LevelPoint]:
        with self._lock:
            try:
                rows: list[Row] = self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite read failed: {exc}") from exc
        return [_from_row(row) for row in rows]

    def write_points(self, points: Sequence[Point]) -> None:
        """Store points of other measurements in one transaction."""
        rows = [_point_row(point) for point in points]
        self._execute_many(_POINT_UPSERT, rows)

    def points(
        self,
        measurement: str,
        since: datetime,
        until: datetime | None = None,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> list[Point]:
        """Points of `measurement` in `[since, until)` whose tags include `tags`."""
        params = {
            "measurement": measurement,
            "since": bound_epoch_ms(since),
            "until": None if until is None else bound_epoch_ms(until),
        }
        with self._lock:
            try:
                rows = self._conn.execute(_POINTS, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite read failed: {exc}") from exc
        wanted = set((tags or {}).items())
        found = []
        for tags_json, time_ms, fields_json in rows:
            point_tags = tuple((k, v) for k, v in json.loads(tags_json))
            if not wanted <= set(point_tags):
                continue
            fields = restore_types(measurement, json.loads(fields_json))
            found.append(
                Point(
                    measurement, point_tags, tuple(sorted(fields.items())), from_epoch_ms(time_ms)
                )
            )
        return found

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._conn.close()


def _to_row(point: LevelPoint) -> Row:
    try:
        # The same checks as InfluxStore (newlines, trailing backslashes,
        # naive times, NaN, int64 range): one contract, one set of refusals.
        level_line(point)
    except ValueError as exc:
        raise StoreRejected(f"cannot write point: {exc}") from exc
    return (
        point.site,
        point.device,
        point.location,
        point.sku,
        point.source,
        to_epoch_ms(point.time),
        float(point.quantity),
        None if point.raw_weight_g is None else float(point.raw_weight_g),
        int(bool(point.stable)),
        None if point.seq is None else int(point.seq),
    )


def _point_row(point: Point) -> tuple[str, str, int, str]:
    try:
        point_line(point)  # the same refusals as InfluxStore
    except ValueError as exc:
        raise StoreRejected(f"cannot write point: {exc}") from exc
    tags = json.dumps([list(tag) for tag in point.tags], separators=(",", ":"))
    fields = json.dumps(dict(point.fields), separators=(",", ":"))
    return (point.measurement, tags, to_epoch_ms(point.time), fields)


def _from_row(row: Row) -> LevelPoint:
    site, device, location, sku, source, time_ms, quantity, raw_weight, stable, seq = row
    return LevelPoint(
        site=site,
        device=device,
        location=location,
        sku=sku,
        time=from_epoch_ms(time_ms),
        quantity=quantity,
        source=source,
        raw_weight_g=raw_weight,
        stable=bool(stable),
        seq=seq,
    )
