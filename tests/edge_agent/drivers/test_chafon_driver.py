"""Chafon driver against the emulated CF-RU5102 through a real pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import TagRead
from edge_agent.drivers.chafon import ChafonConfig, ChafonReader, ReaderInfo, Status
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError
from firmware_sim.chafon_reader import ChafonEmulator
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)

SGTIN = "3074257BF7194E4000001A85"
TID_EPC = "E28068940000500A9D2298C6"

Rig = Callable[..., tuple[ChafonEmulator, ChafonReader]]


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open reader on it; both are closed afterwards."""
    with driver_rigs() as opened:

        def make(
            *, timeout_s: float = 0.5, reader_address: int = 0xFF, **emulator: Any
        ) -> tuple[ChafonEmulator, ChafonReader]:
            emu = ChafonEmulator(**emulator)
            emu.start()
            config = ChafonConfig(
                type="chafon", port=emu.port, timeout_s=timeout_s, address=reader_address
            )
            reader = ChafonReader(config)
            return opened(emu, reader)

        yield make


def epc(i: int) -> str:
    """A distinct 96-bit EPC per index."""
    return f"30{i:022X}"


def ids(reads: list[TagRead]) -> list[str]:
    return [r.tag_id for r in reads]


def test_no_tag_is_an_empty_list(rig: Rig) -> None:
    emu, reader = rig()
    assert reader.read_tags() == []
    assert reader.stats.rounds == 1
    assert emu.commands_received == [0x01]


def test_tags_in_the_field(rig: Rig) -> None:
    emu, reader = rig()
    emu.add_tag(SGTIN)
    emu.add_tag(bytes.fromhex(TID_EPC))
    assert reader.read_tags() == [TagRead(tag_id=SGTIN), TagRead(tag_id=TID_EPC)]


def test_tags_appear_and_disappear(rig: Rig) -> None:
    emu, reader = rig()
    emu.add_tag(SGTIN)
    assert ids(reader.read_tags()) == [SGTIN]
    emu.add_tag(TID_EPC)
    assert ids(reader.read_tags()) == [SGTIN, TID_EPC]
    emu.remove_tag(SGTIN)
    assert ids(reader.read_tags()) == [TID_EPC]
    emu.remove_tag(TID_EPC)
    assert reader.read_tags() == []


def test_many_tags_across_frames_with_status_0x03(rig: Rig) -> None:
    emu, reader = rig(tags_per_frame=4)
    wanted = [epc(i) for i in range(30)]
    for tag in wanted:
        emu.add_tag(tag)
    assert ids(reader.read_tags()) == wanted
    assert reader.frame_stats.frames == 8  # 7 frames with 0x03, the last with 0x01
    assert reader.stats.rounds == 1


def test_frames_fill_up_to_the_length_limit(rig: Rig) -> None:
    emu, reader = rig()  # as many per frame as fit: 19 x (1 + 12) + 1 <= 250
    for i in range(40):
        emu.add_tag(epc(i))
    assert len(reader.read_tags()) == 40
    assert reader.frame_stats.frames == 3


def test_varied_epc_lengths(rig: Rig) -> None:
    emu, reader = rig()
    emu.add_tag("1110")
    emu.add_tag("E2" * 62)
    assert ids(reader.read_tags()) == ["1110", "E2" * 62]


def test_reader_info_and_settings(rig: Rig) -> None:
    emu, reader = rig()
    assert reader.reader_info() == ReaderInfo(
        version=(3, 1),
        reader_type=0x08,
        protocols=0b11,
        max_frequency=0x31,
        min_frequency=0x00,
        power_dbm=30,
        scan_time_ds=10,
    )
    assert reader.reader_info().supports_gen2
    reader.set_power(20)
    reader.set_scan_time(5)
    assert (emu.power_dbm, emu.scan_time_ds) == (20, 5)
    info = reader.reader_info()
    assert (info.power_dbm, info.scan_time_ds) == (20, 5)
    with pytest.raises(ValueError, match="0 to 30 dBm"):
        reader.set_power(31)
    with pytest.raises(ValueError, match="3 to 255"):
        reader.set_scan_time(2)


def test_settings_from_config_are_applied_at_open(rig: Rig) -> None:
    emu, first = rig()
    first.close()
    config = first.config.model_copy(update={"power_dbm": 12, "scan_time_ds": 3})
    with ChafonReader(config):
        assert (emu.power_dbm, emu.scan_time_ds) == (12, 3)


def test_parameter_error_is_command_rejected(rig: Rig) -> None:
    emu, reader = rig(max_power_dbm=26)  # some models stop below 30 dBm
    with pytest.raises(
        CommandRejected, match="'0x2F power' rejected with 0xFF: parameter error"
    ) as info:
        reader.set_power(30)
    assert info.value.code == "0xFF"
    assert emu.power_dbm == 30  # unchanged
    reader.set_power(26)
    assert reader.query(0x2F, bytes([99])).status == Status.PARAMETER_ERROR


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (0xFA, "tags are there but communication with them is poor"),
        (0xFE, "illegal command"),
        (0xFF, "parameter error"),
        (0x42, "unknown status 0x42"),
    ],
)
def test_inventory_error_status_is_command_rejected(rig: Rig, status: int, reason: str) -> None:
    emu, reader = rig(inventory_error=status)
    with pytest.raises(CommandRejected, match=f"rejected with 0x{status:02X}: {reason}"):
        reader.read_tags()
    emu.inventory_error = None
    assert reader.read_tags() == []


def test_illegal_command_is_answered_0xfe(rig: Rig) -> None:
    _, reader = rig()
    reply = reader.query(0x77)
    assert (reply.command, reply.status) == (0x77, Status.ILLEGAL_COMMAND)


def test_open_fails_cleanly_when_a_setting_is_refused(rig: Rig) -> None:
    emu, first = rig(max_power_dbm=26)
    first.close()
    reader = ChafonReader(first.config.model_copy(update={"power_dbm": 30}))
    with pytest.raises(CommandRejected, match="0x2F power"):
        reader.open()
    assert not reader.is_open
    emu.fail()
    reader = ChafonReader(first.config.model_copy(update={"power_dbm": 20}))
    with pytest.raises(DeviceUnavailable, match="no reply to 0x2F power"):
        reader.open()
    assert not reader.is_open


def test_addressed_reader_answers_and_others_stay_silent(rig: Rig) -> None:
    emu, reader = rig(address=0x05, reader_address=0x05, timeout_s=0.2)
    emu.add_tag(SGTIN)
    assert ids(reader.read_tags()) == [SGTIN]
    other = ChafonReader(reader.config.model_copy(update={"address": 0x06}))
    reader.close()
    other.open()
    try:
        with pytest.raises(DeviceUnavailable, match="no reply"):
            other.read_tags()
    finally:
        other.close()


def test_noise_spoils_the_round_but_not_the_next(rig: Rig) -> None:
    emu, reader = rig(garbage_probability=1.0, seed=2)
    emu.add_tag(SGTIN)
    with pytest.raises(FrameError, match="noise"):
        reader.read_tags()
    assert reader.stats.corrupt_rounds == 1
    assert reader.frame_stats.garbage_bytes > 0
    # A single-frame command still gets through the noise: the splitter resyncs.
    assert reader.reader_info().reader_type == 0x08
    emu.garbage_probability = 0.0
    assert ids(reader.read_tags()) == [SGTIN]


def test_bad_crc_is_a_frame_error_never_a_tag(rig: Rig) -> None:
    emu, reader = rig(bad_crc_probability=1.0, timeout_s=0.3)
    emu.add_tag(SGTIN)
    with pytest.raises(FrameError, match="noise or corrupt"):
        reader.read_tags()
    assert reader.frame_stats.bad_crc >= 1
    emu.bad_crc_probability = 0.0
    assert ids(reader.read_tags()) == [SGTIN]


def test_a_corrupt_frame_anywhere_spoils_the_whole_round(rig: Rig) -> None:
    emu, reader = rig(tags_per_frame=1, bad_crc_probability=0.1, seed=1, timeout_s=0.15)
    for i in range(6):
        emu.add_tag(epc(i))
    outcomes = set()
    for _ in range(6):
        try:
            tags = ids(reader.read_tags())
        except (FrameError, DeviceUnavailable) as exc:
            outcomes.add(type(exc).__name__)
            continue
        assert tags == [epc(i) for i in range(6)]  # complete, or not at all
        outcomes.add("ok")
    assert outcomes == {"ok", "FrameError"}


def test_dropped_answer_times_out_then_recovers(rig: Rig) -> None:
    emu, reader = rig(drop_probability=1.0, timeout_s=0.2)
    emu.add_tag(SGTIN)
    with pytest.raises(DeviceUnavailable, match="no reply"):
        reader.read_tags()
    emu.drop_probability = 0.0
    assert ids(reader.read_tags()) == [SGTIN]


def test_mixed_faults_never_yield_a_wrong_tag(rig: Rig) -> None:
    emu, reader = rig(garbage_probability=0.2, bad_crc_probability=0.1, seed=7, timeout_s=0.15)
    wanted = [SGTIN, TID_EPC]
    for tag in wanted:
        emu.add_tag(tag)
    good = bad = 0
    for _ in range(12):
        try:
            tags = ids(reader.read_tags())
        except FrameError:
            bad += 1
            continue
        assert tags == wanted
        good += 1
    assert good > 0
    assert bad > 0
    assert reader.stats.corrupt_rounds == bad


def test_slow_inventory_within_the_timeout(rig: Rig) -> None:
    emu, reader = rig(inventory_time_s=0.3, timeout_s=1.0)
    emu.add_tag(SGTIN)
    assert ids(reader.read_tags()) == [SGTIN]


def test_late_answer_to_a_timed_out_command_is_skipped(rig: Rig) -> None:
    emu, reader = rig(inventory_time_s=0.4, timeout_s=0.25)
    emu.add_tag(SGTIN)
    with pytest.raises(DeviceUnavailable):
        reader.read_tags()  # the inventory answer comes at 0.4 s, during the next command
    emu.inventory_time_s = 0.0
    assert reader.reader_info().reader_type == 0x08
    assert reader.stats.stale == 1  # the late inventory frame, not taken for the info


# -- configuration (sample.toml: test_driver_sample_config.py) ----------------


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"baudrate": 57601}, "baudrate 57601 is not supported by pyserial"),
        ({"address": 256}, "less than or equal to 255"),
        ({"timeout_s": 0}, "greater than 0"),
        ({"power_dbm": 31}, "less than or equal to 30"),
        ({"scan_time_ds": 2}, "greater than or equal to 3"),
        ({"scan_time_ds": 30, "timeout_s": 2.0}, "timeout_s 2.0 must exceed the scan time 3 s"),
        ({"tag_map": {}}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_clearly(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        ChafonConfig.model_validate({"type": "chafon", "port": "/dev/ttyUSB0", **option})
