"""The Chafon reader counts what every serial driver counts (`FrameStats`) besides its rounds."""

from __future__ import annotations

import pytest

from edge_agent.drivers.base import FrameStats
from edge_agent.drivers.chafon import ChafonConfig, ChafonReader
from edge_agent.errors import FrameError
from firmware_sim.chafon_reader import ChafonEmulator

pytestmark = pytest.mark.timeout(30)

SGTIN = "3074257BF7194E4000001A85"


def test_good_answers_and_spoilt_rounds_are_counted() -> None:
    emu = ChafonEmulator(garbage_probability=1.0, seed=2)
    emu.add_tag(SGTIN)
    emu.start()
    reader = ChafonReader(ChafonConfig(type="chafon", port=emu.port, timeout_s=0.5))
    try:
        reader.open()
        with pytest.raises(FrameError, match="noise"):
            reader.read_tags()
        assert isinstance(reader.stats, FrameStats)
        assert reader.stats.bad == reader.stats.corrupt_rounds == 1
        emu.garbage_probability = 0.0
        ok = reader.stats.ok
        assert [t.tag_id for t in reader.read_tags()] == [SGTIN]
        assert reader.stats.ok == ok + 1
        assert reader.stats.rounds == 1
    finally:
        reader.close()
        emu.stop()
