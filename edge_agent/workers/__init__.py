"""Device workers: one thread per scale or reader (see `base`)."""

from edge_agent.workers.base import DeviceStats, DeviceWorker, Outbound
from edge_agent.workers.reader import ReaderWorker
from edge_agent.workers.scale import ScaleWorker

__all__ = ["DeviceStats", "DeviceWorker", "Outbound", "ReaderWorker", "ScaleWorker"]
