"""The shared broker-connection config: validation, credentials, jittered backoff."""

from __future__ import annotations

import random
import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from vmi.errors import ConfigError
from vmi.mqtt_connection import JITTER, MqttConnection


class FakeClient:
    """Records what `configure` sets (paho itself is exercised in the TLS test)."""

    def __init__(self) -> None:
        self.user: tuple[str | None, str | None] | None = None
        self.context: ssl.SSLContext | None = None
        self.delays: tuple[float, float] | None = None

    def username_pw_set(self, username: str | None, password: str | None = None) -> None:
        self.user = (username, password)

    def tls_set_context(self, context: ssl.SSLContext | None = None) -> None:
        self.context = context

    def reconnect_delay_set(self, min_delay: float = 1, max_delay: float = 120) -> None:
        self.delays = (min_delay, max_delay)


def test_defaults_are_plain_and_anonymous() -> None:
    client = FakeClient()
    MqttConnection().configure(client)
    assert client.user is None
    assert client.context is None
    assert client.delays is not None


def test_password_file_wins_and_is_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    conn = MqttConnection(url="mqtt://u:inurl@h", password_file=secret)
    assert conn.credentials() == ("u", "s3cret")
    other = MqttConnection(url="mqtt://h", username="gw-1", password_file=secret)
    client = FakeClient()
    other.configure(client)
    assert client.user == ("gw-1", "s3cret")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "mqtt://h", "tls": {}}, "need an mqtts:// URL"),
        ({"url": "http://h"}, "not an MQTT URL"),
        ({"reconnect_min_s": 10, "reconnect_max_s": 5}, "at least reconnect_min_s"),
        ({"url": "mqtts://h", "tls": {"ca_file": "/nonexistent/ca.pem"}}, "not point to a file"),
        ({"password_file": __file__}, "needs a username"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises((ValidationError, ConfigError), match=message):
        MqttConnection.model_validate(settings)


def test_cert_without_key_is_refused(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(ValidationError, match="go together"):
        MqttConnection.model_validate({"url": "mqtts://h", "tls": {"cert_file": str(cert)}})


def test_unloadable_ca_is_a_config_error(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    conn = MqttConnection.model_validate({"url": "mqtts://h", "tls": {"ca_file": str(ca)}})
    with pytest.raises(ConfigError, match="TLS files"):
        conn.configure(FakeClient())


def test_mqtts_without_files_uses_the_system_trust_store() -> None:
    client = FakeClient()
    MqttConnection(url="mqtts://broker.example").configure(client)
    assert client.context is not None
    assert client.context.verify_mode == ssl.CERT_REQUIRED
    assert client.context.check_hostname


def test_reconnect_delays_are_jittered_within_the_band() -> None:
    conn = MqttConnection(reconnect_min_s=2.0, reconnect_max_s=40.0)
    rng = random.Random(1)
    draws = [conn.reconnect_delays(rng) for _ in range(200)]
    firsts = [f for f, _ in draws]
    caps = [c for _, c in draws]
    assert all(2.0 * (1 - JITTER) <= f <= 2.0 for f in firsts)
    assert all(40.0 * (1 - JITTER) <= c <= 40.0 for c in caps)
    # Spread over the band, not one value: clients do not reconnect in lockstep.
    assert max(firsts) - min(firsts) > 0.8
    assert max(caps) - min(caps) > 15
