"""What one MQTT message stores: decoded, checked, and ready to write.

`decode_message` turns a readings, events or status message into an
`Inbound`: for a store that takes line protocol (InfluxDB) its lines,
rendered at once (the ingest hot path builds no point objects); for any other
store its points. Whatever is wrong with a message is a `WireError` whose
reason (`vmi.wire.DeadLetterReason`) names the dead-letter topic: the wire
contract's, the registry's (`unknown_device`, `site_mismatch`), `too_large`,
or `store_rejected` for what line protocol cannot carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cloud.config import LimitsConfig
from cloud.ingest.device_registry import (
    Registration,
    check_bound_events,
    check_bound_readings,
    check_registered,
)
from cloud.ingest.limits import check_events, check_readings
from cloud.ingest.points import event_points, levels_of, status_point
from cloud.ingest.sequence import SequenceTracker
from cloud.timeseries.base import LevelPoint, Point
from cloud.timeseries.line_protocol import level_lines, point_line
from vmi.errors import WireError
from vmi.wire import (
    DeadLetterReason,
    EventsBatch,
    decode_events,
    decode_readings,
    decode_status,
    split_device_topic,
)


@dataclass(slots=True)
class Inbound:
    """What one accepted message stores, and which (site, SKU)s it touches.

    With `lines` set (line protocol stores) everything is in the lines;
    otherwise in `levels` and `points`.
    """

    lines: list[str] = field(default_factory=list)
    levels: list[LevelPoint] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    sent_at: datetime | None = None
    touched: set[tuple[str, str]] = field(default_factory=set)
    readings: int = 0
    events: int = 0
    statuses: int = 0
    events_batch: EventsBatch | None = None  # for the replenisher's anomaly alerts


_DEFAULT_LIMITS = LimitsConfig()

# The largest message the contract allows (5000 readings) is well under 2 MB;
# anything bigger is refused before it is parsed.
MAX_PAYLOAD_BYTES = 2 * 1024 * 1024


def decode_message(
    topic: str,
    payload: bytes,
    *,
    received_at: datetime,
    as_lines: bool,
    sequences: SequenceTracker,
    registered: dict[str, Registration | None] | None = None,
    limits: LimitsConfig | None = None,
) -> Inbound:
    """What the message on `topic` stores; raises `WireError` with the reason.

    `registered`: the catalog's registration of (at least) this device, when
    devices are checked (see `DeviceRegistry.registrations_of`). `limits` bound times,
    quantities and sequence numbers around `received_at` (default:
    `LimitsConfig()`). `sequences` sees the sequence number of every
    readings message that passes the checks.
    """
    limits = limits or _DEFAULT_LIMITS
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(
            DeadLetterReason.TOO_LARGE,
            f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES} bytes",
        )
    kind = topic.rsplit("/", 1)[-1]
    if kind == "readings":
        batch = decode_readings(topic, payload)
        if registered is not None:
            registration = check_registered(registered, batch.site, batch.device)
            check_bound_readings(registration, batch)
        check_readings(batch, limits, received_at)
        sequences.see(batch.site, batch.device, batch.seq)
        inbound = Inbound(
            sent_at=batch.sent_at,
            touched={(batch.site, r.sku) for r in batch.readings},
            readings=len(batch.readings),
        )
        if not as_lines:
            inbound.levels = levels_of(batch)
            return inbound
        try:
            inbound.lines = level_lines(batch.site, batch.device, batch.seq, batch.readings)
        except ValueError as exc:
            raise WireError(DeadLetterReason.STORE_REJECTED, f"cannot write point: {exc}") from exc
        return inbound
    if kind == "events":
        events = decode_events(topic, payload)
        if registered is not None:
            registration = check_registered(registered, events.site, events.device)
            check_bound_events(registration, events)
        check_events(events, limits, received_at)
        inbound = Inbound(sent_at=events.sent_at, events=len(events.events), events_batch=events)
        return _with_points(inbound, event_points(events), as_lines)
    if kind == "status":
        status = decode_status(topic, payload)
        if registered is not None:
            check_registered(registered, status.site, status.device)
        return _with_points(Inbound(statuses=1), [status_point(status, received_at)], as_lines)
    split_device_topic(topic)  # a foreign topic says so
    raise WireError(DeadLetterReason.TOPIC, f"no such message kind {kind!r} on {topic!r}")


def _with_points(inbound: Inbound, points: list[Point], as_lines: bool) -> Inbound:
    if not as_lines:
        inbound.points = points
        return inbound
    try:
        inbound.lines = [point_line(p) for p in points]
    except ValueError as exc:
        raise WireError(DeadLetterReason.STORE_REJECTED, f"cannot write point: {exc}") from exc
    return inbound
