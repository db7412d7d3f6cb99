"""Private Mosquitto, InfluxDB and PostgreSQL servers for tests: real processes, no mocks.

Each server runs as our own child process on free loopback ports with its own
data directory, so tests never touch a system service or another run's data.
Stopping signals only that child's PID (terminate, wait, then kill), never a
process found by name. `restart()` keeps ports and data directory, which is
what the fault tests need (stop the broker for a while, bring it back).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

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

    def _popen_options(self) -> dict[str, Any]:
        """More `subprocess.Popen` arguments, e.g. the user to run as."""
        return {}

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
                **self._popen_options(),
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
    """A private InfluxDB 1.x (`influxd`) with HTTP on a free loopback port.

    With `auth`, HTTP authentication is on: create the users (`create_users`)
    right after starting, before anyone else talks to it.
    """

    name = "influxd"

    def __init__(self, data_dir: Path, *, auth: bool = False) -> None:
        super().__init__(data_dir)
        self.auth = auth
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
  auth-enabled = {str(self.auth).lower()}
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

    def query(self, text: str, *, user: tuple[str, str] | None = None) -> None:
        """Run one InfluxQL statement (POST), as `user` (name, password) if given;
        raise if the server refuses it."""
        response = httpx.post(f"{self.url}/query", params={"q": text}, auth=user, timeout=10)
        response.raise_for_status()
        if "error" in response.text:
            raise ServerError(f"influxd refused {text!r}: {response.text}")

    def create_users(self, users: dict[str, str]) -> None:
        """Create admin users (name -> password); the first needs no credentials."""
        first: tuple[str, str] | None = None
        for name, password in users.items():
            self.query(
                f"CREATE USER \"{name}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES", user=first
            )
            first = first or (name, password)


def postgres_bin_dir() -> Path:
    """The directory of the PostgreSQL server binaries (`postgres`, `initdb`).

    Debian keeps them off PATH, in /usr/lib/postgresql/<major>/bin; the
    newest installed major version wins.
    """
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]
    found.sort(key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)], reverse=True)
    if found:
        return found[0]
    raise ServerError(
        "PostgreSQL is not installed (no postgres on PATH or in /usr/lib/postgresql/*/bin). "
        "Run `make test`, which installs the test servers, or install it yourself."
    )


class PostgresServer(ServerProcess):
    """A private PostgreSQL cluster on a free loopback port, trust authentication.

    The cluster (initdb) lives in `cluster_dir`, its unix socket in that
    directory too, so it never meets the system's server or its socket in
    /var/run/postgresql. PostgreSQL refuses to run as root: when the tests
    run as root, `initdb` and `postgres` run as the `postgres` user (set by
    Popen itself, no wrapper process, so the PID is the server's), and the
    cluster goes to a fresh directory under the system temp dir that this
    user owns, because pytest's own temp tree is private to root. That
    directory is removed when the test process exits. Durability settings
    are off (fsync, synchronous commit): a test cluster trades crash safety
    for speed, and stop() always shuts it down cleanly.
    """

    name = "postgres"
    superuser = "postgres"

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.bin_dir = postgres_bin_dir()
        self.host = _HOST
        self.port = 0
        self._account: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ServerError(
                    "running as root, PostgreSQL needs the `postgres` user to run as; "
                    "install Debian's postgresql package (it creates the user)"
                ) from exc
            self.cluster_dir = Path(tempfile.mkdtemp(prefix="vmi-test-pg-"))
            os.chown(self.cluster_dir, self._account.pw_uid, self._account.pw_gid)
            atexit.register(self._remove_private_cluster)
        else:
            self.cluster_dir = self.data_dir / "cluster"

    @property
    def url(self) -> str:
        """`postgresql+psycopg://postgres@127.0.0.1:PORT/postgres` (the maintenance database)."""
        return self.database_url("postgres")

    def database_url(self, db_name: str) -> str:
        """The SQLAlchemy URL of database `db_name` on this server."""
        return f"postgresql+psycopg://{self.superuser}@{self.host}:{self.port}/{db_name}"

    def create_database(self, db_name: str) -> str:
        """Create database `db_name` and return its SQLAlchemy URL."""
        self._admin(f'CREATE DATABASE "{db_name}"')
        return self.database_url(db_name)

    def drop_database(self, db_name: str) -> None:
        """Drop database `db_name`, disconnecting anyone still using it."""
        self._admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg  # only the PostgreSQL tests need it

        with psycopg.connect(**self._connect_args(), autocommit=True) as conn:
            conn.execute(sql.encode())

    def _connect_args(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.superuser,
            "dbname": "postgres",
            "connect_timeout": 2,
        }

    # -- ServerProcess ------------------------------------------------------

    def _pick_ports(self) -> None:
        self.port = free_port()

    def _write_config(self) -> None:
        # Settings go on the command line; the cluster is created only once,
        # so restart() keeps its data.
        if (self.cluster_dir / "PG_VERSION").exists():
            return
        command = [
            str(self.bin_dir / "initdb"),
            "--pgdata",
            str(self.cluster_dir),
            "--username",
            self.superuser,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=self.cluster_dir.parent,
            env=self._environment(),
            timeout=120,
            check=False,
            **self._popen_options(),
        )
        with self.output_path.open("ab") as output:
            output.write(done.stdout + done.stderr)
        if done.returncode != 0:
            raise ServerError(
                f"initdb exited with code {done.returncode} ({' '.join(command)}). "
                f"Log tail:\n{self.log_tail()}"
            )

    def _command(self) -> list[str]:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.cluster_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        command = [str(self.bin_dir / "postgres"), "-D", str(self.cluster_dir)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        return command

    def _environment(self) -> dict[str, str]:
        # PG* variables (PGDATA, PGPORT, ...) would move our private server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if self._account is not None:
            env.update(HOME=self._account.pw_dir, USER="postgres", LOGNAME="postgres")
        return env

    def _popen_options(self) -> dict[str, Any]:
        if self._account is None:
            return {}
        return {
            "user": self._account.pw_uid,
            "group": self._account.pw_gid,
            "extra_groups": [],  # drop root's supplementary groups
        }

    def _is_ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(**self._connect_args()) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, checkpoint, exit), then as any server.

        SIGTERM would be PostgreSQL's "smart" shutdown, which waits for every
        client, including connection pools a test left open.
        """
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            # If it hangs, the base class terminates, then kills.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
        super().stop()

    def _remove_private_cluster(self) -> None:
        self.stop()
        shutil.rmtree(self.cluster_dir, ignore_errors=True)
