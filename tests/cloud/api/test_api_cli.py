"""`vmi cloud apikey create` and `vmi cloud api` as real processes: the first admin
key from the command line, then the API on a real port, read over HTTP and as a
live stream while another process writes levels; SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cloud.timeseries import LevelPoint, SqliteStore
from tests.cloud.api.sse import events
from tests.servers import free_port


def vmi(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vmi.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(sql_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VMI_API_DATABASE_URL": sql_url,
        "VMI_API_TIMESERIES_URL": f"sqlite:///{tmp_path / 'levels.db'}",
        "VMI_API_STREAM_POLL_S": "0.2",
    }


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "vmi.cli", "cloud", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read() if process.stdout else ""
            process.kill()
            pytest.fail(f"vmi cloud api did not start:\n{output}")
        time.sleep(0.1)
    try:
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_create_the_first_admin_key_then_serve(
    env: dict[str, str], server: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    created = vmi("cloud", "apikey", "create", "--role", "admin", "--name", "ops", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("vmi_")
    assert token not in created.stderr  # the token goes to stdout only, once
    refused = vmi("cloud", "apikey", "create", "--role", "supplier", "--tenant", "nope", env=env)
    assert refused.returncode == 2
    assert "no supplier 'nope'" in refused.stderr

    base, process = server
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/me", headers=headers).json()["role"] == "admin"
    assert httpx.get(f"{base}/me").status_code == 401
    assert "vmi_api_requests_total" in httpx.get(f"{base}/metrics").text

    store = SqliteStore(tmp_path / "levels.db")  # another process writes levels
    try:
        store.write_levels([LevelPoint("north", "gw", "A-01", "BOLT", datetime.now(UTC), 5.0)])
        with httpx.stream(
            "GET", f"{base}/stream", params={"max_seconds": 10}, headers=headers, timeout=10
        ) as response:
            stream = events(response.iter_lines())
            assert next(stream)[1]["quantity"] == 5.0
            store.write_levels([LevelPoint("north", "gw", "A-01", "BOLT", datetime.now(UTC), 4.0)])
            name, level = next(stream)
            assert (name, level["quantity"]) == ("level", 4.0)
    finally:
        store.close()

    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    output = process.stdout.read() if process.stdout else ""
    assert token not in output  # nothing the server printed or logged holds the key
