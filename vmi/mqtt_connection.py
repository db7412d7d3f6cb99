"""How the edge agent and the collector connect to the broker: one config.

`MqttConnection` holds the broker URL, credentials, TLS files and reconnect
backoff, validated once at start-up (files must exist and load). Both sides
embed it in their config and call `configure(client)` on their paho client;
this module knows paho only through the three methods it calls, so the
shared kernel stays free of it.

Reconnects back off exponentially (paho doubles the delay from
`reconnect_min_s` up to `reconnect_max_s`). Each client draws its own first
delay and cap within a jitter band, so a site full of gateways that lost the
broker together does not come back in lockstep and knock it over again.
"""

from __future__ import annotations

import contextlib
import random
import socket
import ssl
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, FilePath, model_validator

from vmi.errors import ConfigError
from vmi.urls import MqttAddress, parse_mqtt_url

JITTER = 0.5  # each delay is drawn from [d * (1 - JITTER), d]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttTls(_Strict):
    """TLS to the broker (the URL must be `mqtts://`)."""

    ca_file: FilePath | None = Field(
        default=None, description="CA certificate(s) (PEM) to trust; default: the system's."
    )
    cert_file: FilePath | None = Field(
        default=None, description="Client certificate (PEM), for brokers that require one."
    )
    key_file: FilePath | None = Field(
        default=None, description="The client certificate's private key (PEM)."
    )

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> MqttTls:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self

    def context(self) -> ssl.SSLContext:
        """A client SSL context that verifies the broker (and presents our certificate)."""
        try:
            ctx = ssl.create_default_context(
                cafile=None if self.ca_file is None else str(self.ca_file)
            )
            if self.cert_file is not None and self.key_file is not None:
                ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"cannot load the MQTT TLS files: {exc}") from exc
        return ctx


class MqttClientLike(Protocol):
    """The part of paho's `Client` that `configure` uses."""

    def username_pw_set(self, username: str | None, password: str | None = None) -> None: ...

    def tls_set_context(self, context: ssl.SSLContext | None = None) -> None: ...

    def reconnect_delay_set(self, min_delay: int = 1, max_delay: int = 120) -> None: ...

    on_socket_open: Callable[[Any, Any, Any], None] | None


class MqttConnection(_Strict):
    """Broker URL, credentials, TLS and reconnect backoff."""

    url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="mqtt://[user:pass@]host[:port], or mqtts:// for TLS (port 8883).",
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    username: str | None = Field(default=None, description="Overrides a user in the URL.")
    password_file: FilePath | None = Field(
        default=None, description="Read the password from this file (keeps it out of configs)."
    )
    tls: MqttTls | None = Field(default=None, description="CA and client certificate files.")
    reconnect_min_s: float = Field(default=1.0, gt=0, le=60)
    reconnect_max_s: float = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _consistent(self) -> MqttConnection:
        address = parse_mqtt_url(self.url)
        if self.tls is not None and not address.tls:
            raise ValueError("tls settings need an mqtts:// URL")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        if self.password_file is not None and self.username is None and not address.username:
            raise ValueError("password_file needs a username")
        return self

    @property
    def address(self) -> MqttAddress:
        return parse_mqtt_url(self.url)

    def credentials(self) -> tuple[str | None, str | None]:
        """(username, password), the password read from `password_file` if set."""
        address = self.address
        username = self.username or address.username
        password = address.password
        if self.password_file is not None:
            try:
                password = self.password_file.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read MQTT password file: {exc}") from exc
        return username, password

    def reconnect_delays(self, rng: random.Random | None = None) -> tuple[float, float]:
        """This client's (first delay, cap), each jittered down by up to `JITTER`."""
        draw = (rng or random.Random()).uniform
        return (
            self.reconnect_min_s * draw(1 - JITTER, 1.0),
            self.reconnect_max_s * draw(1 - JITTER, 1.0),
        )

    def configure(self, client: MqttClientLike, rng: random.Random | None = None) -> None:
        """Set credentials, TLS and jittered reconnect backoff on a paho client."""
        username, password = self.credentials()
        if username:
            client.username_pw_set(username, password)
        if self.address.tls:
            client.tls_set_context(self.tls.context() if self.tls else ssl.create_default_context())
        client.on_socket_open = tcp_no_delay
        first, cap = self.reconnect_delays(rng)
        # paho's signature says int; it does float arithmetic on both.
        client.reconnect_delay_set(min_delay=first, max_delay=cap)  # type: ignore[arg-type]


def tcp_no_delay(_client: Any, _userdata: Any, sock: Any) -> None:
    """Turn Nagle's algorithm off: MQTT packets are small and each one matters now.

    paho leaves it on, so a PUBLISH written right after a PUBACK waits for
    the broker's delayed TCP ACK (40 ms on Linux): every alert would arrive
    40 ms late.
    """
    with contextlib.suppress(OSError, AttributeError):  # not TCP (e.g. a test double)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
