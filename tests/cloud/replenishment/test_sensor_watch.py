"""The sensor watch on real stores: silent devices alert once and clear; anomaly
events alert at most once per cooldown; with `watch_silent_sensors` off, `run`
handles events but never checks for silence."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from cloud.timeseries.measurements import DEVICE_STATUS
from tests.cloud.replenishment.rig import RULES, T0, Rig, make_rig
from tests.waiting import wait_for
from vmi.wire import (
    AlertKind,
    DeviceOfflineAlert,
    Event,
    EventKind,
    EventsBatch,
    SensorAnomalyAlert,
)


def test_silent_sensor_alerts_once_and_clears_when_it_reports(tmp_path: Path) -> None:
    r = make_rig(tmp_path, {**RULES, "sensor_interval_s": 60, "silent_after_intervals": 3})
    r.level(0, 10, device="gw-1")
    r.level(0, 10, device="gw-2", sku="Y")
    r.clock.t = T0 + timedelta(minutes=2)
    r.watch.check_silent()
    assert "sensor_silent" not in r.kinds()
    r.level(4 / 60, 10, device="gw-2", sku="Y")  # gw-2 keeps talking
    r.clock.t = T0 + timedelta(minutes=5)
    r.watch.check_silent()
    r.watch.check_silent()
    silent = [a for a in r.alerts if a.kind is AlertKind.SENSOR_SILENT]
    assert [(a.device, a.sku) for a in silent] == [("gw-1", None)]
    r.level(6 / 60, 9, device="gw-1")  # back
    r.watch.check_silent()
    assert r.state.active() == []


def test_anomaly_events_alert_at_most_once_per_cooldown(rig: Rig) -> None:
    def batch(minutes: float, kind: EventKind) -> EventsBatch:
        at = T0 + timedelta(minutes=minutes)
        return EventsBatch(
            site="s",
            device="gw",
            seq=1,
            sent_at=at,
            events=[Event(time=at, kind=kind, location="A-01", detail="crept 40 g")],
        )

    rig.watch.on_events(batch(0, EventKind.DRIFT))
    rig.watch.on_events(batch(5, EventKind.DRIFT))  # within the cooldown
    rig.watch.on_events(batch(6, EventKind.MISMATCH))  # another kind
    rig.watch.on_events(batch(7, EventKind.PICK))  # not an anomaly
    rig.watch.on_events(batch(60 * 25, EventKind.DRIFT))  # a day later
    anomalies = [a for a in rig.alerts if a.kind is AlertKind.SENSOR_ANOMALY]
    assert [a.message.split(" ")[0] for a in anomalies] == ["drift", "mismatch", "drift"]
    assert anomalies[0].message == "drift on gw at A-01: crept 40 g"
    assert anomalies[0].location == "A-01"


def _drift(site: str, device: str, minutes: float) -> EventsBatch:
    at = T0 + timedelta(minutes=minutes)
    return EventsBatch(
        site=site,
        device=device,
        seq=1,
        sent_at=at,
        events=[Event(time=at, kind=EventKind.DRIFT, location="A-01")],
    )


def _run_briefly(r: Rig, until: Callable[[], bool]) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=r.watch.run, args=(stop,))
    runner.start()
    try:
        wait_for(until, 10, "the sensor watch")
        time.sleep(0.3)  # and a few more turns of its loop
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


@pytest.mark.parametrize("watch_silent", [True, False])
def test_run_handles_events_and_checks_silence_only_where_told(
    tmp_path: Path, watch_silent: bool
) -> None:
    rules = {**RULES, "sensor_check_s": 0.05, "watch_silent_sensors": watch_silent}
    r = make_rig(tmp_path, rules)
    r.level(0, 10, device="gw-1")
    r.clock.t = T0 + timedelta(hours=1)  # gw-1 has been quiet for an hour
    r.watch.notice_events(_drift("s", "gw-2", 59))
    _run_briefly(r, lambda: "sensor_anomaly" in r.kinds())
    assert ("sensor_silent" in r.kinds()) is watch_silent
    assert r.kinds().count("sensor_anomaly") == 1
    r.close()


def test_run_sleeps_between_turns_when_it_watches_no_silence(tmp_path: Path) -> None:
    # Regression: with the silent check off, its deadline passed once and the
    # loop then waited 0 s a turn: a busy loop on one core.
    rules = {**RULES, "sensor_check_s": 0.01, "watch_silent_sensors": False}
    r = make_rig(tmp_path, rules)
    stop = threading.Event()
    runner = threading.Thread(target=r.watch.run, args=(stop,))
    runner.start()
    stop.wait(1.0)  # at least 1 s of idling, some 5 turns of 0.2 s
    stop.set()
    runner.join(10)
    assert 1 <= r.watch.turns <= 50, r.watch.turns
    r.close()


def test_events_without_anomalies_are_not_queued(rig: Rig) -> None:
    at = T0 + timedelta(minutes=1)
    pick = EventsBatch(
        site="s", device="gw", seq=1, sent_at=at, events=[Event(time=at, kind=EventKind.PICK)]
    )
    rig.watch.notice_events(pick)
    _run_briefly(rig, lambda: True)
    assert rig.alerts == []


def test_sensor_alerts_are_their_kinds_models(rig: Rig) -> None:
    rig.watch.on_events(_drift("s", "gw", 0))
    (alert,) = rig.alerts
    assert isinstance(alert, SensorAnomalyAlert)
    assert (alert.device, alert.location, alert.event) == ("gw", "A-01", EventKind.DRIFT)


def _status(r: Rig, device: str, online: bool, minutes: float) -> None:
    at = T0 + timedelta(minutes=minutes)
    point = DEVICE_STATUS.point(
        tags={"site": "s", "device": device}, fields={"online": online}, time=at
    )
    r.store.write_points([point])


def test_an_offline_device_alerts_after_the_grace_once_and_clears_when_back(
    tmp_path: Path,
) -> None:
    r = make_rig(tmp_path, {**RULES, "offline_grace_s": 120})
    _status(r, "gw-1", True, 0)
    _status(r, "gw-2", True, 0)
    _status(r, "gw-1", False, 1)  # its last will
    r.clock.t = T0 + timedelta(minutes=2)
    r.watch.check_offline()
    assert "device_offline" not in r.kinds(), "within the grace"
    r.clock.t = T0 + timedelta(minutes=3, seconds=1)
    r.watch.check_offline()
    r.watch.check_offline()
    (alert,) = [a for a in r.alerts if isinstance(a, DeviceOfflineAlert)]
    assert (alert.device, alert.offline_since) == ("gw-1", T0 + timedelta(minutes=1))
    _status(r, "gw-1", True, 4)  # back: the episode ends
    r.clock.t = T0 + timedelta(minutes=5)
    r.watch.check_offline()
    assert r.state.active() == []
    _status(r, "gw-1", False, 6)  # and a new one begins
    r.clock.t = T0 + timedelta(minutes=9)
    r.watch.check_offline()
    assert r.kinds().count("device_offline") == 2
    r.close()
