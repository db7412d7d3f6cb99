"""The suggestions job: every key's better terms, recorded for people to decide on.

Every `interval_s` (a day by default) a `SuggestJob` reads each site's keys
(`cloud.suggest.inputs`), replays them (`cloud.suggest.suggest`) and records
the ones worth a person's time in the `SuggestionBook` (superseding each
key's open suggestion), one site at a time. As for the KPI job, the first
run is one interval after start, a store or database failure is logged and
the next interval starts over, and with `--workers N` only worker 0 runs it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from itertools import groupby

from cloud.catalog import Catalog
from cloud.config import ReplenishmentConfig, SuggestionsConfig
from cloud.errors import StoreError
from cloud.kpis.report import stored_keys
from cloud.orders import OrderBook
from cloud.suggest.book import SuggestionBook
from cloud.suggest.inputs import read_inputs
from cloud.suggest.suggest import SuggestOptions, suggest
from cloud.timeseries import TimeSeriesStore
from vmi.clock import Clock

log = logging.getLogger(__name__)


@dataclass
class SuggestJobStats:
    """What the job has done since start."""

    runs: int = 0
    failures: int = 0
    keys: int = 0
    recorded: int = 0
    last_run_s: float = 0.0


class SuggestJob:
    """Computes and records suggestions for every stored (site, SKU) (see the module doc)."""

    def __init__(
        self,
        config: SuggestionsConfig,
        rules: ReplenishmentConfig,
        *,
        store: TimeSeriesStore,
        orders: OrderBook,
        book: SuggestionBook,
        clock: Clock,
        catalog: Catalog | None = None,
    ) -> None:
        self._config = config
        self._rules = rules
        self._store = store
        self._orders = orders
        self._book = book
        self._clock = clock
        self._catalog = catalog
        self.stats = SuggestJobStats()

    def run_once(self) -> bool:
        """One round over every site; True when it completed (failures are logged)."""
        started = time.monotonic()
        now = self._clock.now()
        options = SuggestOptions(target_fill_rate=self._config.target_fill_rate)
        try:
            for _site, keys in groupby(stored_keys(self._store), key=lambda k: k[0]):
                read = read_inputs(
                    self._store,
                    self._orders,
                    self._catalog,
                    self._rules,
                    list(keys),
                    now,
                    window_days=self._config.window_days,
                )
                found = suggest(read.inputs, options)
                rows = self._book.record(
                    found, read.suppliers, now, window_days=self._config.window_days
                )
                self.stats.keys += len(found)
                self.stats.recorded += len(rows)
        except StoreError as exc:
            self.stats.failures += 1
            log.warning("suggestions: store unavailable (%s); again later", exc)
            return False
        except Exception:  # a bug must not end the job silently
            self.stats.failures += 1
            log.exception("suggestions: unexpected error; again later")
            return False
        self.stats.runs += 1
        self.stats.last_run_s = time.monotonic() - started
        return True

    def run(self, stop: threading.Event) -> None:
        """`run_once` every `interval_s`, the first one interval after start, until `stop`."""
        while not stop.wait(self._config.interval_s):
            self.run_once()
