"""Cloud configuration: typed, validated once at start-up. See `cloud/sample.toml`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    field_validator,
    model_validator,
)

from cloud.connectors.settings import ConnectorsConfig
from cloud.replenishment.policy import ReplenishmentRule
from vmi.config_file import load_toml
from vmi.errors import ConfigError
from vmi.mqtt_connection import MqttConnection


class _Strict(BaseModel):
    # Connector tables and the store hold secrets: errors name the key, never echo the value.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class CollectorMqttConfig(MqttConnection):
    """The broker connection (URL, credentials, TLS, backoff) and the session."""

    client_id: str = "vmi-collector"
    share_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Subscribe through $share/<group>/ so several collectors split the load.",
    )
    clean_session: bool = Field(
        default=False, description="Keep the session so messages wait while the collector is down."
    )
    subscribe_status: bool = Field(
        default=True,
        description="Store device status (retained, never shared); `--workers` leaves it to one.",
    )


class LimitsConfig(_Strict):
    """What a device message may say; beyond it, the message is dead-lettered whole."""

    max_age_days: float = Field(
        default=30.0, gt=0, description="Reading and event times at most this far back."
    )
    max_ahead_s: float = Field(
        default=300.0, ge=0, description="... and at most this far ahead of the collector's clock."
    )
    max_quantity: float = Field(
        default=1_000_000.0, gt=0, description="A level above this many units is refused."
    )
    max_seq: int = Field(
        default=2**53 - 1,
        ge=1,
        description="Sequence numbers above this are refused (2^53 - 1: exact in JSON).",
    )


class StoreConfig(_Strict):
    url: str = Field(
        default="sqlite:///vmi-levels.db",
        description="http://host:8086/<db> for InfluxDB, sqlite:///path for the embedded store.",
    )
    create_database: bool = Field(
        default=True,
        description="Create the InfluxDB database at start and again if it goes missing; "
        "false for servers that refuse CREATE DATABASE (2.x with a DBRP mapping, 3.x).",
    )
    token: SecretStr | None = Field(
        default=None,
        description="InfluxDB 2.x/3.x API token, sent as `Authorization: Token ...`.",
    )
    token_file: FilePath | None = Field(
        default=None, description="Read the token from this file (keeps it out of configs)."
    )

    @model_validator(mode="after")
    def _one_token(self) -> StoreConfig:
        if self.token is not None and self.token_file is not None:
            raise ValueError("set token or token_file, not both")
        return self

    def token_value(self) -> str | None:
        """The token, read from `token_file` if set (at start-up: a `ConfigError` if unreadable)."""
        if self.token_file is not None:
            try:
                return self.token_file.read_text().strip() or None
            except OSError as exc:
                raise ConfigError(f"cannot read the InfluxDB token file: {exc}") from exc
        return None if self.token is None else self.token.get_secret_value()


class OrdersConfig(_Strict):
    url: str = Field(default="sqlite:///vmi-orders.db", description="An SQLAlchemy database URL.")


class CatalogConfig(_Strict):
    """The device registry the collector checks messages against (optional)."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the catalog; messages from a device it does not know, "
        "or knows at another site, are dead-lettered. Unset: no registry check.",
    )
    cache_ttl_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long a device lookup is reused (devices may be added at run time).",
    )
    cache_max_devices: int = Field(
        default=100_000, ge=1, description="Lookups kept at most (least recently used go first)."
    )


class ReplenishmentConfig(_Strict):
    """How the cloud forecasts, orders and alerts (see cloud/replenishment/).

    `default` and `skus` are the rules where the catalog holds no VMI
    agreement; an agreement's terms (lead time, service level, min/max) and
    the SKU's pack sizes override them.
    """

    window_days: int = Field(
        default=28, ge=2, le=366, description="Days of level history the forecast uses."
    )
    noise_units: float = Field(
        default=1.0, ge=0, description="Level changes within this band are sensor noise."
    )
    default: ReplenishmentRule = ReplenishmentRule()
    skus: dict[str, ReplenishmentRule] = Field(
        default_factory=dict, description="Per-SKU overrides of `default`, field by field."
    )
    learn_lead_times: bool = Field(
        default=True,
        description="Pool the agreement's lead time with the deliveries' (placed -> received).",
    )
    lead_time_prior_deliveries: float = Field(
        default=10.0,
        ge=2,
        description="The agreement's lead time counts as this many deliveries when learning.",
    )
    evaluate_every_s: float = Field(
        default=5.0,
        ge=0,
        description="Re-evaluate a (site, SKU) far above its reorder point at most this often.",
    )
    sensor_interval_s: float = Field(
        default=60.0, gt=0, description="How often a device reports at least (its heartbeat)."
    )
    silent_after_intervals: float = Field(
        default=3.0, ge=1, description="Alert sensor_silent after this many intervals of nothing."
    )
    sensor_check_s: float = Field(
        default=10.0, gt=0, description="Look for silent sensors this often (real seconds)."
    )
    watch_silent_sensors: bool = Field(
        default=True,
        description="Run the fleet-wide device checks (silent, offline) here; `--workers` "
        "leaves them to one.",
    )
    offline_grace_s: float = Field(
        default=300.0,
        ge=0,
        description="Alert device_offline once a device has been offline this long.",
    )
    anomaly_cooldown_s: float = Field(
        default=86_400.0, ge=0, description="At most one sensor_anomaly alert per this long."
    )

    @model_validator(mode="before")
    @classmethod
    def _skus_inherit_default(cls, data: Any) -> Any:
        # An override names only what differs; everything else comes from the
        # configured default, not from the built-in one.
        if not isinstance(data, dict) or not isinstance(data.get("skus"), dict):
            return data
        base = _as_dict(data.get("default") or {})
        skus = {sku: {**base, **_as_dict(rule)} for sku, rule in data["skus"].items()}
        return {**data, "skus": skus}

    def rule_for(self, sku: str) -> ReplenishmentRule:
        return self.skus.get(sku, self.default)


def _as_dict(rule: Any) -> Any:
    return rule.model_dump(exclude_unset=True) if isinstance(rule, BaseModel) else rule


class MetricsConfig(_Strict):
    listen: str | None = Field(
        default=None,
        pattern=r"^[^:]+:\d{1,5}$",
        description="host:port for /metrics and /health (port 0: any free port); unset: off.",
    )

    @property
    def host_port(self) -> tuple[str, int] | None:
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host, int(port)


class KpiConfig(_Strict):
    """The KPI job: every `interval_s`, the KPIs of every stored (site, SKU) over the
    last `window_days`, written as `kpi` points (see cloud/kpis/writer.py)."""

    enabled: bool = Field(
        default=True,
        description="Run the KPI job here; `--workers` leaves it to worker 0.",
    )
    window_days: int = Field(
        default=30, ge=1, le=366, description="The KPIs are over this many days up to now."
    )
    interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="Compute and write them this often (real seconds); the first run is "
        "one interval after start.",
    )


class SuggestionsConfig(_Strict):
    """The suggestions job: better agreement terms per (site, SKU), recorded for the API
    (see cloud/suggest/job.py)."""

    enabled: bool = Field(
        default=True,
        description="Run the suggestions job here; `--workers` leaves it to worker 0.",
    )
    window_days: int = Field(
        default=90, ge=7, le=366, description="Days of each key's demand the replay draws from."
    )
    interval_s: float = Field(
        default=86_400.0,
        gt=0,
        description="Compute and record them this often (real seconds); the first run is "
        "one interval after start.",
    )
    target_fill_rate: float = Field(
        default=0.98,
        gt=0,
        lt=1,
        description="Fill rate suggested terms must reach where the rule sets none.",
    )


class NotifyConfig(_Strict):
    """Webhook delivery (see cloud/notify/): where webhooks may go and how many attempts
    run at once."""

    allow_private: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR or address) and host names that admins' subscriptions may "
        "reach although they are not public (loopback, private, link-local...); empty: none.",
    )
    workers: int = Field(default=8, ge=1, le=256, description="Attempts at once, at most.")
    per_subscription: int = Field(
        default=2, ge=1, description="Attempts at once for one subscription, at most."
    )
    deadline_s: float = Field(
        default=30.0, gt=0, le=600, description="One attempt ends after this long in all."
    )

    @field_validator("allow_private")
    @classmethod
    def _allowlist(cls, entries: list[str]) -> list[str]:
        from cloud.notify.guard import parse_allowlist  # the notifier's own reading

        parse_allowlist(entries)
        return entries


class CloudConfig(_Strict):
    """The whole cloud service configuration."""

    mqtt: CollectorMqttConfig = CollectorMqttConfig()
    store: StoreConfig = StoreConfig()
    orders: OrdersConfig = OrdersConfig()
    catalog: CatalogConfig = CatalogConfig()
    replenishment: ReplenishmentConfig = ReplenishmentConfig()
    metrics: MetricsConfig = MetricsConfig()
    limits: LimitsConfig = LimitsConfig()
    kpis: KpiConfig = KpiConfig()
    suggestions: SuggestionsConfig = SuggestionsConfig()
    notify: NotifyConfig = NotifyConfig()
    connectors: ConnectorsConfig = ConnectorsConfig()
    max_batch_messages: int = Field(default=1000, ge=1, le=100_000)
    max_held_messages: int = Field(
        default=20_000,
        ge=1,
        description="Messages received and not yet acknowledged, at most; then the "
        "collector stops reading from the broker, which keeps the rest.",
    )
    max_held_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=4 * 1024 * 1024,
        description="Payload bytes of those messages, at most (at least 4 MiB: two "
        "messages of the 2 MiB limit must fit).",
    )
    health_interval_s: float = Field(
        default=10.0,
        ge=0,
        description="Write collector_health to the store this often; 0: never.",
    )


def load_cloud_config(path: str | Path) -> CloudConfig:
    """Read and validate a TOML config file; raise `ConfigError` saying what is wrong."""
    return load_toml(path, CloudConfig, "cloud config")
