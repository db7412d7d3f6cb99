"""The suggestions job on real stores: a round records them; a failing store does not stop it."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.config import ReplenishmentConfig, SuggestionsConfig
from cloud.orders import OrderBook
from cloud.suggest.book import SuggestionBook
from cloud.suggest.job import SuggestJob
from cloud.timeseries import SqliteStore, open_store
from cloud.timeseries.base import LevelPoint

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


def _levels(store: SqliteStore) -> None:
    start = NOW - timedelta(days=60)
    points = []
    for site in ("north", "south"):
        level = 300.0
        for i in range(60 * 4):
            level = 300.0 if level < 60 else level - 5.0
            points.append(LevelPoint(site, "d", "A", "BOLT", start + timedelta(hours=6 * i), level))
        points += [
            LevelPoint(site, "d", "B", "OLD", start + timedelta(days=d), 40.0) for d in range(60)
        ]
    store.write_levels(points)


def test_a_round_records_every_site(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    _levels(store)
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    orders, book = OrderBook(url), SuggestionBook(url)
    rules = ReplenishmentConfig.model_validate(
        {"default": {"service_level": 0.999, "lead_time_days": 3, "lead_time_sd_days": 1}}
    )
    job = SuggestJob(
        SuggestionsConfig(), rules, store=store, orders=orders, book=book, clock=Clock()
    )
    try:
        assert job.run_once()
        found = book.suggestions()
        assert {(s.site, s.sku) for s in found} == {
            ("north", "BOLT"), ("north", "OLD"), ("south", "BOLT"), ("south", "OLD"),
        }  # fmt: skip
        assert all(s.created_at == NOW for s in found)
        assert job.stats.keys == 4
        assert job.stats.recorded == 4
        # The next round supersedes them.
        assert job.run_once()
        assert len(book.suggestions()) == 4
        assert len(book.suggestions(status=None)) == 8
    finally:
        store.close()
        orders.close()
        book.close()


def test_an_unreachable_store_is_logged_and_the_job_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store("http://127.0.0.1:9/vmi", create_database=False)  # nothing listens
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    orders, book = OrderBook(url), SuggestionBook(url)
    job = SuggestJob(
        SuggestionsConfig(interval_s=0.05),
        ReplenishmentConfig(),
        store=store,
        orders=orders,
        book=book,
        clock=Clock(),
    )
    stop = threading.Event()
    thread = threading.Thread(target=job.run, args=(stop,))
    try:
        with caplog.at_level(logging.WARNING, logger="cloud.suggest.job"):
            thread.start()
            for _ in range(200):
                if job.stats.failures >= 2:
                    break
                stop.wait(0.05)
            stop.set()
            thread.join(5)
        assert job.stats.failures >= 2
        assert not thread.is_alive()
        assert "store unavailable" in caplog.text
        assert book.suggestions() == []
    finally:
        stop.set()
        store.close()
        orders.close()
        book.close()
