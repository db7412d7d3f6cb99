"""An emulated SparkFun OpenScale board (firmware 1.2) on a pseudo-terminal.

On `start()` (and `restart()`) the board prints its banner ending in
`Readings:`, then a report every `report_interval_s`:
`[millis,]weight,lbs|kg,[raw,][localC,][remoteC,]` CR LF, fields as chosen by
the constructor, like the firmware's menu settings. It never says whether a
weight is stable: while the load settles the readings wander by
`dynamic_noise_g`. Above `capacity_g` the ADC saturates and the weight sticks.

Input, like the firmware: single characters, no line end needed. `x` opens the
menu (reports stop, the menu is printed), `1` in the menu tares (and prints
the tare points), `x` leaves it (`Exiting`). Anything else outside the menu is
read and ignored. The load cell (settling, noise, creep) is a `LoadCell`
(`firmware_sim.load_cell`); the board's tare is the scale's zero.
"""

from __future__ import annotations

import math
import time
from typing import Final, Literal, Unpack

from firmware_sim.load_cell import LoadCell
from firmware_sim.pty_device import Cadence, LineFaults
from firmware_sim.pty_scale import PtyScale

_GRAMS_PER_UNIT: Final[dict[str, float]] = {"kg": 1000.0, "lbs": 453.59237}
_RAW_ZERO: Final = 84_000  # HX711 counts at no load, as after a tare
_RAW_PER_G: Final = 42.0  # HX711 counts per gram with a typical load cell
_LOCAL_TEMP_C: Final = 23.5
_REMOTE_TEMP_C: Final = 18.25

#: A hobby load cell: 5 kg, wanders by 20 g while it settles. Its underload
#: limit is not used: the board reports whatever it reads.
BOARD_CELL: Final = LoadCell(capacity_g=5000.0, dynamic_noise_g=20.0)

_MENU: Final = (
    "System Configuration",
    "1) Tare scale to zero [{tare}]",
    "2) Calibrate scale [{factor}]",
    "3) Timestamp [{timestamp}]",
    "4) Set report rate [{rate}]",
    "5) Set baud rate [9600 bps]",
    "6) Change units of measure [{unit}]",
    "7) Decimals [{decimals}]",
    "x) Exit",
)


class OpenScaleEmulator(PtyScale):
    """An OpenScale board on a pty. Use as a context manager or start()/stop().

    `cell`, `uncalibrated`, the report fields and the fault probabilities
    may be changed while running. The board has no stability flag, so
    `reported_stable` logs every weight it reported.
    """

    def __init__(
        self,
        *,
        report_interval_s: float = 0.1,
        boot_s: float = 0.0,
        unit: Literal["kg", "lbs"] = "lbs",
        decimals: int = 2,
        timestamp: bool = True,
        raw_reading: bool = False,
        local_temp: bool = True,
        remote_temp: bool = True,
        remote_sensor: bool = False,
        firmware_version: str = "1.2",
        cell: LoadCell = BOARD_CELL,
        **faults: Unpack[LineFaults],
    ) -> None:
        """Defaults follow the firmware's own (lbs, 2 decimals, timestamp and both
        temperatures on) except the report interval. `report_interval_s`: 0.01
        to 10 s. `boot_s`: silence after power-up or `restart()` before the
        banner (a real board needs 1-2 s). `cell`: above its `capacity_g` the
        reading sticks; its `drift_g_per_s` is creep, settled readings grow
        that many grams a second from the last load change (or `start()`).
        `faults`: see `PtyDevice`; with `line_time_s` above 0 each line goes
        out in two halves, so a host that flushes mid-line sees a partial line."""
        if not 0.01 <= report_interval_s <= 10.0:
            raise ValueError(
                f"report_interval_s must be within [0.01, 10], got {report_interval_s}"
            )
        if boot_s < 0:
            raise ValueError("boot_s must not be negative")
        if unit not in _GRAMS_PER_UNIT:
            raise ValueError(f"unit must be one of {', '.join(_GRAMS_PER_UNIT)}, got {unit!r}")
        if not 0 <= decimals <= 4:
            raise ValueError(f"decimals must be within [0, 4], got {decimals}")
        super().__init__(name="openscale", cell=cell, **faults)
        self.report_interval_s = report_interval_s
        self.boot_s = boot_s
        self.unit = unit
        self.decimals = decimals
        self.timestamp = timestamp
        self.raw_reading = raw_reading
        self.local_temp = local_temp
        self.remote_temp = remote_temp
        self.remote_sensor = remote_sensor
        self.firmware_version = firmware_version
        #: True prints `inf` like a board with calibration factor 0.
        self.uncalibrated = False
        self._booted_at = time.monotonic()
        self._banner_at: float | None = None  # when the banner is due (booting until then)
        self._in_menu = False
        self._received = 0
        self._reporting = Cadence()

    def restart(self) -> None:
        """Reset the board (as DTR does on USB): silent for `boot_s`, then the
        banner again; millis from 0, menu closed."""
        with self._lock:
            self._in_menu = False
            self._booted_at = time.monotonic()
            self._banner_at = self._booted_at + self.boot_s

    @property
    def tare_g(self) -> float:
        """The load cell reading at the last tare (0 when never tared)."""
        with self._lock:
            return self._zero_g

    @property
    def in_menu(self) -> bool:
        """True while the settings menu is open (no reports)."""
        with self._lock:
            return self._in_menu

    @property
    def characters_received(self) -> int:
        """Characters received, including ignored ones."""
        with self._lock:
            return self._received

    # -- thread hooks ----------------------------------------------------------

    def _on_start(self) -> None:
        """Power up: after `boot_s` print the banner, then report."""
        super()._on_start()
        self.restart()

    def _handle_bytes(self, data: bytes) -> None:
        for char in data.decode("latin-1"):
            self._key(char)

    def _tick(self, now: float) -> float:
        with self._lock:
            banner_at = self._banner_at
        if banner_at is not None:
            if now < banner_at:
                return banner_at - now
            if self._failed:
                return math.inf  # a board without a line prints its banner into the void
            self._banner()
            self._reporting.restart()
        if self._reporting.due(now, self.report_interval_s) and not self.in_menu:
            self._report()
        return self._reporting.wait(now)

    # -- output ----------------------------------------------------------------

    def _banner(self) -> None:
        with self._lock:
            self._banner_at = None
        sensor = (
            "Remote temperature sensor detected"
            if self.remote_sensor
            else ("No remote sensor found")
        )
        minimum = max(1, round(self.report_interval_s * 1000))
        self._print(
            "",  # the banner starts with CR LF
            f"Serial Load Cell Converter version {self.firmware_version}",
            "By SparkFun Electronics",
            sensor,
            f"Minimum time between reports: {minimum}",
            "Press x to bring up settings",
            "Readings:",
        )

    def _key(self, char: str) -> None:
        with self._lock:
            self._received += 1
            in_menu = self._in_menu
        if self._failed:
            return
        if not in_menu:
            if char == "x":
                self._open_menu()
            return  # the firmware reads and drops anything else
        if char == "x":
            with self._lock:
                self._in_menu = False
            self._print("Exiting")
        elif char == "1":
            with self._lock:
                self._zero_now()
            point = self._raw(0.0)
            self._print(f"\n\rTare point 1: {point}", f"\n\rTare point 2: {point}")
            self._open_menu()
        else:
            self._open_menu()  # the firmware shows the menu again for any other key

    def _open_menu(self) -> None:
        with self._lock:
            self._in_menu = True
            tare = self._raw(0.0)
        values = {
            "tare": tare,
            "factor": round(_RAW_PER_G * _GRAMS_PER_UNIT[self.unit]),
            "timestamp": "On" if self.timestamp else "Off",
            "rate": round(self.report_interval_s * 1000),
            "unit": self.unit,
            "decimals": self.decimals,
        }
        lines = [line.format(**values) for line in _MENU]
        self._print(f"Serial Load Cell Converter version {self.firmware_version}", *lines)
        self._write(b">")

    def _report(self) -> None:
        if self._failed:
            return
        with self._lock:
            line, grams = self._reading()
        self._send_weight(line.encode("ascii"), grams)

    def _reading(self) -> tuple[str, float | None]:
        """The report line and the weight in grams it shows (call with _lock held)."""
        noise = self._noise(self._stable())
        # The ADC saturates: beyond capacity the reading sticks there.
        net_g = min(self._cell_g() + noise, self.cell.capacity_g) - self._zero_g
        factor = _GRAMS_PER_UNIT[self.unit]
        shown = f"{net_g / factor:.{self.decimals}f}"
        fields: list[str] = []
        if self.timestamp:
            fields.append(str(int((time.monotonic() - self._booted_at) * 1000)))
        fields += ["inf" if self.uncalibrated else shown, self.unit]
        if self.raw_reading:
            fields.append(str(self._raw(net_g)))
        if self.local_temp:
            fields.append(f"{_LOCAL_TEMP_C:.{self.decimals}f}")
        if self.remote_temp:
            fields.append(f"{_REMOTE_TEMP_C:.{self.decimals}f}" if self.remote_sensor else "0")
        grams = None if self.uncalibrated else float(shown) * factor + 0.0
        return ",".join(fields) + ",\r\n", grams

    def _raw(self, net_g: float) -> int:
        return round(_RAW_ZERO + net_g * _RAW_PER_G)

    def _print(self, *lines: str) -> None:
        """Menu and banner text: not subject to garbage or drops."""
        if not self._failed:
            self._write("".join(f"{line}\r\n" for line in lines).encode("ascii"))
