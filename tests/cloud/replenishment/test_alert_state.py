"""Raise-once alert bookkeeping on SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from cloud.replenishment.alert_state import AlertState

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_raise_once_until_cleared(sql_url: str) -> None:
    state = AlertState(sql_url)
    try:
        assert state.raise_once("s", "X", "stockout", T0)
        assert not state.raise_once("s", "X", "stockout", T0 + timedelta(hours=1))
        assert state.raise_once("s", "Y", "stockout", T0)  # another subject
        assert state.raise_once("s", "X", "reorder", T0)  # another kind
        assert [(a.subject, a.kind, a.since) for a in state.active("s")] == [
            ("X", "reorder", T0),
            ("X", "stockout", T0),
            ("Y", "stockout", T0),
        ]
        assert state.clear("s", "X", "stockout")
        assert not state.clear("s", "X", "stockout")
        assert state.raise_once("s", "X", "stockout", T0 + timedelta(hours=2))
    finally:
        state.close()


def test_cooldown_lets_an_old_alert_fire_again(sql_url: str) -> None:
    state = AlertState(sql_url)
    try:
        day = timedelta(days=1)
        assert state.raise_once("s", "gw/A/drift", "sensor_anomaly", T0, cooldown=day)
        assert not state.raise_once(
            "s", "gw/A/drift", "sensor_anomaly", T0 + timedelta(hours=23), cooldown=day
        )
        assert state.raise_once("s", "gw/A/drift", "sensor_anomaly", T0 + day, cooldown=day)
    finally:
        state.close()


def test_concurrent_raisers_raise_exactly_once(sql_url: str) -> None:
    states = [AlertState(sql_url) for _ in range(4)]
    wins: list[bool] = []
    barrier = threading.Barrier(len(states))

    def raiser(state: AlertState) -> None:
        barrier.wait()
        wins.append(state.raise_once("s", "X", "stockout", T0))

    threads = [threading.Thread(target=raiser, args=(s,)) for s in states]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in states:
        s.close()
    assert sorted(wins) == [False, False, False, True]
