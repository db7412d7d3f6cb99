"""What only the disk outbox promises: messages survive the process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from edge_agent.outbox import SqliteOutbox


def test_messages_survive_reopening_and_in_flight_ones_are_pending_again(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    box = SqliteOutbox(path)
    for n in range(4):
        box.add("t", b"m%d" % n)
    taken = box.take(3)
    box.accept([taken[0].id])
    box.close()
    again = SqliteOutbox(path)
    assert [i.payload for i in again.take(10)] == [b"m1", b"m2", b"m3"]
    assert again.pending_bytes() == 6
    again.close()


def test_a_killed_writer_loses_nothing_it_added(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r})
from pathlib import Path
from edge_agent.outbox import SqliteOutbox
box = SqliteOutbox(Path({str(path)!r}))
for n in range(2000):
    box.add("t", b"m%d" % n)
print("added", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert done.stdout.strip() == b"added"
    box = SqliteOutbox(path)
    items = box.take(5000)
    assert [i.payload for i in items] == [b"m%d" % n for n in range(2000)]
    box.close()
    assert os.path.exists(path)
