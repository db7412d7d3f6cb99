"""The MQTT wire contract, version 1: topics and payloads, defined once.

Every message between edge and cloud is one of the models below, serialized as
JSON. Readings carry absolute stock levels, never deltas, so replays,
duplicates and reordering are harmless (see ARCHITECTURE.md, principle 1).

`docs/wire-protocol.md` is generated from this module (`vmi wire-doc`), and a
test keeps the two in step.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from vmi.errors import WireError

WIRE_VERSION = 1
TOPIC_ROOT = f"vmi/v{WIRE_VERSION}"

# Site, device, location and SKU identifiers travel in topics and as InfluxDB
# tags: keep them to a safe, printable alphabet with no MQTT wildcards.
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
Identifier = Annotated[str, Field(pattern=_ID_PATTERN)]
Quantity = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Source(StrEnum):
    """Where a stock level came from."""

    SCALE = "scale"
    RFID = "rfid"
    MANUAL = "manual"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reading(_Message):
    """One absolute stock level: `location` holds `quantity` of `sku` at `time`."""

    time: AwareDatetime
    location: Identifier
    sku: Identifier
    quantity: Quantity
    unit: Literal["pcs"] = "pcs"
    source: Source = Source.SCALE
    raw_weight_g: float | None = Field(default=None, allow_inf_nan=False)
    stable: bool = True


class ReadingsBatch(_Message):
    """Payload of `vmi/v1/<site>/<device>/readings` (edge -> cloud, QoS 1)."""

    v: Literal[1] = 1
    site: Identifier
    device: Identifier
    seq: int = Field(ge=0, description="Per-device sequence number; survives restarts.")
    sent_at: AwareDatetime
    readings: list[Reading] = Field(min_length=1, max_length=5000)


class EventKind(StrEnum):
    """What happened on a shelf or device."""

    PICK = "pick"  # units taken off a shelf
    REFILL = "refill"  # units put on a shelf
    DRIFT = "drift"  # the empty-shelf weight crept; compensated, re-tare advised
    COUNT_UNCERTAIN = "count_uncertain"  # weight far from a whole number of units
    TARE = "tare"
    CALIBRATION = "calibration"
    FAULT = "fault"  # overload, underload, device errors
    MISMATCH = "mismatch"  # weight and RFID disagree on the same location
    DRIVER = "driver"  # a device went away or came back


class Event(_Message):
    """One thing that happened, at `time`, at a location (if it has one)."""

    time: AwareDatetime
    kind: EventKind
    location: Identifier | None = None
    sku: Identifier | None = None
    quantity: float | None = Field(default=None, allow_inf_nan=False)
    driver: str | None = Field(default=None, max_length=200)
    detail: str = Field(default="", max_length=500)


class EventsBatch(_Message):
    """Payload of `vmi/v1/<site>/<device>/events` (edge -> cloud, QoS 1)."""

    v: Literal[1] = 1
    site: Identifier
    device: Identifier
    seq: int = Field(ge=0, description="Per-device events sequence; survives restarts.")
    sent_at: AwareDatetime
    events: list[Event] = Field(min_length=1, max_length=1000)


class DeviceCommand(_Message):
    """Payload of `vmi/v1/<site>/<device>/cmd` (cloud -> edge, QoS 1).

    `tare`: the shelf at `location` is empty now; its settled weight becomes
    the tare. `calibrate`: the shelf holds exactly `units` units now; the span
    factor is set so the weight counts that many.

    The edge applies a command once (by `id`), only before `expires_at`, and
    never from a retained message: a retained tare would zero the shelf again
    on every reconnect.
    """

    v: Literal[1] = 1
    id: Identifier = Field(description="Unique per command; a repeated id is not applied again.")
    issued_at: AwareDatetime
    expires_at: AwareDatetime = Field(description="Not applied from then on.")
    command: Literal["tare", "calibrate"]
    location: Identifier
    sku: Identifier | None = Field(default=None, description="Only this SKU's scale there.")
    units: int | None = Field(default=None, gt=0, description="For calibrate: units on the shelf.")

    @model_validator(mode="after")
    def _units_for_calibrate(self) -> DeviceCommand:
        if (self.command == "calibrate") != (self.units is not None):
            raise ValueError("units is required for calibrate and only for calibrate")
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must come after issued_at")
        return self


class DriverHealth(StrEnum):
    """A device's health as the edge reports it in `DeviceStatus.drivers`."""

    STARTING = "starting"  # not opened yet
    OK = "ok"  # answering
    UNAVAILABLE = "unavailable"  # cannot be opened or stopped answering

    @property
    def faulted(self) -> bool:
        return self is DriverHealth.UNAVAILABLE


class DeviceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class OutboxState(_Message):
    """How much the edge holds back, and what it had to drop (overflow, age)."""

    pending: int = Field(ge=0)
    pending_bytes: int = Field(ge=0)
    dropped: dict[str, int] = Field(default_factory=dict)


class DeviceStatus(_Message):
    """Payload of `vmi/v1/<site>/<device>/status` (retained; also the last will)."""

    v: Literal[1] = 1
    site: Identifier
    device: Identifier
    state: DeviceState
    at: AwareDatetime | None = None
    agent_version: str | None = None
    config_hash: str | None = Field(
        default=None,
        max_length=64,
        description="Digest of the agent's validated config: tells which config a device runs.",
    )
    drivers: dict[str, str] = Field(default_factory=dict)
    outbox: OutboxState | None = None


class AlertKind(StrEnum):
    REORDER = "reorder"  # an order was placed: inventory position reached the reorder point
    STOCKOUT_IMMINENT = "stockout_imminent"  # likely empty before the next delivery arrives
    STOCKOUT = "stockout"  # nothing left on the shelf
    SENSOR_SILENT = "sensor_silent"  # a device sent nothing for N x its expected interval
    SENSOR_ANOMALY = "sensor_anomaly"  # drift, weight/RFID mismatch, uncertain counts, faults
    DEVICE_OFFLINE = "device_offline"  # the device's last will said offline, for a grace period


class _AlertBase(_Message):
    """What every alert carries: kind, site, subject (SKU or device), time and a message."""

    v: Literal[1] = 1
    kind: AlertKind
    site: Identifier
    sku: Identifier | None = None
    device: Identifier | None = None
    location: Identifier | None = None
    at: AwareDatetime
    message: str


class _StockAlertBase(_AlertBase):
    """A stock alert: a SKU at a site, with the projection behind the alert."""

    sku: Identifier
    on_hand: float
    inventory_position: float = Field(description="On hand plus open orders.")
    rate_per_day: float
    days_of_cover: float | None = Field(default=None, description="None: nothing is consumed.")
    stockout_days_p10: float | None = Field(
        default=None, description="Days until stockout, early (10th percentile) estimate."
    )
    reorder_point: float
    reorder_days: float = Field(description="The lead time the reorder point covers, in days.")


class ReorderAlert(_StockAlertBase):
    """An order was placed: the inventory position reached the reorder point."""

    kind: Literal[AlertKind.REORDER] = AlertKind.REORDER
    order_id: int
    order_quantity: float


class StockoutAlert(_StockAlertBase):
    """Nothing is left on the shelf."""

    kind: Literal[AlertKind.STOCKOUT] = AlertKind.STOCKOUT


class StockoutImminentAlert(_StockAlertBase):
    """The shelf is likely empty before the next delivery arrives."""

    kind: Literal[AlertKind.STOCKOUT_IMMINENT] = AlertKind.STOCKOUT_IMMINENT


class SensorSilentAlert(_AlertBase):
    """A device sent nothing for too long."""

    kind: Literal[AlertKind.SENSOR_SILENT] = AlertKind.SENSOR_SILENT
    device: Identifier


class SensorAnomalyAlert(_AlertBase):
    """A device reported drift, a weight/RFID mismatch, an uncertain count or a fault."""

    kind: Literal[AlertKind.SENSOR_ANOMALY] = AlertKind.SENSOR_ANOMALY
    device: Identifier
    event: EventKind = Field(description="The event that raised the alert.")


class DeviceOfflineAlert(_AlertBase):
    """A device went offline (its last will, or a clean stop) and stayed so for a grace period."""

    kind: Literal[AlertKind.DEVICE_OFFLINE] = AlertKind.DEVICE_OFFLINE
    device: Identifier
    offline_since: AwareDatetime


Alert = Annotated[
    ReorderAlert
    | StockoutAlert
    | StockoutImminentAlert
    | SensorSilentAlert
    | SensorAnomalyAlert
    | DeviceOfflineAlert,
    Field(discriminator="kind"),
]
"""Payload of `vmi/v1/<site>/alerts` (cloud -> all, QoS 1): one model per kind.

Stock alerts carry the SKU and the projection behind them (a reorder also its
order); sensor alerts carry the device (and location) instead.
"""

ALERT_MODELS: tuple[type[_AlertBase], ...] = (
    ReorderAlert,
    StockoutAlert,
    StockoutImminentAlert,
    SensorSilentAlert,
    SensorAnomalyAlert,
    DeviceOfflineAlert,
)
_ALERT = TypeAdapter[Alert](Alert)


def decode_alert(payload: bytes | str) -> Alert:
    """An alerts payload as its kind's model; raises `WireError` if it is not one."""
    try:
        return _ALERT.validate_json(payload)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise WireError(DeadLetterReason.BAD_JSON, f"payload is not JSON: {exc}") from exc
        raise _schema_error(exc) from exc


class DeadLetterReason(StrEnum):
    """Why a message was rejected: the last level of its dead-letter topic.

    `vmi/v1/_deadletter/<reason>`; counted per reason in the collector's
    health and `/metrics`. `docs/wire-protocol.md` lists exactly these.
    """

    TOO_LARGE = "too_large"  # payload over the 2 MiB limit, refused unparsed
    BAD_JSON = "bad_json"  # not JSON, or nested deeper than the parser goes
    SCHEMA = "schema"  # JSON, but not the topic's message (fields, types, ranges)
    VERSION = "version"  # a contract version this cloud does not speak
    TOPIC = "topic"  # not a device topic, or no such message kind
    TOPIC_MISMATCH = "topic_mismatch"  # the payload's site/device differ from the topic's
    UNKNOWN_DEVICE = "unknown_device"  # the catalog does not know the device
    SITE_MISMATCH = "site_mismatch"  # the catalog knows the device at another site
    NOT_BOUND = "not_bound"  # the device reported a (location, SKU) it is not bound to
    STORE_REJECTED = "store_rejected"  # the store refused the data itself
    TIME_RANGE = "time_range"  # a reading or event time too far in the past or the future
    QUANTITY_RANGE = "quantity_range"  # a quantity above the configured bound
    SEQ_RANGE = "seq_range"  # a sequence number above the configured bound


class DeadLetter(_Message):
    """Payload of `vmi/v1/_deadletter/<reason>`: a rejected message and why."""

    reason: DeadLetterReason
    detail: str
    topic: str
    payload: str = Field(description="The rejected payload, decoded as UTF-8 with replacement.")
    at: datetime


# ---- topics -----------------------------------------------------------------


def readings_topic(site: str, device: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{device}/readings"


def events_topic(site: str, device: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{device}/events"


def status_topic(site: str, device: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{device}/status"


def cmd_topic(site: str, device: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{device}/cmd"


def alerts_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/alerts"


def deadletter_topic(reason: DeadLetterReason) -> str:
    return f"{TOPIC_ROOT}/_deadletter/{reason}"


READINGS_FILTER = f"{TOPIC_ROOT}/+/+/readings"
EVENTS_FILTER = f"{TOPIC_ROOT}/+/+/events"
STATUS_FILTER = f"{TOPIC_ROOT}/+/+/status"
ALERTS_FILTER = f"{TOPIC_ROOT}/+/alerts"


def split_device_topic(topic: str) -> tuple[str, str, str]:
    """Return (site, device, kind) of a `vmi/v1/<site>/<device>/<kind>` topic."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT:
        raise WireError(DeadLetterReason.TOPIC, f"not a device topic under {TOPIC_ROOT}: {topic!r}")
    return parts[2], parts[3], parts[4]


# ---- decoding ---------------------------------------------------------------


def decode_readings(topic: str, payload: bytes) -> ReadingsBatch:
    """Decode and check a readings message; raise `WireError` with a reason.

    Reasons are stable dead-letter topic suffixes: `bad_json`, `version`,
    `schema`, `topic_mismatch`.

    This is the ingest hot path. A valid message is parsed and validated in
    one pass by pydantic-core (`model_validate_json`, several times faster
    than `json.loads` and `model_validate`); a message it refuses goes the
    long way (`_decode_readings_stepwise`), whose checks decide the reason and
    detail. Both ways accept the same messages with the same values
    (tests/vmi/test_wire_fast_decode.py).
    """
    try:
        batch = ReadingsBatch.model_validate_json(payload)
    except ValidationError:
        return _decode_readings_stepwise(topic, payload)
    if "v" not in batch.model_fields_set:  # the model has a default; the contract does not
        return _decode_readings_stepwise(topic, payload)
    return _check_topic(topic, batch)


def _decode_readings_stepwise(topic: str, payload: bytes) -> ReadingsBatch:
    """JSON, then the contract version, then the model, then the topic."""
    return _check_topic(topic, _validate(_parse(payload), ReadingsBatch))


def decode_events(topic: str, payload: bytes) -> EventsBatch:
    """Decode and check an events message; the same reasons as `decode_readings`."""
    return _check_topic(topic, _validate(_parse(payload), EventsBatch))


def decode_status(topic: str, payload: bytes) -> DeviceStatus:
    """Decode and check a status message; the same reasons as `decode_readings`."""
    return _check_topic(topic, _validate(_parse(payload), DeviceStatus))


_DeviceMessage = TypeVar("_DeviceMessage", ReadingsBatch, EventsBatch, DeviceStatus)


def _parse(payload: bytes) -> dict[str, Any]:
    """The JSON object of a device message with the contract version checked."""
    try:
        raw: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(DeadLetterReason.BAD_JSON, f"payload is not JSON: {exc}") from exc
    except RecursionError as exc:  # nested deeper than the parser goes: never valid here
        raise WireError(DeadLetterReason.BAD_JSON, f"payload is nested too deeply: {exc}") from exc
    if not isinstance(raw, dict):
        raise WireError(DeadLetterReason.SCHEMA, "payload is not a JSON object")
    if raw.get("v") != WIRE_VERSION:
        raise WireError(DeadLetterReason.VERSION, f"unsupported contract version {raw.get('v')!r}")
    return raw


def _validate(raw: dict[str, Any], model: type[_DeviceMessage]) -> _DeviceMessage:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _schema_error(exc) from exc


def _schema_error(exc: ValidationError) -> WireError:
    """A `schema` error naming the first field that is wrong."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    return WireError(
        DeadLetterReason.SCHEMA, f"{where}: {first['msg']} ({exc.error_count()} errors)"
    )


def _check_topic(topic: str, message: _DeviceMessage) -> _DeviceMessage:
    site, device, _ = split_device_topic(topic)
    if (message.site, message.device) != (site, device):
        raise WireError(
            DeadLetterReason.TOPIC_MISMATCH,
            f"payload says {message.site}/{message.device}, topic says {site}/{device}",
        )
    return message


def encode(message: BaseModel) -> bytes:
    """Serialize any wire model to compact JSON bytes."""
    return message.model_dump_json(exclude_none=True).encode()


WIRE_MODELS: dict[str, type[BaseModel]] = {
    "readings": ReadingsBatch,
    "events": EventsBatch,
    "status": DeviceStatus,
    "cmd": DeviceCommand,
    **{f"alerts ({m.model_fields['kind'].default})": m for m in ALERT_MODELS},
    "deadletter": DeadLetter,
}
