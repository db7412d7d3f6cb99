"""The time-series points of what arrives over MQTT: levels, events, device status.

Pure: wire messages in, points of the declared measurements
(`cloud/timeseries/measurements.py`) out.
"""

from __future__ import annotations

from datetime import datetime

from cloud.timeseries.base import LevelPoint, Point
from cloud.timeseries.measurements import DEVICE_STATUS, STOCK_EVENT
from vmi.wire import (
    DeviceState,
    DeviceStatus,
    DriverHealth,
    EventsBatch,
    ReadingsBatch,
)


def levels_of(batch: ReadingsBatch) -> list[LevelPoint]:
    """The level points a readings message stores."""
    return [
        LevelPoint(
            site=batch.site,
            device=batch.device,
            location=r.location,
            sku=r.sku,
            time=r.time,
            quantity=r.quantity,
            source=r.source.value,
            raw_weight_g=r.raw_weight_g,
            stable=r.stable,
            seq=batch.seq,
        )
        for r in batch.readings
    ]


def event_points(batch: EventsBatch) -> list[Point]:
    """The `stock_event` points an events message stores."""
    return [
        STOCK_EVENT.point(
            tags={
                "site": batch.site,
                "device": batch.device,
                "kind": e.kind.value,
                "location": e.location,
                "sku": e.sku,
            },
            fields={
                "quantity": e.quantity,
                "detail": e.detail,
                "driver": e.driver,
                "seq": batch.seq,
            },
            time=e.time,
        )
        for e in batch.events
    ]


def status_point(status: DeviceStatus, received_at: datetime) -> Point:
    """The `device_status` point of a status message.

    A last will carries no time of its own (the broker sends it later), so
    it is stamped with the time the collector received it.
    """
    outbox = status.outbox
    return DEVICE_STATUS.point(
        tags={"site": status.site, "device": status.device},
        fields={
            "online": status.state is DeviceState.ONLINE,
            "agent_version": status.agent_version,
            "config_hash": status.config_hash,
            "drivers_total": len(status.drivers),
            "drivers_faulted": sum(1 for s in status.drivers.values() if _faulted(s)),
            "outbox_pending": None if outbox is None else outbox.pending,
            "outbox_pending_bytes": None if outbox is None else outbox.pending_bytes,
            "outbox_dropped": None if outbox is None else sum(outbox.dropped.values()),
        },
        time=status.at or received_at,
    )


def _faulted(health: str) -> bool:
    """Unknown values (a newer edge) count as faults: better seen than hidden."""
    try:
        return DriverHealth(health).faulted
    except ValueError:
        return True
