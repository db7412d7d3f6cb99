"""One contract for every serial RFID reader driver, run against its emulator.

Each reader is described by a `TagRig`; reader-specific behaviour (debounce,
multi-frame inventories, reader settings, ...) stays in the driver's own tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from edge_agent.drivers.base import TagDriver, TagRead
from edge_agent.drivers.chafon import ChafonConfig, ChafonReader
from edge_agent.drivers.em4100 import Em4100Config, Em4100Reader
from edge_agent.errors import DeviceUnavailable
from firmware_sim.chafon_reader import ChafonEmulator
from firmware_sim.rdm6300_reader import Rdm6300Emulator

pytestmark = pytest.mark.timeout(30)


@dataclass(frozen=True)
class TagRig:
    """How to run one reader driver against its emulator."""

    id: str
    emulator: Callable[[], Any]  # an emulator, not yet started
    driver: Callable[[str], Any]  # port -> a closed driver
    tag: str  # a tag id as the driver reports it
    # A silent reader is either plain silence (None) or a timeout saying this.
    silent_raises: str | None
    gone_match: str | None = None  # what a vanished device says


def _em4100(port: str) -> Em4100Reader:
    # No debounce: a tag still in the field is reported on every call.
    return Em4100Reader(Em4100Config(type="em4100", port=port, debounce_s=0.0, read_window_s=0.1))


def _chafon(port: str) -> ChafonReader:
    return ChafonReader(ChafonConfig(type="chafon", port=port, timeout_s=0.2))


RIGS = [
    TagRig(
        id="em4100",
        emulator=lambda: Rdm6300Emulator(interval_s=0.02),
        driver=_em4100,
        tag="0F007F5DBA",
        silent_raises=None,
        gone_match="read failed",
    ),
    TagRig(
        id="chafon",
        emulator=ChafonEmulator,
        driver=_chafon,
        tag="3074257BF7194E4000001A85",
        silent_raises=r"no reply to 0x01 inventory within 0\.2 s",
    ),
]

Made = tuple[Any, Any]


@pytest.fixture(params=RIGS, ids=lambda r: r.id)
def spec(request: pytest.FixtureRequest) -> TagRig:
    rig_spec: TagRig = request.param
    return rig_spec


@pytest.fixture
def rig(spec: TagRig) -> Iterator[Made]:
    """An emulator and an open reader on it; both are closed afterwards."""
    emu = spec.emulator()
    emu.start()
    reader = spec.driver(emu.port)
    try:
        reader.open()
        yield emu, reader
    finally:
        reader.close()
        emu.stop()


def test_tag_in_the_field_is_read(rig: Made, spec: TagRig) -> None:
    emu, reader = rig
    emu.add_tag(spec.tag)
    assert reader.read_tags() == [TagRead(tag_id=spec.tag)]


def test_no_tag_is_an_empty_list(rig: Made) -> None:
    _, reader = rig
    assert reader.read_tags() == []


def test_silent_reader_until_it_recovers(rig: Made, spec: TagRig) -> None:
    emu, reader = rig
    emu.add_tag(spec.tag)
    emu.fail()
    if spec.silent_raises is None:
        reader.read_tags()  # drain what was sent before
        assert reader.read_tags() == []
    else:
        started = time.monotonic()
        with pytest.raises(DeviceUnavailable, match=spec.silent_raises):
            reader.read_tags()
        assert time.monotonic() - started < 1.0
        assert reader.stats.timeouts == 1
    emu.recover()
    assert reader.read_tags() == [TagRead(tag_id=spec.tag)]


def test_emulator_gone_raises_device_unavailable(rig: Made, spec: TagRig) -> None:
    emu, reader = rig
    emu.stop()
    with pytest.raises(DeviceUnavailable, match=spec.gone_match):
        reader.read_tags()


def test_close_is_idempotent_reads_after_close_fail_and_it_reopens(rig: Made) -> None:
    _, reader = rig
    reader.close()
    reader.close()
    assert not reader.is_open
    with pytest.raises(DeviceUnavailable, match="not open"):
        reader.read_tags()
    reader.open()
    assert reader.is_open


def test_open_missing_port_raises_device_unavailable(spec: TagRig) -> None:
    reader = spec.driver(f"/dev/does-not-exist-{spec.id}")
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        reader.open()
    reader.close()


def test_port_is_opened_exclusively(rig: Made, spec: TagRig) -> None:
    emu, reader = rig
    with pytest.raises(DeviceUnavailable):
        spec.driver(emu.port).open()
    assert reader.name == emu.port


def test_satisfies_tag_driver_protocol(rig: Made, spec: TagRig) -> None:
    emu, reader = rig
    assert isinstance(reader, TagDriver)
    driver: TagDriver = reader
    emu.add_tag(spec.tag)
    assert driver.read_tags() == [TagRead(tag_id=spec.tag)]
