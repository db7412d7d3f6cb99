"""What every serial device emulator does, checked once for all of them.

Each emulator is described by an `EmulatorRig`; the device's own protocol is
tested in its own file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import serial

from firmware_sim.aandd_scale import AandDEmulator
from firmware_sim.chafon_reader import ChafonEmulator
from firmware_sim.load_cell import DEFAULT_CELL, LoadCell
from firmware_sim.mtsics_scale import MtSicsEmulator
from firmware_sim.openscale_board import OpenScaleEmulator
from firmware_sim.rdm6300_reader import Rdm6300Emulator
from firmware_sim.sartorius_scale import SartoriusEmulator
from firmware_sim.stgs_indicator import INDICATOR_CELL, StGsEmulator
from tests.firmware_sim.links import read_until_hangup, serial_links

pytestmark = pytest.mark.timeout(30)

#: A balance that will not settle for a long time, and one that settles at once.
UNSETTLED = replace(DEFAULT_CELL, settle_s=30.0)
SETTLED = replace(DEFAULT_CELL, settle_s=0.0)


@dataclass(frozen=True)
class EmulatorRig:
    id: str
    # An emulator busy with something slow, and how to make it busy.
    busy: Callable[[], Any]
    keep_busy: Callable[[Any, serial.Serial], None]
    stop_within_s: float = 1.0


def _wait(emu: Any, port: serial.Serial, command: bytes) -> None:
    emu.set_load(5.0)
    port.write(command)  # the emulator now waits up to 10 s for stability
    time.sleep(0.05)


def _idle(emu: Any, port: serial.Serial) -> None:
    pass


def _inventory(emu: Any, port: serial.Serial) -> None:
    port.write(bytes.fromhex("04FF011BB4"))  # a 0x01 inventory taking 10 s
    time.sleep(0.05)


def _first_line(emu: Any, port: serial.Serial) -> None:
    port.read_until(b"\r\n")


STOPPING = [
    EmulatorRig(
        "aandd",
        lambda: AandDEmulator(cell=UNSETTLED, stable_timeout_s=10.0),
        lambda emu, port: _wait(emu, port, b"T\r\n"),
    ),
    EmulatorRig(
        "mtsics",
        lambda: MtSicsEmulator(cell=UNSETTLED, stable_timeout_s=10.0),
        lambda emu, port: _wait(emu, port, b"S\r\n"),
    ),
    EmulatorRig("stgs", lambda: StGsEmulator(mode="stream"), _first_line, 0.5),
    EmulatorRig(
        "sartorius", lambda: SartoriusEmulator(auto_print=True, print_interval_s=0.05), _idle, 0.5
    ),
    EmulatorRig("openscale", lambda: OpenScaleEmulator(report_interval_s=0.05), _idle, 0.5),
    EmulatorRig("chafon", lambda: ChafonEmulator(inventory_time_s=10.0), _inventory),
    EmulatorRig("rdm6300", Rdm6300Emulator, lambda emu, port: emu.add_tag("0F007F5DBA")),
]


@pytest.mark.parametrize("rig", STOPPING, ids=lambda r: r.id)
def test_stop_is_prompt_idempotent_and_hangs_up(rig: EmulatorRig) -> None:
    emu = rig.busy()
    emu.start()
    with serial.Serial(emu.port, timeout=0.1) as port:
        rig.keep_busy(emu, port)
        started = time.monotonic()
        emu.stop()
        assert time.monotonic() - started < rig.stop_within_s
        # The master side is closed: the line is hung up for the host.
        assert isinstance(read_until_hangup(port), serial.SerialException)
    emu.stop()
    with pytest.raises(RuntimeError):
        emu.start()


@dataclass(frozen=True)
class AskRig:
    """A scale that answers a weight request."""

    id: str
    emulator: Callable[..., Any]  # (cell=..., **knobs) -> an emulator, not yet started
    request: bytes
    zero_reply: bytes  # the reply with nothing on the pan
    cell: LoadCell = SETTLED  # the emulator's
    noise_g: float = 0.5
    load_g: float = 100.0


ASKING = [
    AskRig(
        "aandd",
        lambda **k: AandDEmulator(mode="request", **k),
        b"Q\r\n",
        b"ST,+00000.00  g\r\n",
    ),
    AskRig("mtsics", MtSicsEmulator, b"SI\r\n", b"S S       0.00 g\r\n"),
    AskRig(
        "stgs",
        lambda **k: StGsEmulator(mode="request", **k),
        b"READ\r\n",
        b"ST,GS,   0.000,kg\r\n",
        cell=replace(INDICATOR_CELL, settle_s=0.0),
        noise_g=5.0,
        load_g=1000.0,
    ),
    AskRig(
        "sartorius",
        SartoriusEmulator,
        b"\x1bP\r\n",
        b"      0.00 g  \r\n",
    ),
]


@pytest.fixture(params=ASKING, ids=lambda r: r.id)
def asking(request: pytest.FixtureRequest) -> Iterator[tuple[AskRig, Callable[..., Any]]]:
    rig: AskRig = request.param
    with serial_links(lambda **k: rig.emulator(**({"cell": rig.cell} | k))) as make:
        yield rig, make


def ask(port: serial.Serial, rig: AskRig) -> bytes:
    port.write(rig.request)
    return port.read_until(b"\r\n")


def test_stable_noise_is_reproducible_with_a_seed(asking: tuple[AskRig, Any]) -> None:
    rig, link = asking

    def readings(seed: int) -> list[bytes]:
        emu, port = link(cell=replace(rig.cell, noise_g=rig.noise_g), seed=seed)
        emu.set_load(rig.load_g)
        return [ask(port, rig) for _ in range(5)]

    first, again, other = readings(3), readings(3), readings(4)
    assert first == again
    assert first != other
    assert len(set(first)) > 1  # the noise shows


def test_reported_stable_is_a_copy(asking: tuple[AskRig, Any]) -> None:
    rig, link = asking
    emu, port = link()
    ask(port, rig)
    log = emu.reported_stable
    log.append(99.0)
    assert emu.reported_stable == [0.0]


def test_garbage_replaces_a_reply_with_undecodable_bytes(asking: tuple[AskRig, Any]) -> None:
    rig, link = asking
    emu, port = link(garbage_probability=1.0)
    emu.set_load(1.0)
    reply = ask(port, rig)
    assert reply.endswith(b"\r\n")
    assert reply.count(b"\n") == 1
    assert reply[0] >= 0x80
    assert emu.reported_stable == []  # what was never sent is not logged


def test_drop_and_fail_send_nothing_until_recovered(asking: tuple[AskRig, Any]) -> None:
    rig, link = asking
    emu, port = link(drop_probability=1.0)
    port.timeout = 0.1
    assert ask(port, rig) == b""
    emu.drop_probability = 0.0
    emu.fail()
    assert ask(port, rig) == b""
    emu.recover()
    port.timeout = 1.0
    assert ask(port, rig) == rig.zero_reply
