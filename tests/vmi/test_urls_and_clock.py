from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from vmi.clock import ScaledClock
from vmi.errors import ConfigError
from vmi.urls import parse_mqtt_url


def test_mqtt_urls() -> None:
    a = parse_mqtt_url("mqtt://127.0.0.1:1884")
    assert (a.host, a.port, a.tls) == ("127.0.0.1", 1884, False)
    b = parse_mqtt_url("mqtts://u:p@broker.example")
    assert (b.port, b.tls, b.username, b.password) == (8883, True, "u", "p")
    assert parse_mqtt_url("mqtt://h").port == 1883


@pytest.mark.parametrize("url", ["http://h:1883", "h:1883", "mqtt://", "mqtt://h:99999"])
def test_bad_mqtt_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_mqtt_url(url)


def test_scaled_clock_runs_faster() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = ScaledClock(speed=1000.0, start=start)
    time.sleep(0.05)
    elapsed = (clock.now() - start).total_seconds()
    assert elapsed >= 50.0
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(speed=0)
