"""`InfluxStore`: stock levels in InfluxDB through the v1 HTTP API.

Writes are line protocol (`POST /write`, precision ms, gzip, up to 5000 lines
per request, keep-alive); reads are InfluxQL (`GET /query`, epoch ms). Every
InfluxDB generation serves these endpoints (1.x natively, 2.x and 3.x through
their v1 compatibility APIs), so this one class covers them all.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from cloud.errors import StoreError, StoreRejected, StoreUnavailable
from cloud.timeseries.base import LEVEL_MEASUREMENT, DeviceSeen, FieldValue, LevelPoint, Point
from cloud.timeseries.line_protocol import (
    MAX_TIME_MS,
    MIN_TIME_MS,
    bound_epoch_ms,
    from_epoch_ms,
    level_line,
    point_line,
    quote_ident,
    quote_string,
)
from cloud.timeseries.measurements import restore_types
from vmi.errors import ConfigError

# Read in chunks so a server's `max-row-limit` cannot silently truncate a
# long series: non-chunked answers stop at the limit (flagged only "partial").
_CHUNK_SIZE = 10_000
# Statuses that say the request itself (the lines, the query) is wrong:
# 400 from 1.x and the v1 API of 2.x/3.x, 422 from 2.x for unprocessable points.
# Every other failure (401, 403, 404, 408, 413, 429, 5xx) is about the server.
_REJECTED = frozenset({400, 422})
_TOO_LARGE = 413
# InfluxDB's words for a database that does not exist (1.x: "database not
# found", 2.x: "bucket ... not found").
_MISSING = ("database not found", "bucket not found", "not found: database")
_TAGS = ("site", "device", "location", "sku", "source")
# Keys per query of level_series_many: keeps each query a few kilobytes.
_KEYS_PER_QUERY = 100
_GZIP_LEVEL = 1


class InfluxStore:
    """A `TimeSeriesStore` on InfluxDB; `url` is `http(s)://host:port/<database>`.

    Credentials: `username`/`password` (or `user:pass@` in the URL) are sent
    as HTTP basic auth (1.x, 3.x); `token` is sent as `Authorization: Token`
    (2.x v1 compatibility, 3.x).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        batch_lines: int = 5000,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        database = unquote(parts.path.strip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname or not database:
            raise ConfigError(f"not an InfluxDB URL (http://host:port/<database>): {url!r}")
        if "/" in database:
            raise ConfigError(f"InfluxDB URL must name exactly one database: {url!r}")
        if batch_lines < 1:
            raise ConfigError(f"batch_lines must be at least 1, not {batch_lines}")
        if username is None and parts.username is not None:
            username = unquote(parts.username)
            password = unquote(parts.password or "")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        port = f":{parts.port}" if parts.port else ""
        self.base_url = f"{parts.scheme}://{host}{port}"
        self.database = database
        self.batch_lines = batch_lines
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username is not None else None
        # One client for the store's life: keep-alive saves a TCP (and TLS)
        # handshake per batch.
        self._client = httpx.Client(
            base_url=self.base_url, timeout=timeout_s, headers=headers, auth=auth
        )

    def __repr__(self) -> str:
        return f"InfluxStore({self.base_url}/{self.database})"

    # -- writing ---------------------------------------------------------

    def ensure_database(self) -> None:
        """Create the database if it does not exist (CREATE DATABASE is idempotent)."""
        self._query(f"CREATE DATABASE {quote_ident(self.database)}", method="POST")

    def write_levels(self, points: Sequence[LevelPoint]) -> None:
        """Write `points` in gzip batches of at most `batch_lines` lines.

        Raises `StoreRejected` before sending anything when a point cannot be
        written as line protocol (for example a tag value with a newline).
        """
        try:
            lines = [level_line(point) for point in points]
        except ValueError as exc:
            raise StoreRejected(f"cannot write point: {exc}") from exc
        self._write_lines(lines)

    def write_points(self, points: Sequence[Point]) -> None:
        """Write points of any declared measurement, like `write_levels`."""
        try:
            lines = [point_line(point) for point in points]
        except ValueError as exc:
            raise StoreRejected(f"cannot write point: {exc}") from exc
        self._write_lines(lines)

    def write_lines(self, lines: Sequence[str]) -> None:
        """Write pre-rendered `stock_level`/point lines (precision ms), like `write_levels`.

        The collector's hot path renders lines as messages arrive
        (`line_protocol.level_lines`) and writes them here in one go.
        """
        self._write_lines(lines)

    def _write_lines(self, lines: Sequence[str]) -> None:
        for start in range(0, len(lines), self.batch_lines):
            self._write_lines_or_halves(lines[start : start + self.batch_lines])

    def _write_lines_or_halves(self, lines: Sequence[str]) -> None:
        """Write `lines` in one request; if the server finds it too large (413),
        in halves, down to single lines (a 413 then means a misconfigured server)."""
        body = "\n".join(lines).encode()
        # zlib writes the gzip wrapper itself (wbits 31): one C call, no
        # separate CRC pass. Level 1: line protocol still shrinks ~11x (~15x at 5),
        # at a fraction of the CPU of higher levels.
        try:
            self._write_body(zlib.compress(body, _GZIP_LEVEL, wbits=31))
        except StoreUnavailable as exc:
            if exc.reason != "too_large" or len(lines) < 2:
                raise
            middle = len(lines) // 2
            self._write_lines_or_halves(lines[:middle])
            self._write_lines_or_halves(lines[middle:])

    def _write_body(self, compressed: bytes) -> None:
        response = self._send(
            "POST",
            "/write",
            params={"db": self.database, "precision": "ms"},
            content=compressed,
            headers={
                "Content-Encoding": "gzip",
                "Content-Type": "text/plain; charset=utf-8",
            },
        )
        self._check_status(response, "write")

    # -- reading ---------------------------------------------------------

    def level_series(
        self, site: str, sku: str, since: datetime, until: datetime | None = None
    ) -> list[LevelPoint]:
        """Points of one (site, SKU) in `[since, until)`, sorted by time, then location."""
        where = [
            f"{quote_ident('site')} = {quote_string(site)}",
            f"{quote_ident('sku')} = {quote_string(sku)}",
            f"time >= {_clamp(bound_epoch_ms(since))}ms",
        ]
        if until is not None:
            where.append(f"time < {_clamp(bound_epoch_ms(until))}ms")
        points = list(self._select(" AND ".join(where), latest_only=False))
        points.sort(key=lambda p: (p.time, p.location, p.device, p.source))
        return points

    def level_series_many(
        self, keys: Sequence[tuple[str, str]], since: datetime, until: datetime | None = None
    ) -> dict[tuple[str, str], list[LevelPoint]]:
        """Many (site, SKU)s' series in one query per `_KEYS_PER_QUERY` keys."""
        found: dict[tuple[str, str], list[LevelPoint]] = {key: [] for key in keys}
        wanted = sorted(found)
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            pairs = " OR ".join(
                f"({quote_ident('site')} = {quote_string(site)} AND "
                f"{quote_ident('sku')} = {quote_string(sku)})"
                for site, sku in wanted[start : start + _KEYS_PER_QUERY]
            )
            where = f"time >= {_clamp(bound_epoch_ms(since))}ms AND ({pairs})"
            if until is not None:
                where = f"time < {_clamp(bound_epoch_ms(until))}ms AND {where}"
            for point in self._select(where, latest_only=False):
                bucket = found.get((point.site, point.sku))
                if bucket is not None:
                    bucket.append(point)
        for points in found.values():
            points.sort(key=lambda p: (p.time, p.location, p.device, p.source))
        return found

    def last_seen(self, since: datetime) -> dict[tuple[str, str], datetime]:
        """One row per (site, device): `last(quantity)` of the levels."""
        last = self._last_per_device(LEVEL_MEASUREMENT, "quantity", since)
        return {key: at for key, (at, _) in last.items()}

    def device_states(self, since: datetime) -> dict[tuple[str, str], DeviceSeen]:
        """One row per (site, device): `last(online)` of the device statuses."""
        last = self._last_per_device("device_status", "online", since)
        return {
            key: DeviceSeen(online=value, at=at)
            for key, (at, value) in last.items()
            if isinstance(value, bool)
        }

    def _last_per_device(
        self, measurement: str, field: str, since: datetime
    ) -> dict[tuple[str, str], tuple[datetime, object]]:
        """The newest `field` of `measurement` per (site, device) since `since`, and its time:
        `last()` grouped by those two tags only."""
        text = (
            f"SELECT last({quote_ident(field)}) FROM {quote_ident(measurement)} "  # noqa: S608
            f"WHERE time >= {_clamp(bound_epoch_ms(since))}ms "
            f"GROUP BY {quote_ident('site')}, {quote_ident('device')}"
        )
        found: dict[tuple[str, str], tuple[datetime, object]] = {}
        for result in self._query(text):
            for series in result.get("series", ()):
                tags = series.get("tags") or {}
                for row in series.get("values") or ():
                    key = (tags.get("site", ""), tags.get("device", ""))
                    found[key] = (from_epoch_ms(int(row[0])), row[1])
        return found

    def latest_levels(self, site: str | None = None) -> list[LevelPoint]:
        """The newest point of every series, optionally of one site."""
        where = None if site is None else f"{quote_ident('site')} = {quote_string(site)}"
        points = list(self._select(where, latest_only=True))
        points.sort(key=lambda p: (p.site, p.sku, p.location, p.device, p.source))
        return points

    def points(
        self,
        measurement: str,
        since: datetime,
        until: datetime | None = None,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> list[Point]:
        """Points of `measurement` in `[since, until)` whose tags include `tags`."""
        where = [f"time >= {_clamp(bound_epoch_ms(since))}ms"]
        if until is not None:
            where.append(f"time < {_clamp(bound_epoch_ms(until))}ms")
        for key, value in sorted((tags or {}).items()):
            where.append(f"{quote_ident(key)} = {quote_string(value)}")
        text = (
            f"SELECT * FROM {quote_ident(measurement)} "  # noqa: S608
            f"WHERE {' AND '.join(where)} GROUP BY *"
        )
        found: list[Point] = []
        for result in self._query(text):
            for series in result.get("series", ()):
                found.extend(_generic_points(measurement, series))
        found.sort(key=lambda p: (p.time, p.tags))
        return found

    def _select(self, where: str | None, *, latest_only: bool) -> Iterator[LevelPoint]:
        # GROUP BY * puts every tag in the series' `tags` (absent ones as "")
        # and leaves only fields as columns, so a field can never be confused
        # with a tag. With ORDER BY time DESC LIMIT 1 the limit applies per
        # series: one newest row per series, all its fields from that row.
        # Values reach the text only through quote_string/quote_ident.
        text = f"SELECT * FROM {quote_ident(LEVEL_MEASUREMENT)}"  # noqa: S608
        if where:
            text += f" WHERE {where}"
        text += " GROUP BY *"
        if latest_only:
            text += " ORDER BY time DESC LIMIT 1"
        for result in self._query(text):
            for series in result.get("series", ()):
                yield from _series_points(series)

    # -- HTTP ------------------------------------------------------------

    def _query(self, text: str, *, method: str = "GET") -> list[Mapping[str, Any]]:
        """Run InfluxQL; return the statement results of all chunks."""
        params = {
            "db": self.database,
            "q": text,
            "epoch": "ms",
            "chunked": "true",
            "chunk_size": str(_CHUNK_SIZE),
        }
        response = self._send(method, "/query", params=params)
        self._check_status(response, "query")
        results: list[Mapping[str, Any]] = []
        # A chunked answer is one JSON document per line.
        for raw in response.text.splitlines():
            if not raw.strip():
                continue
            try:
                document = json.loads(raw)
            except ValueError as exc:
                raise StoreUnavailable(
                    f"InfluxDB sent a malformed answer: {raw[:200]!r}", reason="bad_answer"
                ) from exc
            if "error" in document:
                raise _query_error(str(document["error"]))
            for result in document.get("results", ()):
                if "error" in result:
                    raise _query_error(str(result["error"]))
                results.append(result)
        return results

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # connect, read, timeouts, protocol
            reason = "timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable"
            raise StoreUnavailable(
                f"InfluxDB at {self.base_url} unreachable: {type(exc).__name__}: {exc}",
                reason=reason,
            ) from exc

    def _check_status(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status < 300:
            return
        detail = _error_text(response)
        message = f"InfluxDB {what} failed with HTTP {status}: {detail}"
        if status in _REJECTED and not _names_missing_database(detail):
            raise StoreRejected(message)
        raise StoreUnavailable(message, reason=_unavailable_reason(status, detail))

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()


def _names_missing_database(detail: str) -> bool:
    lowered = detail.lower()
    return any(words in lowered for words in _MISSING)


def _unavailable_reason(status: int, detail: str) -> str:
    """The counting token of a failure that is not about the data."""
    if status == 404 or _names_missing_database(detail):
        return "database_missing"
    if status == _TOO_LARGE:
        return "too_large"
    return {401: "unauthorized", 403: "forbidden"}.get(status, f"http_{status}")


def _query_error(detail: str) -> StoreError:
    """A query's own error: a missing database is the server's state, not the query's fault."""
    if _names_missing_database(detail):
        return StoreUnavailable(f"InfluxDB: {detail}", reason="database_missing")
    return StoreRejected(f"InfluxDB refused the query: {detail}")


def _clamp(time_ms: int) -> int:
    # InfluxQL refuses times beyond its int64 nanoseconds ("overflowed
    # duration"); nothing is stored out there, so clamping changes no answer.
    return min(max(time_ms, MIN_TIME_MS), MAX_TIME_MS)


def _error_text(response: httpx.Response) -> str:
    """The server's error message: JSON `error`/`message`, else the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return response.text.strip()[:500] or response.headers.get("X-Influxdb-Error", "")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _series_points(series: Mapping[str, Any]) -> Iterator[LevelPoint]:
    tags: Mapping[str, str] = series.get("tags") or {}
    columns: list[str] = series["columns"]
    index = {name: i for i, name in enumerate(columns)}
    site, device, location, sku, source = (tags.get(tag, "") for tag in _TAGS)

    def field(row: list[Any], name: str) -> Any:
        i = index.get(name)
        return None if i is None else row[i]

    for row in series.get("values") or ():
        quantity = field(row, "quantity")
        raw_weight = field(row, "raw_weight_g")
        seq = field(row, "seq")
        stable = field(row, "stable")
        # InfluxDB checks field types per shard only, so a foreign write can
        # leave a string `quantity` in some other week, or a point with no
        # quantity at all. Such rows are not levels: skip them.
        if not _is_number(quantity) or not (raw_weight is None or _is_number(raw_weight)):
            continue
        yield LevelPoint(
            site=site,
            device=device,
            location=location,
            sku=sku,
            # JSON has one number type: 12.0 arrives as 12, so floats are re-made.
            time=from_epoch_ms(int(row[index["time"]])),
            quantity=float(quantity),
            source=source,
            raw_weight_g=None if raw_weight is None else float(raw_weight),
            stable=stable if isinstance(stable, bool) else True,
            seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        )


def _generic_points(measurement: str, series: Mapping[str, Any]) -> Iterator[Point]:
    tags = tuple(sorted((k, v) for k, v in (series.get("tags") or {}).items() if v))
    columns: list[str] = series["columns"]
    for row in series.get("values") or ():
        fields: list[tuple[str, FieldValue]] = []
        for name, value in zip(columns, row, strict=True):
            if name != "time" and value is not None:
                fields.append((name, value))
        restored = restore_types(measurement, dict(fields))
        yield Point(measurement, tags, tuple(sorted(restored.items())), from_epoch_ms(int(row[0])))
