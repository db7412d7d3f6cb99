"""Real `vmi` processes for end-to-end tests: started with their log in a file,
stopped as Ctrl-C or a service manager would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def start_vmi(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """`vmi --log-level info <args>` as our own child; its output appended to `log`."""
    out = open(log, "ab")  # noqa: SIM115 - owned by the process for its lifetime
    return subprocess.Popen(
        [sys.executable, "-m", "vmi.cli", "--log-level", "info", *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
    """SIGTERM our own child and return its exit code; kill only if it hangs (-9)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            return -9
    return proc.returncode
