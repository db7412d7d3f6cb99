"""An emulated Mettler Toledo MT-SICS scale on a pseudo-terminal.

The driver opens `emulator.port` with pyserial exactly as it would open
/dev/ttyUSB0. A daemon thread reads commands from the pty master and answers
like a level 0/1 balance: `S`, `SI`, `T`, `TI`, `Z`, `ZI`, `@`, `I4`, `I0`;
anything else gets `ES`.

The load model is deliberately small: `set_load()` sets the gross weight and
each change makes the scale unstable for `settle_s` seconds. A world model
(picks, deliveries) drives it from outside. Faults: noise, garbage replies,
dropped replies and a silent (unplugged) state.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

_POLL_S = 0.05  # select() timeout: bounds how long stop() waits for the thread
_MAX_COMMAND_BYTES = 256  # a longer line without LF is noise; drop it
_NOISE_BYTES = bytes(b for b in range(256) if b not in b"\r\n")


@dataclass(frozen=True, slots=True)
class _Reply:
    lines: tuple[str, ...]
    stable_g: float | None = None  # the stable weight this reply reports, for the log


class MtSicsEmulator:
    """An MT-SICS balance on a pty. Use as a context manager or start()/stop().

    All weights are grams with two decimals. `noise_g`, `garbage_probability`
    and `drop_probability` may be changed while running.
    """

    def __init__(
        self,
        *,
        capacity_g: float = 6200.0,
        underload_g: float = 50.0,
        settle_s: float = 0.3,
        stable_timeout_s: float = 1.0,
        noise_g: float = 0.0,
        dynamic_noise_g: float = 2.0,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        serial_number: str = "0123456789",
        seed: int = 0,
    ) -> None:
        """`underload_g`: gross readings below minus this answer `S -`.
        `stable_timeout_s`: how long `S`, `T` and `Z` wait for stability
        before answering `I`. `dynamic_noise_g`: spread of readings while
        unstable; `noise_g`: standard deviation of stable readings."""
        for name, p in (("garbage", garbage_probability), ("drop", drop_probability)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}_probability must be within [0, 1], got {p}")
        if capacity_g <= 0 or underload_g < 0 or settle_s < 0 or stable_timeout_s < 0:
            raise ValueError("capacity must be positive; underload and times not negative")
        self.capacity_g = capacity_g
        self.underload_g = underload_g
        self.settle_s = settle_s
        self.stable_timeout_s = stable_timeout_s
        self.noise_g = noise_g
        self.dynamic_noise_g = dynamic_noise_g
        self.garbage_probability = garbage_probability
        self.drop_probability = drop_probability
        self.serial_number = serial_number
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._gross_g = 0.0
        self._zero_g = 0.0  # gross weight that reads as zero
        self._tare_g = 0.0
        self._changed_at = -float("inf")  # monotonic time of the last load change
        self._failed = False
        self._reported: list[float] = []
        self._commands = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master, self._slave = os.openpty()
        # Raw mode: no echo, no CR/LF translation, so bytes pass untouched
        # until pyserial opens the port (it sets raw mode again).
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self._port = os.ttyname(self._slave)
        self._handlers: dict[str, Callable[[], _Reply]] = {
            "S": self._cmd_s,
            "SI": self._cmd_si,
            "T": self._cmd_t,
            "TI": self._cmd_ti,
            "Z": self._cmd_z,
            "ZI": self._cmd_zi,
            "@": self._cmd_reset,
            "I4": self._cmd_identity,
            "I0": self._cmd_list,
        }

    # -- lifecycle -----------------------------------------------------------

    @property
    def port(self) -> str:
        """The slave device path to open with pyserial."""
        return self._port

    def start(self) -> None:
        """Start answering commands in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        if self._master < 0:
            raise RuntimeError("emulator was stopped; create a new one")
        self._thread = threading.Thread(target=self._run, name=f"mtsics-{self._port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (within about 0.1 s) and close the pty; idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

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

    # -- load model and faults -----------------------------------------------

    def set_load(self, grams: float) -> None:
        """Set the gross load; a change makes the scale unstable for `settle_s`."""
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
        """The tare currently subtracted from readings (0 when none)."""
        with self._lock:
            return self._tare_g

    def fail(self) -> None:
        """Go silent, like an unplugged cable: commands are read and ignored."""
        self._failed = True

    def recover(self) -> None:
        """Answer commands again after `fail()`."""
        self._failed = False

    @property
    def reported_stable(self) -> list[float]:
        """A copy of every stable weight sent in an `S`/`SI` reply, in order."""
        with self._lock:
            return list(self._reported)

    @property
    def commands_received(self) -> int:
        """Command lines received, including ignored and unknown ones."""
        with self._lock:
            return self._commands

    # -- thread --------------------------------------------------------------

    def _run(self) -> None:
        buf = bytearray()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], _POLL_S)
                if not ready:
                    continue
                data = os.read(self._master, 1024)
            except BlockingIOError:
                continue
            except OSError:
                # EIO while no slave is open cannot happen (we hold the slave
                # open); anything else: back off instead of spinning.
                self._stop.wait(_POLL_S)
                continue
            buf += data
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf = bytearray(rest)
                self._handle(line.removesuffix(b"\r"))
            if len(buf) > _MAX_COMMAND_BYTES:
                buf.clear()

    def _handle(self, line: bytes) -> None:
        with self._lock:
            self._commands += 1
        if self._failed or not line.strip():
            return
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            reply = _Reply(("ET",))  # a corrupt byte on the line
        else:
            handler = self._handlers.get(text.split()[0])
            reply = handler() if handler is not None else _Reply(("ES",))
        # Draw both numbers every time so one seed gives one fault sequence.
        drop = self._rng.random() < self.drop_probability
        garbage = self._rng.random() < self.garbage_probability
        if drop:
            return
        if garbage:
            self._write(self._garbage())
            return
        # Log before writing: a fast reader may check the log as soon as it has the reply.
        if reply.stable_g is not None:
            with self._lock:
                self._reported.append(reply.stable_g)
        self._write("".join(f"{line}\r\n" for line in reply.lines).encode("ascii"))

    def _write(self, data: bytes) -> None:
        # A real UART never blocks on a missing reader; drop what does not fit.
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def _garbage(self) -> bytes:
        # Always undecodable (a byte >= 0x80 first) and one line long, so
        # tests know exactly one reply was spoiled.
        size = self._rng.randint(2, 20)
        body = [self._rng.choice(_NOISE_BYTES) for _ in range(size)]
        return bytes([self._rng.randint(0x80, 0xFF), *body]) + b"\r\n"

    # -- state ---------------------------------------------------------------

    def _stable(self) -> bool:
        return time.monotonic() - self._changed_at >= self.settle_s

    def _range(self) -> str | None:
        """`+`/`-` when the load is outside the weighing range, else None."""
        raw = self._gross_g - self._zero_g
        if raw > self.capacity_g:
            return "+"
        if raw < -self.underload_g:
            return "-"
        return None

    def _reading(self, stable: bool) -> float:
        """The displayed (net) weight, noisy, rounded to the display's 0.01 g."""
        if stable:
            noise = self._rng.gauss(0.0, self.noise_g) if self.noise_g > 0 else 0.0
        else:
            noise = self._rng.uniform(-self.dynamic_noise_g, self.dynamic_noise_g)
        value = round(self._gross_g - self._zero_g - self._tare_g + noise, 2)
        return value + 0.0  # turn -0.0 into 0.0 so it prints as 0.00

    def _wait_stable(self) -> bool:
        """Wait up to `stable_timeout_s` for the load to settle; stop() cuts it short."""
        deadline = time.monotonic() + self.stable_timeout_s
        while True:
            with self._lock:
                if self._stable():
                    return True
                left = min(deadline, self._changed_at + self.settle_s) - time.monotonic()
            if time.monotonic() >= deadline or self._stop.wait(max(0.0, min(left, _POLL_S))):
                return False

    # -- commands ------------------------------------------------------------

    def _weight(self, echo: str, *, wait: bool) -> _Reply:
        if wait and not self._wait_stable():
            return _Reply((f"{echo} I",))
        with self._lock:
            fault = self._range()
            if fault is not None:
                return _Reply((f"{echo} {fault}",))
            stable = self._stable()
            value = self._reading(stable)
        status = "S" if stable else "D"
        return _Reply((f"{echo} {status} {value:10.2f} g",), value if stable else None)

    def _cmd_s(self) -> _Reply:
        return self._weight("S", wait=True)

    def _cmd_si(self) -> _Reply:
        return self._weight("S", wait=False)  # SI is answered with the echo S

    def _tare(self, echo: str, *, wait: bool) -> _Reply:
        if wait and not self._wait_stable():
            return _Reply((f"{echo} I",))
        with self._lock:
            fault = self._range()
            if fault is not None:
                return _Reply((f"{echo} {fault}",))
            stable = self._stable()
            self._tare_g = 0.0
            self._tare_g = self._reading(stable)
            status = "S" if stable else "D"
            return _Reply((f"{echo} {status} {self._tare_g:10.2f} g",))

    def _cmd_t(self) -> _Reply:
        return self._tare("T", wait=True)

    def _cmd_ti(self) -> _Reply:
        return self._tare("TI", wait=False)

    def _zero(self, echo: str, *, wait: bool) -> _Reply:
        if wait and not self._wait_stable():
            return _Reply((f"{echo} I",))
        with self._lock:
            fault = self._range()
            if fault is not None:
                return _Reply((f"{echo} {fault}",))
            stable = self._stable()
            self._zero_g = self._gross_g
            self._tare_g = 0.0  # zeroing clears the tare, as on a real balance
        if echo == "Z":
            return _Reply(("Z A",))
        return _Reply((f"{echo} {'S' if stable else 'D'}",))

    def _cmd_z(self) -> _Reply:
        return self._zero("Z", wait=True)

    def _cmd_zi(self) -> _Reply:
        return self._zero("ZI", wait=False)

    def _cmd_identity(self) -> _Reply:
        return _Reply((f'I4 A "{self.serial_number}"',))

    def _cmd_reset(self) -> _Reply:
        # `@` returns to the power-on state (tare cleared, zero kept) and
        # answers like I4, so a host can tell which balance it talks to.
        with self._lock:
            self._tare_g = 0.0
        return self._cmd_identity()

    def _cmd_list(self) -> _Reply:
        names = list(self._handlers)
        lines = [f'I0 B 0 "{n}"' for n in names[:-1]] + [f'I0 A 0 "{names[-1]}"']
        return _Reply(tuple(lines))
