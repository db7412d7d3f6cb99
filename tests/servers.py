"""Private Mosquitto and InfluxDB servers for tests: real processes, no mocks.

Each server runs as our own child process on free loopback ports with its own
data directory, so tests never touch a system service or another run's data.
Stopping signals only that child's PID (terminate, wait, then kill), never a
process found by name. `restart()` keeps ports and data directory, which is
what the fault tests need (stop the broker for a while, bring it back).
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_LOG_TAIL_LINES = 40
_HOST = "127.0.0.1"

# Children still running when the interpreter exits (a crashed session, ^C
# during set-up) are stopped here, by their own PIDs.
_running: set[ServerProcess] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_running):
        server.stop()


class ServerError(RuntimeError):
    """A test server is missing or would not start."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def find_binary(name: str, *fallbacks: str) -> str:
    """The path of a server binary, or a `ServerError` saying how to get it."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in fallbacks:
        if os.access(candidate, os.X_OK):
            return candidate
    where = ", ".join(["PATH", *fallbacks])
    raise ServerError(
        f"{name} is not installed (looked in {where}). "
        "Run `make test`, which installs the test servers, or install it yourself."
    )


class ServerProcess:
    """One server child process: start, wait until it answers, stop by PID."""

    name = "server"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.output_path = self.data_dir / f"{self.name}.out"
        self._process: subprocess.Popen[bytes] | None = None
        self._started_once = False

    # -- what subclasses provide --------------------------------------------

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _write_config(self) -> None:
        raise NotImplementedError

    def _pick_ports(self) -> None:
        raise NotImplementedError

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def _log_paths(self) -> list[Path]:
        return [self.output_path]

    # -- life cycle ---------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The child's PID while it runs."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers; no-op if it runs."""
        if self.running:
            return
        # Ports are chosen on the first start only: restart() must keep them.
        # Another process may grab a free port before the server binds it, so
        # a first start that fails with "address in use" tries fresh ports.
        attempts = 1 if self._started_once else 3
        for attempt in range(attempts):
            if not self._started_once:
                self._pick_ports()
            try:
                self._launch_and_wait()
            except ServerError:
                if attempt + 1 < attempts and "in use" in self.log_tail().lower():
                    continue
                raise
            self._started_once = True
            return

    def _launch_and_wait(self) -> None:
        self._write_config()
        command = self._command()
        with self.output_path.open("ab") as output:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                env=self._environment(),
            )
        _running.add(self)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                self._forget()
                raise ServerError(
                    f"{self.name} exited with code {code} while starting "
                    f"({' '.join(command)}). Log tail:\n{self.log_tail()}"
                )
            if self._is_ready():
                return
            time.sleep(0.05)
        self.stop()
        raise ServerError(
            f"{self.name} did not answer within {START_TIMEOUT_S:.0f} s "
            f"({' '.join(command)}). Log tail:\n{self.log_tail()}"
        )

    def _environment(self) -> dict[str, str]:
        return dict(os.environ)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a timeout); keeps its data."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        self._forget()

    def _forget(self) -> None:
        self._process = None
        _running.discard(self)

    def restart(self) -> None:
        """Stop and start again on the same ports with the same data."""
        self.stop()
        self.start()

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the server's output and log files."""
        chunks = []
        for path in self._log_paths():
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                chunks.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(chunks) or "(no log written)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class MosquittoServer(ServerProcess):
    """A private Mosquitto 2 broker with anonymous access and persistence."""

    name = "mosquitto"

    def __init__(self, data_dir: Path, *, extra_config: str = "") -> None:
        """`extra_config`: more mosquitto.conf lines, e.g. queue and in-flight limits."""
        super().__init__(data_dir)
        self.extra_config = extra_config
        self.binary = find_binary("mosquitto", "/usr/sbin/mosquitto")
        self.host = _HOST
        self.port = 0
        self.config_path = self.data_dir / "mosquitto.conf"
        self.log_path = self.data_dir / "mosquitto.log"

    @property
    def url(self) -> str:
        """`mqtt://127.0.0.1:PORT`."""
        return f"mqtt://{self.host}:{self.port}"

    def _pick_ports(self) -> None:
        self.port = free_port()

    def _write_config(self) -> None:
        # Started as root, Mosquitto drops to the `mosquitto` user, which
        # cannot write our private data directory; `user` keeps it as us.
        user = pwd.getpwuid(os.geteuid()).pw_name
        self.config_path.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.data_dir}/\n"
            f"log_dest file {self.log_path}\n"
            f"user {user}\n" + self.extra_config
        )

    def _command(self) -> list[str]:
        return [self.binary, "-c", str(self.config_path)]

    def _is_ready(self) -> bool:
        return _tcp_answers(self.host, self.port)

    def _log_paths(self) -> list[Path]:
        return [self.output_path, self.log_path]


class InfluxServer(ServerProcess):
    """A private InfluxDB 1.x (`influxd`) with HTTP on a free loopback port."""

    name = "influxd"

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.binary = find_binary("influxd", "/usr/bin/influxd")
        self.host = _HOST
        self.http_port = 0
        self.rpc_port = 0
        self.config_path = self.data_dir / "influxdb.conf"

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.http_port}"

    def database_url(self, db_name: str) -> str:
        """`http://127.0.0.1:PORT/<db_name>`, the form InfluxStore takes."""
        return f"{self.url}/{db_name}"

    def _pick_ports(self) -> None:
        self.http_port = free_port()
        self.rpc_port = free_port()
        while self.rpc_port == self.http_port:
            self.rpc_port = free_port()

    def _write_config(self) -> None:
        d = self.data_dir
        # Upstream 1.6 spells the phone-home switch `reporting-disabled`,
        # Debian's build `reporting-enabled`; unknown keys are ignored, so
        # both are set. Every listener other than HTTP and the RPC port
        # (which cannot be turned off) is off by default in 1.6.
        self.config_path.write_text(
            f"""\
reporting-disabled = true
reporting-enabled = false
bind-address = "{self.host}:{self.rpc_port}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
[http]
  bind-address = "{self.host}:{self.http_port}"
  log-enabled = false
  unix-socket-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  suppress-logo = true
"""
        )

    def _command(self) -> list[str]:
        return [self.binary, "run", "-config", str(self.config_path)]

    def _environment(self) -> dict[str, str]:
        # INFLUXDB_* variables override the config file; a developer's
        # settings must not move our private server.
        return {k: v for k, v in os.environ.items() if not k.startswith("INFLUXDB_")}

    def _is_ready(self) -> bool:
        try:
            response = httpx.get(f"{self.url}/ping", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 204
