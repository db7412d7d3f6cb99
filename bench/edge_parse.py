"""Edge benchmarks: frames parsed per second per protocol, and the agent's memory
with 50 emulated devices.

    uv run python bench/edge_parse.py              # both parts
    uv run python bench/edge_parse.py --parse-only

Parsing runs in this process on one core. For memory, 50 emulated devices (ten
each of MT-SICS, A&D, ST,GS, Sartorius and OpenScale, on real ptys) and an
embedded MQTT broker run here, and `vmi edge run` runs as its own process; its
resident memory (VmRSS, and the peak VmHWM) is read from /proc after it has
polled every device for a while.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_agent.drivers.aandd import protocol as aandd  # noqa: E402
from edge_agent.drivers.chafon import protocol as chafon  # noqa: E402
from edge_agent.drivers.em4100 import protocol as em4100  # noqa: E402
from edge_agent.drivers.mtsics import protocol as mtsics  # noqa: E402
from edge_agent.drivers.openscale import protocol as openscale  # noqa: E402
from edge_agent.drivers.sartorius import protocol as sartorius  # noqa: E402
from edge_agent.drivers.stgs import protocol as stgs  # noqa: E402
from edge_agent.drivers.tasmota import protocol as tasmota  # noqa: E402


def chafon_inventory(frame: bytes) -> list[bytes]:
    """A whole Chafon inventory answer: frame, CRC, then the EPC list."""
    return chafon.parse_inventory(chafon.parse_response(frame).data)


# (protocol, parse function, representative frames as on the wire)
PROTOCOLS: list[tuple[str, Callable[[bytes], Any], list[bytes]]] = [
    (
        "MT-SICS",
        mtsics.parse_response,
        [b"S S     100.00 g\r\n", b"S D      99.12 g\r\n", b"SI S 12.5 kg\r\n", b"S I\r\n"],
    ),
    (
        "A&D",
        aandd.parse_frame,
        [b"ST,+00123.45  g\r\n", b"US,+00123.40  g\r\n", b"ST,+0001.234 kg\r\n"],
    ),
    (
        "ST,GS",
        stgs.parse_frame,
        [b"ST,GS,   1.250,kg\r\n", b"US,GS,   1.245,kg\r\n", b"01ST,NT,  12.500,kg\r\n"],
    ),
    (
        "Sartorius SBI",
        sartorius.parse_frame,
        [b"+    123.45 g  \r\n", b"-     12.50 g  \r\n", b"N     +    123.45 g  \r\n"],
    ),
    (
        "OpenScale",
        openscale.parse_line,
        [b"12345,1.23,lbs,\r\n", b"12445,0.56,kg,8411342,\r\n"],
    ),
    ("EM4100", em4100.decode_frame, [b"\x020F007F5DBA97\x03"]),
    (
        "Chafon UHF",
        chafon_inventory,
        [bytes.fromhex("20000101020c3074257bf7194e4000001a850ce28068940000500a9d2298c67f99")],
    ),
    (
        "Tasmota HX711",
        tasmota.parse_hx711_sensor,
        [
            b'{"Time":"2026-01-05T10:00:00","HX711":{"Weight":1.234,"WeightRaw":1250,"AbsRaw":110004}}'
        ],
    ),
    (
        "Tasmota RDM6300",
        tasmota.parse_rdm6300_sensor,
        [b'{"Time":"2026-01-05T10:00:00","RDM6300":{"UID":"008EC793"}}'],
    ),
]


def bench_parse(seconds: float) -> None:
    print(f"{'protocol':<15} {'frames/s (1 core)':>18}")
    for name, parse, frames in PROTOCOLS:
        for f in frames:
            parse(f)  # every sample frame must parse, or the figure means nothing
        batch = frames * (1000 // len(frames))
        n = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            for f in batch:
                parse(f)
            n += len(batch)
        rate = n / (time.perf_counter() - start)
        print(f"{name:<15} {rate:>18,.0f}")


@contextlib.contextmanager
def fifty_devices() -> Iterator[list[dict[str, Any]]]:
    from firmware_sim.aandd_scale import AandDEmulator
    from firmware_sim.load_cell import DEFAULT_CELL
    from firmware_sim.mtsics_scale import MtSicsEmulator
    from firmware_sim.openscale_board import BOARD_CELL, OpenScaleEmulator
    from firmware_sim.sartorius_scale import SartoriusEmulator
    from firmware_sim.stgs_indicator import INDICATOR_CELL, StGsEmulator

    quick = replace(DEFAULT_CELL, settle_s=0.05)
    serial_8n1 = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
    kinds: list[tuple[str, Callable[[], Any], dict[str, Any]]] = [
        ("mtsics", lambda: MtSicsEmulator(cell=quick), {}),
        ("aandd", lambda: AandDEmulator(cell=quick), serial_8n1),
        ("stgs", lambda: StGsEmulator(cell=replace(INDICATOR_CELL, settle_s=0.05)), {}),
        ("sartorius", lambda: SartoriusEmulator(cell=quick), serial_8n1),
        ("openscale", lambda: OpenScaleEmulator(cell=replace(BOARD_CELL, settle_s=0.05)), {}),
    ]
    with contextlib.ExitStack() as stack:
        scales = []
        for i in range(50):
            kind, make, extra = kinds[i % len(kinds)]
            emu = stack.enter_context(make())
            emu.set_load(1000.0 + i)
            scales.append(
                {
                    "type": kind,
                    "port": emu.port,
                    "location": f"L{i:02d}",
                    "sku": f"SKU{i:02d}",
                    "item_weight_g": 10.0,
                    "tare_g": 100.0,
                    "poll_interval_s": 0.5,
                    **extra,
                }
            )
        yield scales


def toml_value(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def bench_memory(settle_s: float) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from firmware_sim.broker import EmbeddedBroker
    from vmi.wire import ReadingsBatch

    broker = EmbeddedBroker()
    broker.start()
    locations: set[str] = set()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.on_connect = lambda c, *_: c.subscribe("vmi/v1/bench/gw/readings", 1)
    listener.on_message = lambda _c, _u, m: locations.update(
        r.location for r in ReadingsBatch.model_validate_json(m.payload).readings
    )
    listener.connect("127.0.0.1", broker.port)
    listener.loop_start()
    tmp = tempfile.TemporaryDirectory()
    try:
        with fifty_devices() as scales:
            cfg = Path(tmp.name) / "edge.toml"
            lines = [
                'site = "bench"',
                'device = "gw"',
                f'state_dir = "{tmp.name}"',
                "[mqtt]",
                f'url = "{broker.url}"',
            ]
            for s in scales:
                lines.append("[[scales]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in s.items()]
            cfg.write_text("\n".join(lines) + "\n")
            agent = subprocess.Popen(
                [sys.executable, "-m", "vmi.cli", "edge", "run", "--config", str(cfg)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                time.sleep(settle_s)
                status = Path(f"/proc/{agent.pid}/status").read_text()
                fields = dict(
                    line.split(":", 1) for line in status.splitlines() if line.startswith("Vm")
                )
                threads = len(os.listdir(f"/proc/{agent.pid}/task"))
            finally:
                agent.terminate()
                _, err = agent.communicate(timeout=30)
        rss = int(fields["VmRSS"].split()[0]) / 1024
        peak = int(fields["VmHWM"].split()[0]) / 1024
        print(
            f"edge agent with {len(scales)} emulated devices after {settle_s:.0f} s: "
            f"RSS {rss:.1f} MiB (peak {peak:.1f} MiB), {threads} threads, "
            f"levels received from {len(locations)} devices, exit {agent.returncode}"
        )
        if agent.returncode != 0:
            print(err.decode(errors="replace")[-2000:])
    finally:
        listener.disconnect()
        listener.loop_stop()
        tmp.cleanup()
        broker.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parse-only", action="store_true")
    p.add_argument("--seconds", type=float, default=1.0, help="per protocol")
    p.add_argument("--settle", type=float, default=15.0, help="agent run time before measuring")
    args = p.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    bench_parse(args.seconds)
    if not args.parse_only:
        bench_memory(args.settle)


if __name__ == "__main__":
    main()
