"""Parse the service addresses users pass on the command line or in settings."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from vmi.errors import ConfigError


@dataclass(frozen=True, slots=True)
class MqttAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttAddress:
    """`mqtt://[user:pass@]host[:port]` or `mqtts://...` to an `MqttAddress`."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(f"not an MQTT URL (mqtt://host:port): {url!r}")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ConfigError(f"bad port in {url!r}") from exc
    return MqttAddress(parts.hostname, port, tls, parts.username, parts.password)
