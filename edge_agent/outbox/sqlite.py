"""An outbox on disk (SQLite in WAL mode): messages survive a crash or power cut.

Each `add` is committed with `synchronous=FULL` before it returns. Which
messages are in flight is kept in memory only: after a restart every message
still on disk is sent again (the broker never acknowledged it, as far as we
know), which is safe because levels are absolute and writes idempotent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from edge_agent.errors import EdgeError
from edge_agent.outbox.base import OutboxBookkeeping, OutboxItem, OutboxLimits, OverflowPolicy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: order survives deletes
    topic   TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL
)
"""


class SqliteOutbox(OutboxBookkeeping):
    def __init__(
        self,
        path: Path,
        limits: OutboxLimits | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(limits, clock)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
            count, size = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox"
            ).fetchone()
        except sqlite3.Error as exc:
            raise EdgeError(f"outbox {path} cannot be opened: {exc}") from exc
        self._count = count
        self._bytes = size

    def add(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self._expire()
            size = len(payload)
            if size > self.limits.max_bytes:
                self.stats.drop("too_large")
                return
            if self._over(size) and self.limits.policy is OverflowPolicy.DROP_NEWEST:
                self.stats.drop("overflow")
                return
            with self._db:  # one transaction: evictions and the insert land together
                self._db.execute("BEGIN IMMEDIATE")
                while self._count and self._over(size):
                    item_id, old = self._db.execute(
                        "SELECT id, LENGTH(payload) FROM outbox ORDER BY id LIMIT 1"
                    ).fetchone()
                    self._db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
                    self._forget(item_id, old)
                    self.stats.drop("overflow")
                self._db.execute(
                    "INSERT INTO outbox (topic, payload, created) VALUES (?, ?, ?)",
                    (topic, payload, self._clock()),
                )
            self._count += 1
            self._bytes += size
            self.stats.added += 1

    def take(self, max_messages: int) -> list[OutboxItem]:
        with self._lock:
            self._expire()
            taken: list[OutboxItem] = []
            after = 0
            while len(taken) < max_messages:
                rows = self._db.execute(
                    "SELECT id, topic, payload, created FROM outbox WHERE id > ? "
                    "ORDER BY id LIMIT ?",
                    (after, max_messages + len(self._in_flight)),
                ).fetchall()
                if not rows:
                    break
                for item_id, topic, payload, created in rows:
                    if item_id not in self._in_flight and len(taken) < max_messages:
                        taken.append(OutboxItem(item_id, topic, bytes(payload), created))
                after = rows[-1][0]
            self._in_flight.update(i.id for i in taken)
            return taken

    def accept(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for item_id in ids:
                row = self._db.execute(
                    "DELETE FROM outbox WHERE id = ? RETURNING LENGTH(payload)", (item_id,)
                ).fetchone()
                if row is not None:
                    self._forget(item_id, row[0])
                    self.stats.accepted += 1

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _expire(self) -> None:
        horizon = self._clock() - self.limits.max_age_s
        with self._db:
            rows = self._db.execute(
                "DELETE FROM outbox WHERE created < ? RETURNING id, LENGTH(payload)", (horizon,)
            ).fetchall()
        for item_id, size in rows:
            self._forget(item_id, size)
        self.stats.drop("expired", len(rows))
