from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.errors import EdgeError
from edge_agent.sequence import SequenceCounter


def test_sequence_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "gw.seq"
    first = SequenceCounter(path)
    assert [first.next(), first.next(), first.next()] == [1, 2, 3]
    again = SequenceCounter(path)
    assert again.value == 3
    assert again.next() == 4


def test_corrupt_sequence_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "gw.seq"
    path.write_text("garbage")
    with pytest.raises(EdgeError, match="unreadable"):
        SequenceCounter(path)
