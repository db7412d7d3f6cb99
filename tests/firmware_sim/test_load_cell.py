"""The load cell every emulated scale shares: `LoadCell` and `LoadedCell`, on their own."""

from __future__ import annotations

import dataclasses
import math
import random
import time
from typing import Any

import pytest

from firmware_sim.load_cell import DEFAULT_CELL, LoadCell, LoadedCell
from firmware_sim.openscale_board import BOARD_CELL
from firmware_sim.stgs_indicator import INDICATOR_CELL


def test_defaults_are_a_bench_balance() -> None:
    assert dataclasses.asdict(DEFAULT_CELL) == {
        "capacity_g": 6200.0,
        "underload_g": 50.0,
        "settle_s": 0.3,
        "noise_g": 0.0,
        "dynamic_noise_g": 2.0,
        "drift_g_per_s": 0.0,
    }
    assert (INDICATOR_CELL.capacity_g, INDICATOR_CELL.underload_g) == (30000.0, 500.0)
    assert INDICATOR_CELL.dynamic_noise_g == 5.0
    assert (BOARD_CELL.capacity_g, BOARD_CELL.dynamic_noise_g) == (5000.0, 20.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"capacity_g": 0}, "capacity"),
        ({"capacity_g": -1.0}, "capacity"),
        ({"underload_g": -1.0}, "underload"),
        ({"settle_s": -1}, "settle_s"),
        ({"noise_g": -0.1}, "noise_g"),
        ({"dynamic_noise_g": -0.1}, "dynamic_noise_g"),
        ({"drift_g_per_s": math.inf}, "drift_g_per_s must be finite"),
        ({"drift_g_per_s": math.nan}, "drift_g_per_s must be finite"),
    ],
)
def test_a_bad_cell_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LoadCell(**({"capacity_g": 6200.0} | fields))
    with pytest.raises(ValueError, match=message):  # also when derived from another
        dataclasses.replace(INDICATOR_CELL, **fields)


def test_a_cell_has_a_rated_capacity_and_keyword_fields_only() -> None:
    with pytest.raises(TypeError, match="capacity_g"):
        LoadCell()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        LoadCell(6200.0)  # type: ignore[misc]
    assert LoadCell(capacity_g=6200.0) == DEFAULT_CELL


def test_a_cell_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_CELL.settle_s = 0.0  # type: ignore[misc]


def test_noise_is_normal_when_stable_and_uniform_while_settling() -> None:
    rng = random.Random(1)
    state = rng.getstate()
    assert DEFAULT_CELL.noise(rng, stable=True) == 0.0
    assert rng.getstate() == state  # no draw: a seed gives the same faults either way
    noisy = dataclasses.replace(DEFAULT_CELL, noise_g=3.0)
    assert noisy.noise(random.Random(1), stable=True) == random.Random(1).gauss(0.0, 3.0)
    wandering = dataclasses.replace(DEFAULT_CELL, dynamic_noise_g=4.0)
    samples = [wandering.noise(rng, stable=False) for _ in range(200)]
    assert all(-4.0 <= s <= 4.0 for s in samples)
    assert max(samples) - min(samples) > 4.0


def test_a_load_change_unsettles_the_cell_for_settle_s() -> None:
    loaded = LoadedCell(dataclasses.replace(DEFAULT_CELL, settle_s=0.2))
    assert loaded.stable()  # nothing ever changed
    assert loaded.settles_in() == 0.0
    assert loaded.set_load(100.0)
    assert loaded.gross_g == 100.0
    assert not loaded.stable()
    assert 0.1 < loaded.settles_in() <= 0.2
    assert not loaded.set_load(100.0)  # the same load is no change
    time.sleep(0.25)
    assert loaded.stable()
    assert loaded.settles_in() == 0.0


def test_a_replaced_cell_takes_effect_at_once() -> None:
    loaded = LoadedCell(dataclasses.replace(DEFAULT_CELL, settle_s=30.0))
    loaded.set_load(5.0)
    assert not loaded.stable()
    loaded.cell = dataclasses.replace(loaded.cell, settle_s=0.0)
    assert loaded.stable()


def test_the_reading_creeps_from_the_last_change_or_power_up() -> None:
    loaded = LoadedCell(dataclasses.replace(DEFAULT_CELL, drift_g_per_s=100.0))
    before = time.monotonic()
    loaded.power_up()
    after = time.monotonic()
    time.sleep(0.1)
    read_from = time.monotonic()
    grown = loaded.reading_g()
    read_until = time.monotonic()
    assert 100.0 * (read_from - after) <= grown <= 100.0 * (read_until - before)
    loaded.set_load(500.0)  # creep starts afresh
    assert 500.0 <= loaded.reading_g() < 500.0 + grown
    steady = LoadedCell(DEFAULT_CELL)
    steady.set_load(500.0)
    assert steady.reading_g() == 500.0  # no drift: the load as set
