"""Time-series stores of stock levels: InfluxDB in production, SQLite embedded.

`open_store(url)` picks the implementation from a URL:

* `http://host:8086/<database>` (or `https://`): `InfluxStore`, creating the
  database if needed (unless `create_database` is false);
* `sqlite:///path/to/levels.db`: `SqliteStore` (`sqlite:///relative.db` is
  relative to the working directory, `sqlite:////abs/path.db` absolute).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from cloud.timeseries.base import LEVEL_MEASUREMENT, LevelPoint, TimeSeriesStore
from cloud.timeseries.influx import InfluxStore
from cloud.timeseries.sqlite import SqliteStore
from vmi.errors import ConfigError

__all__ = [
    "LEVEL_MEASUREMENT",
    "InfluxStore",
    "LevelPoint",
    "SqliteStore",
    "TimeSeriesStore",
    "open_store",
]


def open_store(
    url: str, *, create_database: bool = True, token: str | None = None
) -> TimeSeriesStore:
    """Open the store `url` names; raise `ConfigError` for anything else.

    Opening an InfluxStore with `create_database` talks to the server (CREATE
    DATABASE), so it may also raise `StoreUnavailable` or `StoreRejected`.
    `token`: InfluxDB 2.x/3.x API token (`Authorization: Token ...`).
    """
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        store = InfluxStore(url, token=token)
        if not create_database:
            return store
        try:
            store.ensure_database()
        except BaseException:
            store.close()
            raise
        return store
    if parts.scheme == "sqlite":
        # sqlite:///x.db -> "/x.db" after the empty host; like SQLAlchemy,
        # three slashes mean relative and four mean absolute.
        if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
            raise ConfigError(f"SQLite store URL must be sqlite:///path/to/file.db: {url!r}")
        return SqliteStore(unquote(parts.path[1:]))
    raise ConfigError(
        f"unknown time-series store URL {url!r}: use http://host:port/<database> "
        "for InfluxDB or sqlite:///path/to/file.db for SQLite"
    )
