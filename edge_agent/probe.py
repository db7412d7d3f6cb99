"""`vmi edge probe`: open one device and print what it says, one JSON object per line.

The first thing a technician runs at a site: is the scale wired right, does
the reader see the tags. Every line is flushed as it comes; device errors are
lines too (`"error": ...`) and the probe keeps trying until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import tomllib
from datetime import UTC, datetime
from typing import Any, TextIO

from edge_agent.drivers.base import TagDriver, WeightDriver
from edge_agent.drivers.registry import driver_config, driver_info
from edge_agent.errors import DeviceUnavailable, DriverError, FrameError, WeightOutOfRange
from edge_agent.rfid.epc import EpcError, epc_to_json
from vmi.errors import ConfigError
from vmi.runtime import run_until_signalled

_BACKOFF_MAX_S = 5.0


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs; values read as TOML scalars (`9600`, `true`, `"x"`), else text."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set takes KEY=VALUE, got {pair!r}")
        try:
            options[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            options[key] = value
    return options


class Probe:
    """Polls one driver and writes a JSON line per reading, tag or error."""

    def __init__(
        self,
        driver: WeightDriver | TagDriver,
        out: TextIO,
        *,
        interval_s: float,
        count: int | None = None,
    ) -> None:
        self.driver = driver
        self.out = out
        self.interval_s = interval_s
        self.count = count
        self.lines = 0

    def _write(self, record: dict[str, Any]) -> None:
        record = {"time": datetime.now(UTC).isoformat(), "device": self.driver.name, **record}
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def _done(self) -> bool:
        return self.count is not None and self.lines >= self.count

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set() and not self._done():
            try:
                self.driver.open()
            except DriverError as exc:
                self._write({"error": "unavailable", "detail": str(exc)})
                stop.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)
                continue
            backoff = 0.5
            try:
                self._poll(stop)
            finally:
                self.driver.close()

    def _poll(self, stop: threading.Event) -> None:
        while not stop.is_set() and not self._done():
            try:
                if isinstance(self.driver, WeightDriver):
                    self._weight(self.driver)
                else:
                    self._tags(self.driver)
            except DeviceUnavailable as exc:
                self._write({"error": "unavailable", "detail": str(exc)})
                return
            except WeightOutOfRange as exc:
                self._write({"error": exc.direction, "detail": str(exc)})
            except FrameError as exc:
                self._write({"error": "bad_frame", "detail": str(exc)})
            except DriverError as exc:
                self._write({"error": "fault", "detail": str(exc)})
            stop.wait(self.interval_s)

    def _weight(self, driver: WeightDriver) -> None:
        sample = driver.read_weight()
        if sample is None:
            self._write({"error": "busy", "detail": "the device has no weight right now"})
            return
        self._write({"grams": sample.grams, "stable": sample.stable})
        self.lines += 1

    def _tags(self, driver: TagDriver) -> None:
        for tag in driver.read_tags():
            record: dict[str, Any] = {"tag_id": tag.tag_id}
            if tag.rssi is not None:
                record["rssi"] = tag.rssi
            if tag.antenna is not None:
                record["antenna"] = tag.antenna
            with contextlib.suppress(EpcError):  # not an SGTIN: the raw id is all there is
                record["epc"] = epc_to_json(tag.tag_id)
            self._write(record)
            self.lines += 1


def main(args: argparse.Namespace) -> int:
    info = driver_info(args.driver)
    options = parse_options(args.set or [])
    if args.port is not None:
        options["port"] = args.port
    driver = info.factory(driver_config(args.driver, options))
    probe = Probe(driver, sys.stdout, interval_s=args.interval, count=args.count)
    run_until_signalled(probe.run)
    return 0
