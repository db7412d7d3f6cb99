"""One contract for every serial scale driver, run against its emulator.

Each driver (and each mode of it) is described by a `ScaleRig`: how to make
the emulator and the driver, and the few ways in which drivers legitimately
differ. Driver-specific behaviour stays in the driver's own test files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import pytest

from edge_agent.drivers import aandd, mtsics, openscale, sartorius, stgs
from edge_agent.drivers.aandd import protocol as aandd_protocol
from edge_agent.drivers.base import WeightDriver, WeightSample
from edge_agent.drivers.mtsics import protocol as mtsics_protocol
from edge_agent.drivers.openscale import protocol as openscale_protocol
from edge_agent.drivers.sartorius import protocol as sartorius_protocol
from edge_agent.drivers.stgs import protocol as stgs_protocol
from edge_agent.errors import DeviceUnavailable, FrameError, WeightOutOfRange
from firmware_sim.aandd_scale import AandDEmulator
from firmware_sim.load_cell import DEFAULT_CELL, LoadCell
from firmware_sim.mtsics_scale import MtSicsEmulator
from firmware_sim.openscale_board import BOARD_CELL, OpenScaleEmulator
from firmware_sim.sartorius_scale import SartoriusEmulator
from firmware_sim.stgs_indicator import INDICATOR_CELL, StGsEmulator
from tests.edge_agent.drivers.frames import fuzz_parser, load_frames
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)

Mode = Literal["stream", "request"]

#: A balance's cell that settles at once.
SETTLED = replace(DEFAULT_CELL, settle_s=0.0)


def _frames(module: Any, *, extra: int = 0) -> list[bytes]:
    path = Path(module.__file__).parent / "frames" / "replies.txt"
    return [r.frame for r in load_frames(path, extra=extra)]


@dataclass(frozen=True)
class ScaleRig:
    """How to run one driver (in one mode) against its emulator."""

    id: str
    emulator: Callable[..., Any]  # (cell=..., **knobs) -> an emulator, not yet started
    driver: Callable[..., Any]  # (port, timeout_s, **config) -> a closed driver
    parse: Callable[[bytes], Any]  # the protocol parser
    valid_frames: list[bytes]  # parseable recorded frames, mutated by the fuzz
    alphabet: bytes  # the protocol's characters, for the fuzz
    results: tuple[type, ...]  # what the parser may return
    cell: LoadCell = SETTLED  # the emulator's load cell, settled at once
    result_ok: Callable[[Any], bool] = lambda result: True  # more checks on a parse
    # Stability is derived from a window of readings rather than reported.
    derived_stability: bool = False
    # (load, dynamic noise) that keeps the scale visibly unsettled.
    unsettled: tuple[float, float] = (500.0, 1.0)
    # Range limits live in the driver config rather than in the device.
    range_in_driver: bool = False
    overload_g: float = 1000.5  # just above a capacity of 1000 g
    mixed_load_g: float = 123.45  # load for the mixed-garbage test
    mixed_grams: float = 123.45  # what it reads as
    reports_each_read: bool = False  # emu.reported_stable grows once per read
    commands: bool = True  # tare/zero talk to the device
    silent_command: str | None = None  # a command that must also time out
    silent_match: str | None = None  # what the timeout says
    drop_match: str | None = None  # request/reply drivers: a dropped reply times out
    streams_at_rate_hz: bool = False  # the device streams at `rate_hz` frames/s


def _aandd_emulator(mode: Mode) -> Callable[..., Any]:
    def make(**knobs: Any) -> AandDEmulator:
        return AandDEmulator(mode=mode, **({"rate_hz": 50.0} | knobs))

    return make


def _aandd_driver(mode: Mode) -> Callable[..., Any]:
    def make(port: str, timeout_s: float, **config: Any) -> aandd.AandDScale:
        # Some kernels refuse A&D's 7E1 on a pty: the rig uses 8N1.
        return aandd.AandDScale(
            aandd.AandDConfig(
                type="aandd",
                port=port,
                bytesize=8,
                parity="N",
                mode=mode,
                timeout_s=timeout_s,
                **config,
            )
        )

    return make


def _stgs_emulator(mode: Mode) -> Callable[..., Any]:
    def make(**knobs: Any) -> StGsEmulator:
        return StGsEmulator(mode=mode, **({"rate_hz": 50.0} | knobs))

    return make


def _stgs_driver(mode: Mode) -> Callable[..., Any]:
    def make(port: str, timeout_s: float, **config: Any) -> stgs.StGsIndicator:
        return stgs.StGsIndicator(
            stgs.StGsConfig(type="stgs", port=port, mode=mode, timeout_s=timeout_s, **config)
        )

    return make


def _sartorius_emulator(mode: str) -> Callable[..., Any]:
    stream = {"auto_print": True, "print_interval_s": 0.02} if mode == "stream" else {}

    def make(**knobs: Any) -> SartoriusEmulator:
        return SartoriusEmulator(**(stream | knobs))

    return make


def _sartorius_driver(mode: str) -> Callable[..., Any]:
    def make(port: str, timeout_s: float, **config: Any) -> sartorius.SartoriusScale:
        return sartorius.SartoriusScale(
            sartorius.SartoriusConfig(
                type="sartorius", port=port, mode=mode, timeout_s=timeout_s, **config
            )
        )

    return make


def _mtsics_driver(port: str, timeout_s: float, **config: Any) -> mtsics.MtSicsScale:
    return mtsics.MtSicsScale(
        mtsics.MtSicsConfig(type="mtsics", port=port, timeout_s=timeout_s, **config)
    )


def _openscale_emulator(**knobs: Any) -> OpenScaleEmulator:
    # Reports every 10 ms in kg with 3 decimals.
    defaults: dict[str, Any] = {
        "report_interval_s": 0.01,
        "unit": "kg",
        "decimals": 3,
    }
    return OpenScaleEmulator(**(defaults | knobs))


def _openscale_driver(port: str, timeout_s: float, **config: Any) -> openscale.OpenScale:
    return openscale.OpenScale(
        openscale.OpenScaleConfig(type="openscale", port=port, timeout_s=timeout_s, **config)
    )


_AANDD: dict[str, Any] = {
    "parse": aandd_protocol.parse_frame,
    "valid_frames": _frames(aandd_protocol),
    "alphabet": b" STUQOLPCEK,+-0123456789.gkmlbozct%\x06\r\n\xff\x00",
    "results": (
        aandd_protocol.WeightFrame,
        aandd_protocol.NonWeightFrame,
        aandd_protocol.OutOfRangeFrame,
        aandd_protocol.Acknowledge,
        aandd_protocol.ErrorReply,
    ),
    "silent_command": "tare",
}
_STGS: dict[str, Any] = {
    "parse": stgs_protocol.parse_frame,
    "valid_frames": _frames(stgs_protocol, extra=1),
    "alphabet": b" STUGNVLRZOKE01,+-0123456789.kgtlbo\r\n\xff\x00",
    "results": (
        stgs_protocol.WeightFrame,
        stgs_protocol.StatusFrame,
        stgs_protocol.RawFrame,
        stgs_protocol.CommandReply,
    ),
    "cell": replace(INDICATOR_CELL, settle_s=0.0),
    "unsettled": (5000.0, 3.0),
    "mixed_load_g": 1234.0,
    "mixed_grams": 1234.0,
    "silent_command": "zero",
}
_SARTORIUS: dict[str, Any] = {
    "parse": sartorius_protocol.parse_frame,
    "valid_frames": _frames(sartorius_protocol),
    "alphabet": b" +-0123456789.,[]gkmlbozctGNStaErrHLCN\r\n\xff\x00\x1b",
    "results": (
        sartorius_protocol.WeightFrame,
        sartorius_protocol.SpecialFrame,
        sartorius_protocol.ErrorFrame,
    ),
    "result_ok": lambda r: (
        not isinstance(r, sartorius_protocol.WeightFrame)
        or r.unit is None
        or r.unit in sartorius_protocol.UNIT_GRAMS
    ),
}

RIGS = [
    ScaleRig(
        id="mtsics",
        emulator=MtSicsEmulator,
        driver=_mtsics_driver,
        parse=mtsics_protocol.parse_response,
        valid_frames=_frames(mtsics_protocol),
        alphabet=b' SDABIL+-0123456789.gkmlbozct"ESTZ\r\n\xff\x00',
        results=(
            mtsics_protocol.WeightResponse,
            mtsics_protocol.StatusResponse,
            mtsics_protocol.DataResponse,
            mtsics_protocol.ErrorReply,
        ),
        reports_each_read=True,
        drop_match=r"no reply to 'SI' within 0\.2 s",
    ),
    ScaleRig(
        id="aandd-stream",
        streams_at_rate_hz=True,
        emulator=_aandd_emulator("stream"),
        driver=_aandd_driver("stream"),
        **_AANDD,
    ),
    ScaleRig(
        id="aandd-request",
        emulator=_aandd_emulator("request"),
        driver=_aandd_driver("request"),
        drop_match=r"no frame within 0\.2 s",
        **_AANDD,
    ),
    ScaleRig(
        id="stgs-stream",
        streams_at_rate_hz=True,
        emulator=_stgs_emulator("stream"),
        driver=_stgs_driver("stream"),
        **_STGS,
    ),
    ScaleRig(
        id="stgs-request",
        emulator=_stgs_emulator("request"),
        driver=_stgs_driver("request"),
        drop_match=r"nothing within 0\.2 s",
        **_STGS,
    ),
    ScaleRig(
        id="sartorius-request",
        emulator=_sartorius_emulator("request"),
        driver=_sartorius_driver("request"),
        silent_match="request mode",
        reports_each_read=True,
        drop_match=r"no complete frame within 0\.2 s",
        **_SARTORIUS,
    ),
    ScaleRig(
        id="sartorius-stream",
        emulator=_sartorius_emulator("stream"),
        driver=_sartorius_driver("stream"),
        silent_match="stream mode",
        **_SARTORIUS,
    ),
    ScaleRig(
        id="openscale",
        emulator=_openscale_emulator,
        cell=replace(BOARD_CELL, settle_s=0.0),
        driver=_openscale_driver,
        parse=openscale_protocol.parse_line,
        valid_frames=[
            r.frame
            for r in load_frames(
                Path(openscale_protocol.__file__).parent / "frames" / "replies.txt"
            )
            if r.kind in ("reading", "nonumber")
        ],
        alphabet=b"0123456789.,-lbskgnaifovReadings:\r\n\xff\x00",
        results=(
            openscale_protocol.Reading,
            openscale_protocol.NoNumber,
            openscale_protocol.BannerLine,
        ),
        result_ok=lambda r: (
            not isinstance(r, openscale_protocol.Reading) or r.unit in openscale_protocol.UNIT_GRAMS
        ),
        derived_stability=True,
        unsettled=(1000.0, 60.0),
        range_in_driver=True,
        overload_g=1001.0,  # 3 decimals of kg
        mixed_grams=123.0,  # 3 decimals of kg: 0.123 kg
        commands=False,
        silent_match=r"no complete report within 0\.1 s",
        drop_match=r"no complete report within 0\.2 s",
    ),
]

Made = tuple[Any, Any]
Rig = Callable[..., Made]


@pytest.fixture(params=RIGS, ids=lambda r: r.id)
def spec(request: pytest.FixtureRequest) -> ScaleRig:
    rig_spec: ScaleRig = request.param
    return rig_spec


@pytest.fixture
def rig(spec: ScaleRig) -> Iterator[Rig]:
    """Make an emulator and an open driver on it; both are closed afterwards."""
    with driver_rigs() as opened:

        def make(
            *, timeout_s: float = 1.0, driver: dict[str, Any] | None = None, **emulator: Any
        ) -> Made:
            emu = spec.emulator(**({"cell": spec.cell} | emulator))
            emu.start()
            return opened(emu, spec.driver(emu.port, timeout_s, **(driver or {})))

        yield make


def settled(scale: Any, reads: int = 6) -> WeightSample:
    """Read until the driver calls the weight stable (at once unless derived)."""
    for _ in range(reads):
        sample: WeightSample = scale.read_weight()
        if sample.stable:
            break
    return sample


def test_stable_load_reads_stable_in_grams(rig: Rig, spec: ScaleRig) -> None:
    emu, scale = rig()
    emu.set_load(350.0)
    if spec.derived_stability:
        assert settled(scale) == WeightSample(grams=350.0, stable=True)
        assert set(emu.reported_stable) <= {0.0, 350.0}
    else:
        assert scale.read_weight() == WeightSample(grams=350.0, stable=True)
        assert scale.stats.ok == 1
        assert 350.0 in emu.reported_stable
    assert scale.stats.bad == 0


def test_unsettled_load_reads_unstable(rig: Rig, spec: ScaleRig) -> None:
    load, noise = spec.unsettled
    emu, scale = rig(cell=replace(spec.cell, settle_s=30.0, dynamic_noise_g=noise))
    emu.set_load(load)
    samples = [scale.read_weight() for _ in range(6 if spec.derived_stability else 1)]
    assert not any(s.stable for s in samples)
    assert all(s.grams == pytest.approx(load, abs=noise) for s in samples)
    if not spec.derived_stability:
        assert set(emu.reported_stable) <= {0.0}  # only the empty pan before the load


def test_overload_and_underload_raise(rig: Rig, spec: ScaleRig) -> None:
    limits = {"capacity_g": 1000.0, "underload_g": 20.0}
    if spec.range_in_driver:
        emu, scale = rig(cell=replace(spec.cell, capacity_g=5000.0), driver=limits)
    else:
        emu, scale = rig(cell=replace(spec.cell, **limits))
    emu.set_load(spec.overload_g)
    with pytest.raises(WeightOutOfRange, match="overload") as over:
        scale.read_weight()
    assert over.value.direction == "overload"
    emu.set_load(-25.0)
    with pytest.raises(WeightOutOfRange) as under:
        scale.read_weight()
    assert under.value.direction == "underload"
    emu.set_load(999.0)
    assert settled(scale) == WeightSample(grams=999.0, stable=True)


def test_garbage_is_counted_and_the_next_read_works(rig: Rig, spec: ScaleRig) -> None:
    emu, scale = rig(garbage_probability=1.0)
    emu.set_load(80.0)
    with pytest.raises(FrameError, match="non-ASCII"):
        scale.read_weight()
    assert scale.stats.bad == 1
    emu.garbage_probability = 0.0
    # A derived stability window restarts after a bad frame.
    stable = not spec.derived_stability
    assert scale.read_weight() == WeightSample(grams=80.0, stable=stable)
    assert scale.stats.ok == 1
    assert scale.stats.bad == 1


def test_mixed_garbage_never_yields_a_wrong_weight(rig: Rig, spec: ScaleRig) -> None:
    emu, scale = rig(garbage_probability=0.4, seed=7)
    emu.set_load(spec.mixed_load_g)
    good = bad = 0
    for _ in range(30):
        try:
            sample = scale.read_weight()
        except FrameError:
            bad += 1
            continue
        assert sample.grams == spec.mixed_grams
        assert sample.stable or spec.derived_stability
        good += 1
    assert good > 0
    assert bad > 0
    assert (scale.stats.ok, scale.stats.bad) == (good, bad)
    if spec.reports_each_read:
        assert emu.reported_stable == [spec.mixed_grams] * good


def test_silent_device_times_out_until_it_recovers(rig: Rig, spec: ScaleRig) -> None:
    emu, scale = rig(timeout_s=0.1)
    emu.set_load(10.0)
    emu.fail()
    started = time.monotonic()
    with pytest.raises(DeviceUnavailable, match=spec.silent_match):
        scale.read_weight()
    assert time.monotonic() - started < 1.0
    assert scale.stats.timeouts == 1
    if spec.silent_command:
        with pytest.raises(DeviceUnavailable):
            getattr(scale, spec.silent_command)()
    emu.recover()
    assert settled(scale) == WeightSample(grams=10.0, stable=True)


@pytest.mark.parametrize("spec", [r for r in RIGS if r.drop_match], ids=lambda r: r.id)
def test_dropped_reply_times_out_then_recovers(rig: Rig, spec: ScaleRig) -> None:
    emu, scale = rig(drop_probability=1.0, timeout_s=0.2)
    emu.set_load(10.0)
    started = time.monotonic()
    assert spec.drop_match
    with pytest.raises(DeviceUnavailable, match=spec.drop_match):
        scale.read_weight()
    assert time.monotonic() - started < 1.0
    assert scale.stats.timeouts == 1
    emu.drop_probability = 0.0
    assert settled(scale) == WeightSample(grams=10.0, stable=True)


STREAMING = [r for r in RIGS if r.streams_at_rate_hz]


@pytest.mark.parametrize("spec", STREAMING, ids=lambda r: r.id)
def test_stream_read_is_fresh_not_buffered(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(10.0)
    time.sleep(0.1)  # several 10 g frames wait in the input buffer
    emu.set_load(20.0)
    assert scale.read_weight() == WeightSample(grams=20.0, stable=True)


@pytest.mark.parametrize("spec", STREAMING, ids=lambda r: r.id)
def test_stream_at_the_real_rate(rig: Rig) -> None:
    emu, scale = rig(rate_hz=10.0)  # the rig streams at 50 Hz to be quick
    emu.set_load(42.0)
    started = time.monotonic()
    assert scale.read_weight() == WeightSample(grams=42.0, stable=True)
    assert time.monotonic() - started < 0.6  # about two frame periods, with slack


def test_emulator_gone_raises_device_unavailable(rig: Rig) -> None:
    emu, scale = rig(timeout_s=0.3)
    emu.stop()
    with pytest.raises(DeviceUnavailable):
        scale.read_weight()


def test_close_is_idempotent_and_use_after_close_fails(rig: Rig, spec: ScaleRig) -> None:
    _, scale = rig()
    scale.close()
    scale.close()
    assert not scale.is_open
    with pytest.raises(DeviceUnavailable, match="not open"):
        scale.read_weight()
    if spec.commands:
        with pytest.raises(DeviceUnavailable, match="not open"):
            scale.zero()
        with pytest.raises(DeviceUnavailable, match="not open"):
            scale.tare()


def test_open_missing_port_raises_device_unavailable(spec: ScaleRig) -> None:
    scale = spec.driver(f"/dev/does-not-exist-{spec.id}", 1.0)
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        scale.open()
    scale.close()


def test_port_is_opened_exclusively(rig: Rig, spec: ScaleRig) -> None:
    emu, scale = rig()
    other = spec.driver(emu.port, 1.0)
    with pytest.raises(DeviceUnavailable):
        other.open()
    assert scale.name == emu.port


def test_satisfies_weight_driver_protocol(rig: Rig) -> None:
    emu, scale = rig()
    assert isinstance(scale, WeightDriver)
    driver: WeightDriver = scale
    emu.set_load(1.0)
    assert settled(driver) == WeightSample(grams=1.0, stable=True)


def test_fuzz_parser_raises_only_frame_error(spec: ScaleRig) -> None:
    parsed = fuzz_parser(spec.parse, spec.valid_frames, spec.alphabet)
    assert parsed  # the mutations did leave some frames valid
    assert all(isinstance(result, spec.results) for result in parsed)
    assert all(spec.result_ok(result) for result in parsed)
