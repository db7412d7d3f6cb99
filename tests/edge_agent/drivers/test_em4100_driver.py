"""EM4100 driver against the emulated RDM6300 through a real pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import TagDriver, TagRead
from edge_agent.drivers.em4100 import Em4100Config, Em4100Reader
from firmware_sim.rdm6300_reader import Rdm6300Emulator
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)

TAG = "0F007F5DBA"
OTHER = "13005D1DA5"


class FakeClock:
    """A monotonic clock the test moves by hand (drives the debounce only)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Rig = Callable[..., tuple[Rdm6300Emulator, Em4100Reader, FakeClock]]


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open reader on it; both are closed afterwards."""
    with driver_rigs() as opened:

        def make(
            *, debounce_s: float = 1.0, read_window_s: float = 0.1, **emulator: Any
        ) -> tuple[Rdm6300Emulator, Em4100Reader, FakeClock]:
            emu = Rdm6300Emulator(**{"interval_s": 0.02, **emulator})
            emu.start()
            config = Em4100Config(
                type="em4100", port=emu.port, debounce_s=debounce_s, read_window_s=read_window_s
            )
            clock = FakeClock()
            reader = Em4100Reader(config, clock=clock)
            opened(emu, reader)
            return emu, reader, clock

        yield make


def ids(reads: list[TagRead]) -> list[str]:
    return [r.tag_id for r in reads]


def test_tag_in_the_field_is_reported_once_per_call(rig: Rig) -> None:
    emu, reader, _ = rig()
    emu.add_tag(TAG)
    assert reader.read_tags() == [TagRead(tag_id=TAG)]
    assert reader.stats.frames >= 2  # it repeated within the window; reported once
    assert reader.stats.bad_frames == 0


def test_no_tag_is_silence_and_not_an_error(rig: Rig) -> None:
    _, reader, _ = rig()
    assert reader.read_tags() == []
    assert reader.stats.frames == 0


def test_repeats_within_the_debounce_are_not_reported_again(rig: Rig) -> None:
    emu, reader, clock = rig(debounce_s=1.0)
    emu.add_tag(TAG)
    assert ids(reader.read_tags()) == [TAG]
    clock.now += 0.5
    assert reader.read_tags() == []
    assert reader.suppressed == 1
    clock.now += 0.5  # a full window since it was reported: report again, so
    assert ids(reader.read_tags()) == [TAG]  # the agent knows it is still there


def test_zero_debounce_reports_every_call(rig: Rig) -> None:
    emu, reader, _ = rig(debounce_s=0.0)
    emu.add_tag(TAG)
    assert ids(reader.read_tags()) == [TAG]
    assert ids(reader.read_tags()) == [TAG]


def test_tags_appear_and_disappear(rig: Rig) -> None:
    emu, reader, clock = rig()
    emu.add_tag(TAG)
    assert ids(reader.read_tags()) == [TAG]
    emu.add_tag(OTHER)
    clock.now += 0.1
    assert ids(reader.read_tags()) == [OTHER]  # TAG is still debounced
    emu.remove_tag(TAG)
    emu.remove_tag(OTHER)
    reader.read_tags()  # frames already on their way
    clock.now += 5.0
    assert reader.read_tags() == []


def test_several_tags_are_unique_in_order_of_first_sighting(rig: Rig) -> None:
    emu, reader, _ = rig()
    emu.add_tag(OTHER)
    emu.add_tag(TAG)
    assert set(ids(reader.read_tags())) == {OTHER, TAG}


def test_bad_frames_are_counted_and_never_yield_a_tag(rig: Rig) -> None:
    emu, reader, clock = rig(
        debounce_s=0.0,
        garbage_probability=0.3,
        bad_checksum_probability=0.2,
        truncate_probability=0.2,
        seed=3,
    )
    emu.add_tag(TAG)
    for _ in range(6):
        assert set(ids(reader.read_tags())) <= {TAG}
        clock.now += 1.0
    stats = reader.stats
    assert stats.bad_checksum > 0
    assert stats.truncated + stats.malformed > 0
    assert stats.garbage_bytes > 0
    assert stats.frames > 0


def test_ghost_reads_pass_the_checksum_and_are_reported(rig: Rig) -> None:
    # A documented limit: the reader cannot tell a ghost from a tag; the agent
    # requires repeated sightings before it counts a tag.
    emu, reader, _ = rig(ghost_probability=1.0, seed=5)
    emu.add_tag(TAG)
    reported: set[str] = set()
    for _ in range(20):  # bounded: one read window can miss a frame on a loaded machine
        reported |= set(ids(reader.read_tags()))
        if TAG in reported and len(reported) > 1:
            break
    assert TAG in reported
    ghosts = reported - {TAG}
    assert ghosts
    assert ghosts <= set(emu.ghosts_sent)
    assert reader.stats.bad_frames == 0


def test_context_manager_and_tag_driver_protocol(rig: Rig) -> None:
    emu, first, _ = rig()
    first.close()
    emu.add_tag(TAG)
    with Em4100Reader(first.config) as reader:
        driver: TagDriver = reader  # checked by mypy when run over tests
        assert ids(driver.read_tags()) == [TAG]
    assert not reader.is_open


# -- configuration (sample.toml: test_driver_sample_config.py) ----------------


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"baudrate": 9601}, "baudrate 9601 is not supported by pyserial"),
        ({"debounce_s": -1}, "greater than or equal to 0"),
        ({"read_window_s": 0}, "greater than 0"),
        ({"read_window_s": 60}, "less than or equal to 10"),
        ({"location": "A-01"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_clearly(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Em4100Config.model_validate({"type": "em4100", "port": "/dev/ttyUSB0", **option})
