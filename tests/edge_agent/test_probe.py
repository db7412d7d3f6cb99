"""`vmi edge probe`: what a technician sees."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from edge_agent.drivers.mtsics import MtSicsConfig, MtSicsScale
from edge_agent.probe import Probe, parse_options
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from vmi.cli import main
from vmi.errors import ConfigError

pytestmark = pytest.mark.timeout(30)


def test_options_are_typed_like_toml() -> None:
    assert parse_options(["baudrate=19200", "command=S", 'parity="E"', "x=true"]) == {
        "baudrate": 19200,
        "command": "S",
        "parity": "E",
        "x": True,
    }
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_options(["baudrate"])


def test_probe_prints_readings_and_errors_as_json_lines() -> None:
    out = io.StringIO()
    with MtSicsEmulator(cell=replace(DEFAULT_CELL, settle_s=0.0)) as emu:
        emu.set_load(500.0)
        driver = MtSicsScale(MtSicsConfig(type="mtsics", port=emu.port, timeout_s=0.5))
        probe = Probe(driver, out, interval_s=0.01, count=2)
        probe.run(threading.Event())
        emu.set_load(9000.0)  # overload
        over_out = io.StringIO()
        over = Probe(MtSicsScale(driver.config), over_out, interval_s=0.01, count=1)
        stop = threading.Event()
        t = threading.Timer(0.5, stop.set)
        t.start()
        over.run(stop)
        t.cancel()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["grams"], r["stable"]) for r in lines] == [(500.0, True), (500.0, True)]
    assert all(r["device"] == emu.port and r["time"] for r in lines)
    errors = [json.loads(line) for line in over_out.getvalue().splitlines()]
    assert errors
    assert {e["error"] for e in errors} == {"overload"}


def test_a_missing_device_is_reported_and_retried_not_fatal(tmp_path: Path) -> None:
    out = io.StringIO()
    driver = MtSicsScale(MtSicsConfig(type="mtsics", port=str(tmp_path / "nothing")))
    stop = threading.Event()
    threading.Timer(1.2, stop.set).start()
    Probe(driver, out, interval_s=0.01).run(stop)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) >= 2, "retried"
    assert {r["error"] for r in lines} == {"unavailable"}


def test_unknown_driver_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edge", "probe", "--driver", "nope", "--port", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "unknown driver 'nope'; known drivers:" in err
    assert "mtsics" in err


def test_bad_driver_option_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edge", "probe", "--driver", "mtsics", "--port", "x", "--set", "baudrate=7"]) == 2
    assert "baudrate 7 is not supported by pyserial" in capsys.readouterr().err


def test_the_command_streams_lines_from_a_real_process() -> None:
    with MtSicsEmulator(cell=replace(DEFAULT_CELL, settle_s=0.0)) as emu:
        emu.set_load(42.0)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "vmi.cli",
                "edge",
                "probe",
                "--driver",
                "mtsics",
                "--port",
                emu.port,
                "--count",
                "3",
                "--interval",
                "0.05",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["grams"] for line in done.stdout.splitlines()] == [42.0] * 3
