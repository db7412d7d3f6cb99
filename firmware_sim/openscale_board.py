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
read and ignored. Self-contained on purpose: `firmware_sim.pty_device` reads
whole lines, and the board reacts to single characters.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from types import TracebackType
from typing import Final, Literal, Self

_POLL_S: Final = 0.05  # longest select() wait; stop() wakes the thread at once through a pipe
_NOISE_BYTES: Final = bytes(b for b in range(256) if b not in b"\r\n")
_GRAMS_PER_UNIT: Final[dict[str, float]] = {"kg": 1000.0, "lbs": 453.59237}
_RAW_ZERO: Final = 84_000  # HX711 counts at no load, as after a tare
_RAW_PER_G: Final = 42.0  # HX711 counts per gram with a typical load cell
_LOCAL_TEMP_C: Final = 23.5
_REMOTE_TEMP_C: Final = 18.25
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


class OpenScaleEmulator:
    """An OpenScale board on a pty. Use as a context manager or start()/stop().

    `noise_g`, `uncalibrated` and the fault probabilities may be changed while
    running.
    """

    def __init__(
        self,
        *,
        capacity_g: float = 5000.0,
        settle_s: float = 0.3,
        noise_g: float = 0.0,
        dynamic_noise_g: float = 20.0,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        report_interval_s: float = 0.1,
        boot_s: float = 0.0,
        line_time_s: float = 0.0,
        unit: Literal["kg", "lbs"] = "lbs",
        decimals: int = 2,
        timestamp: bool = True,
        raw_reading: bool = False,
        local_temp: bool = True,
        remote_temp: bool = True,
        remote_sensor: bool = False,
        firmware_version: str = "1.2",
        seed: int = 0,
    ) -> None:
        """Defaults follow the firmware's own (lbs, 2 decimals, timestamp and both
        temperatures on) except the report interval. `report_interval_s`: 0.01
        to 10 s. `boot_s`: silence after power-up or `restart()` before the
        banner (a real board needs 1-2 s). `line_time_s`: time a report takes
        on the wire; above 0 each line goes out in two halves that far apart,
        so a host that flushes mid-line sees a partial line."""
        for name, p in (("garbage", garbage_probability), ("drop", drop_probability)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}_probability must be within [0, 1], got {p}")
        if not 0.01 <= report_interval_s <= 10.0:
            raise ValueError(
                f"report_interval_s must be within [0.01, 10], got {report_interval_s}"
            )
        if not 0.0 <= line_time_s <= 0.1:
            raise ValueError(f"line_time_s must be within [0, 0.1], got {line_time_s}")
        if capacity_g <= 0 or settle_s < 0 or boot_s < 0:
            raise ValueError("capacity must be positive; settle_s and boot_s not negative")
        if unit not in _GRAMS_PER_UNIT:
            raise ValueError(f"unit must be one of {', '.join(_GRAMS_PER_UNIT)}, got {unit!r}")
        if not 0 <= decimals <= 4:
            raise ValueError(f"decimals must be within [0, 4], got {decimals}")
        self.capacity_g = capacity_g
        self.settle_s = settle_s
        self.noise_g = noise_g
        self.dynamic_noise_g = dynamic_noise_g
        self.garbage_probability = garbage_probability
        self.drop_probability = drop_probability
        self.report_interval_s = report_interval_s
        self.boot_s = boot_s
        self.line_time_s = line_time_s
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
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._gross_g = 0.0
        self._zero_g = 0.0  # gross weight at the tare point
        self._changed_at = -float("inf")  # monotonic time of the last load change
        self._booted_at = time.monotonic()
        self._banner_at: float | None = None  # when the banner is due (booting until then)
        self._in_menu = False
        self._failed = False
        self._reported: list[float] = []
        self._received = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()  # stop() writes here so select() returns
        self._master, self._slave = os.openpty()
        # Raw mode: no echo, no CR/LF translation, so bytes pass untouched
        # until pyserial opens the port (it sets raw mode again).
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self._port = os.ttyname(self._slave)

    # -- lifecycle -----------------------------------------------------------

    @property
    def port(self) -> str:
        """The slave device path to open with pyserial."""
        return self._port

    def start(self) -> None:
        """Power up: after `boot_s` print the banner, then report, in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        if self._master < 0:
            raise RuntimeError("emulator was stopped; create a new one")
        self.restart()
        self._thread = threading.Thread(
            target=self._run, name=f"openscale-{self._port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the pty; idempotent."""
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = self._wake_r = self._wake_w = -1

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def restart(self) -> None:
        """Reset the board (as DTR does on USB): silent for `boot_s`, then the
        banner again; millis from 0, menu closed."""
        with self._lock:
            self._in_menu = False
            self._booted_at = time.monotonic()
            self._banner_at = self._booted_at + self.boot_s

    # -- load model and faults -----------------------------------------------

    def set_load(self, grams: float) -> None:
        """Set the gross load; a change makes readings wander for `settle_s`."""
        with self._lock:
            if grams != self._gross_g:
                self._gross_g = grams
                self._changed_at = time.monotonic()

    @property
    def load_g(self) -> float:
        """The gross load last set."""
        with self._lock:
            return self._gross_g

    @property
    def tare_g(self) -> float:
        """The gross load at the last tare (0 when never tared)."""
        with self._lock:
            return self._zero_g

    @property
    def in_menu(self) -> bool:
        """True while the settings menu is open (no reports)."""
        with self._lock:
            return self._in_menu

    def fail(self) -> None:
        """Go silent, like an unplugged cable: no output, input ignored."""
        self._failed = True

    def recover(self) -> None:
        """Talk again after `fail()`."""
        self._failed = False

    @property
    def reported_stable(self) -> list[float]:
        """A copy of every weight (grams) sent intact, in order; the board has
        no stability flag, so this is every weight it reported."""
        with self._lock:
            return list(self._reported)

    @property
    def characters_received(self) -> int:
        """Characters received, including ignored ones."""
        with self._lock:
            return self._received

    # -- thread --------------------------------------------------------------

    def _run(self) -> None:
        next_report = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                banner_at = self._banner_at
            if banner_at is not None and time.monotonic() >= banner_at and not self._failed:
                self._banner()
                next_report = time.monotonic()
                banner_at = None
            due = next_report if banner_at is None else banner_at
            wait = max(0.0, min(_POLL_S, due - time.monotonic()))
            try:
                ready, _, _ = select.select([self._master, self._wake_r], [], [], wait)
                data = os.read(self._master, 1024) if self._master in ready else b""
            except BlockingIOError:
                data = b""
            except OSError:
                # We hold the slave open, so EIO cannot happen; anything else:
                # back off instead of spinning.
                self._stop.wait(_POLL_S)
                continue
            for char in data.decode("latin-1"):
                self._key(char)
            now = time.monotonic()
            if banner_at is None and now >= next_report:
                if not self.in_menu:
                    self._report()
                next_report += self.report_interval_s
                if next_report < now:  # fell behind: never burst to catch up
                    next_report = now + self.report_interval_s

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
                self._zero_g = self._gross_g
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
        # Draw both numbers every time so one seed gives one fault sequence.
        drop = self._rng.random() < self.drop_probability
        garbage = self._rng.random() < self.garbage_probability
        if drop:
            return
        if garbage:
            self._write(self._garbage())
            return
        if grams is not None:
            # Logged before writing, so a reader that has the line finds it logged.
            with self._lock:
                self._reported.append(grams)
        self._write(line.encode("ascii"))

    def _reading(self) -> tuple[str, float | None]:
        """The report line and the weight in grams it shows (call with _lock held)."""
        settled = time.monotonic() - self._changed_at >= self.settle_s
        if settled:
            noise = self._rng.gauss(0.0, self.noise_g) if self.noise_g > 0 else 0.0
        else:
            noise = self._rng.uniform(-self.dynamic_noise_g, self.dynamic_noise_g)
        # The ADC saturates: beyond capacity the reading sticks there.
        gross = min(self._gross_g + noise, self.capacity_g)
        net_g = gross - self._zero_g
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

    def _write(self, data: bytes) -> None:
        # A real UART never blocks on a missing reader; drop what does not fit.
        with contextlib.suppress(OSError):
            if self.line_time_s > 0:
                half = len(data) // 2
                os.write(self._master, data[:half])
                self._stop.wait(self.line_time_s)
                data = data[half:]
            os.write(self._master, data)

    def _garbage(self) -> bytes:
        # Always undecodable (a byte >= 0x80 first) and one line long, so
        # tests know exactly one report was spoiled.
        size = self._rng.randint(2, 20)
        body = [self._rng.choice(_NOISE_BYTES) for _ in range(size)]
        return bytes([self._rng.randint(0x80, 0xFF), *body]) + b"\r\n"
