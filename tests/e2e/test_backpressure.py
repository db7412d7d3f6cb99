"""Backpressure: with InfluxDB down and 100,000 messages waiting at the broker,
the collector holds at most its bound and reads nothing more; its memory stays
flat, and everything arrives once InfluxDB is back.

The broker here lets 10,000 messages be in flight to a client, five times the
collector's own bound (`max_held_messages` 2,000), so that bound, not the
broker's, is what stops the collector; the rest waits in the broker's queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.fault_rig import Rig, scrape, wait_for
from tests.servers import free_port
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

log = logging.getLogger(__name__)

MESSAGES = 100_000
PER_MESSAGE = 10
HELD_MESSAGES = 2_000
_WINDOW = 500
# The collector's RSS may grow by at most this much above what it used before
# the backlog (imports, connections, caches warm): holding 2,000 messages of
# about 1.3 kB and their decoded lines takes a few MB; taking all 100,000
# would take hundreds.
GROWTH_BOUND_MB = 60
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


@pytest.fixture
def rig(tmp_path: Path, unique_id: str) -> Iterator[Rig]:
    r = Rig(
        tmp_path,
        unique_id,
        broker_config="max_inflight_messages 10000\nmax_queued_messages 200000\n",
    )
    r.start()
    yield r
    r.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def publish_backlog(rig: Rig) -> None:
    """100,000 QoS 1 messages, each acknowledged by the broker (queued for the collector).

    At most `_WINDOW` unacknowledged at a time: paho's own queue of unsent
    messages costs time in proportion to its length on every acknowledgement.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{rig.site}-backlog")
    client.max_inflight_messages_set(_WINDOW)
    window = threading.Semaphore(_WINDOW)
    client.on_publish = lambda *_: window.release()
    client.connect("127.0.0.1", rig.broker.port)
    client.loop_start()
    topic = readings_topic(rig.site, "d1")
    for m in range(MESSAGES):
        first = m * PER_MESSAGE
        batch = ReadingsBatch(
            site=rig.site,
            device="d1",
            seq=m + 1,
            sent_at=datetime.now(UTC),
            readings=[
                Reading(time=T0 + timedelta(milliseconds=i), location="A", sku="X", quantity=i)
                for i in range(first, first + PER_MESSAGE)
            ],
        )
        assert window.acquire(timeout=60), "the broker stopped acknowledging"
        client.publish(topic, encode(batch), qos=1)
    for _ in range(_WINDOW):
        assert window.acquire(timeout=60), "the broker stopped acknowledging"
    client.disconnect()
    client.loop_stop()


def stored_count(rig: Rig) -> int:
    # The site is this test's own identifier, not input.
    query = f"SELECT count(\"quantity\") FROM stock_level WHERE site = '{rig.site}'"  # noqa: S608
    answer = httpx.get(
        f"{rig.influx.url}/query", params={"db": "faults", "q": query}, timeout=30
    ).json()
    series = answer["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def test_a_backlog_of_100000_messages_with_influxdb_down(rig: Rig) -> None:
    port = free_port()
    rig.collector(
        "c1",
        metrics_port=port,
        top_level=f"max_held_messages = {HELD_MESSAGES}\nmax_held_bytes = 8388608\n",
    )
    rig.wait_ingesting(["c1"])
    pid = rig.collectors["c1"].pid
    before = rss_mb(pid)
    rig.influx.stop()
    peaks = {"outage": before, "catch-up": before}
    phase = "outage"
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            peaks[phase] = max(peaks[phase], rss_mb(pid))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        publish_backlog(rig)
        wait_for(lambda: scrape(port)["vmi_collector_reading_paused"] == 1, 30, "a pause")
        time.sleep(3)  # the collector had every chance to take more
        held = scrape(port)
        phase = "catch-up"
        started = time.monotonic()
        rig.influx.start()
        wait_for(lambda: stored_count(rig) >= MESSAGES * PER_MESSAGE, 300, "every reading")
        catch_up_s = time.monotonic() - started
    finally:
        done.set()
        watcher.join()
    log.warning(
        "backpressure: RSS %.1f MB before; peak %.1f MB (+%.1f MB, bound +%d MB) with "
        "InfluxDB down and %d messages waiting, %d held (%d bytes); peak %.1f MB while "
        "catching up, %d readings in %.1f s",
        before,
        peaks["outage"],
        peaks["outage"] - before,
        GROWTH_BOUND_MB,
        MESSAGES,
        held["vmi_collector_in_flight"],
        held["vmi_collector_held_bytes"],
        peaks["catch-up"],
        MESSAGES * PER_MESSAGE,
        catch_up_s,
    )
    assert held["vmi_collector_in_flight"] <= HELD_MESSAGES + 100  # one socket read over
    grown = peaks["outage"] - before
    assert grown <= GROWTH_BOUND_MB, f"RSS grew {grown:.1f} MB while InfluxDB was down"
    time.sleep(1)
    assert stored_count(rig) == MESSAGES * PER_MESSAGE, "every reading exactly once"
    after = scrape(port)
    assert after["vmi_collector_reading_paused"] == 0
    assert after["vmi_collector_in_flight"] == 0
    assert after["vmi_collector_read_pauses_total"] >= 1
    assert rig.collectors["c1"].poll() is None, "the collector never died meanwhile"
