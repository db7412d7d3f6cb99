"""A collector on its own, its loops run in threads as `CloudService` runs them."""

from __future__ import annotations

import threading

from cloud.config import CloudConfig
from cloud.ingest.collector import Collector
from cloud.timeseries.base import TimeSeriesStore
from tests.servers import MosquittoServer


class Running:
    """A collector with its loops running in threads, as `CloudService` runs them."""

    def __init__(self, collector: Collector, stop: threading.Event) -> None:
        self.collector = collector
        self._stop = stop
        self._loops = [
            threading.Thread(target=collector.run_decoding),
            threading.Thread(target=collector.run_writing),
        ]

    def start(self) -> None:
        for loop in self._loops:
            loop.start()

    def stop(self) -> None:
        self._stop.set()
        for loop in self._loops:
            loop.join(30)
        self.collector.disconnect()

    def stopped(self) -> bool:
        """True once both loops have ended."""
        return not any(loop.is_alive() for loop in self._loops)


def connected(store: TimeSeriesStore, mosquitto: MosquittoServer, name: str) -> Running:
    """A collector on `store`, connected and subscribed, its loops not started yet."""
    config = CloudConfig.model_validate({"mqtt": {"url": mosquitto.url, "client_id": name}})
    stop = threading.Event()
    collector = Collector(config, store=store, stop=stop)
    collector.connect()
    assert collector.wait_connected(10)
    return Running(collector, stop)
