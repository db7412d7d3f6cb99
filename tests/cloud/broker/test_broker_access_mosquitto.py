"""The generated password and ACL files on a real Mosquitto: a device publishes only
under its own vmi/v1/<site>/<device>/, reads only its own commands; the collector
reads every device, also through a shared subscription; wrong passwords are refused;
re-running keeps passwords, --rotate changes one (the broker reloads on SIGHUP)."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.broker.access import hash_password, parse_passwd, verify_password
from tests.mqtt_login import LoginClient
from tests.servers import MosquittoServer
from vmi.cli import main as vmi

CATALOG = """\
version: 1
customers:
  - {code: acme, name: ACME}
sites:
  - {code: north, customer: acme}
  - {code: south, customer: acme}
devices:
  - {code: dev-a, site: north}
  - {code: dev-b, site: south}
"""
WITH_C = CATALOG + "  - {code: dev-c, site: north, kind: sensor_node}\n"


Client = LoginClient


def generate(tmp: Path, catalog: str, *extra: str) -> dict[str, str]:
    """Run `vmi cloud mosquitto-config`; return the new passwords it wrote."""
    (tmp / "catalog.yaml").write_text(catalog)
    secrets = tmp / "secrets.txt"
    secrets.unlink(missing_ok=True)
    args = ["cloud", "mosquitto-config", "--catalog", str(tmp / "catalog.yaml")]
    assert vmi([*args, "--out", str(tmp / "auth"), "--secrets-file", str(secrets), *extra]) == 0
    if not secrets.exists():
        return {}
    lines = [line.split() for line in secrets.read_text().splitlines() if line[:1] != "#"]
    return dict(lines)


def reload(broker: MosquittoServer) -> None:
    """SIGHUP our own broker process: it re-reads the password and ACL files."""
    assert broker.pid is not None
    size = broker.log_path.stat().st_size
    os.kill(broker.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while b"Reloading config" not in broker.log_path.read_bytes()[size:]:
        assert time.monotonic() < deadline, broker.log_tail()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MosquittoServer, Path]]:
    tmp = tmp_path_factory.mktemp("broker-access")
    passwords = generate(tmp, CATALOG, "--readonly-user", "vmi-ops")
    (tmp / "passwords").write_text("".join(f"{u} {p}\n" for u, p in passwords.items()))
    auth = tmp / "auth"
    extra = (
        "allow_anonymous false\n"
        f"password_file {auth / 'passwd'}\n"
        f"acl_file {auth / 'acl'}\n"
        "log_type all\n"
    )
    with MosquittoServer(tmp / "mosquitto", extra_config=extra) as broker:
        yield broker, tmp


@pytest.fixture
def broker(setup: tuple[MosquittoServer, Path]) -> MosquittoServer:
    return setup[0]


@pytest.fixture
def passwords(setup: tuple[MosquittoServer, Path]) -> dict[str, str]:
    lines = (setup[1] / "passwords").read_text().split("\n")
    return dict(line.split() for line in lines if line)


@pytest.fixture
def clients(broker: MosquittoServer, passwords: dict[str, str]) -> Iterator[dict[str, Client]]:
    made = {user: Client(broker, user, passwords[user]) for user in ("vmi-cloud", "dev-a", "dev-b")}
    for user, client in made.items():
        assert client.accepted(), user
    yield made
    for client in made.values():
        client.close()


def test_wrong_unknown_and_anonymous_logins_are_refused(
    broker: MosquittoServer, passwords: dict[str, str]
) -> None:
    tries = [
        ("dev-a", "wrong"),
        ("dev-a", passwords["dev-b"]),
        ("vmi-cloud", passwords["dev-a"]),
        ("nobody", passwords["dev-a"]),
        (None, None),
    ]
    for user, password in tries:
        client = Client(broker, user, password)
        try:
            assert not client.accepted(), user
        finally:
            client.close()


def test_a_device_publishes_only_under_its_own_site_and_code(clients: dict[str, Client]) -> None:
    cloud, a = clients["vmi-cloud"], clients["dev-a"]
    assert cloud.subscribe("vmi/v1/+/+/readings") == [1]
    assert cloud.subscribe("vmi/v1/+/+/status") == [1]
    a.publish("vmi/v1/north/dev-a/readings", b"own")
    a.publish("vmi/v1/north/dev-a/status", b"own status")
    a.publish("vmi/v1/south/dev-a/readings", b"posing at another site")
    a.publish("vmi/v1/south/dev-b/readings", b"posing as dev-b")
    a.publish("vmi/v1/north/dev-b/readings", b"another device at its own site")
    a.publish("vmi/v1/north/alerts", b"a device raising alerts")
    assert sorted(cloud.received()) == [
        ("vmi/v1/north/dev-a/readings", b"own"),
        ("vmi/v1/north/dev-a/status", b"own status"),
    ]


def test_a_device_reads_its_own_commands_only(clients: dict[str, Client]) -> None:
    cloud, a, b = clients["vmi-cloud"], clients["dev-a"], clients["dev-b"]
    a.subscribe("vmi/v1/north/dev-a/cmd")
    a.subscribe("vmi/v1/south/dev-b/cmd")  # acknowledged, and never delivered
    a.subscribe("vmi/v1/+/+/readings")
    cloud.publish("vmi/v1/north/dev-a/cmd", b"tare A")
    cloud.publish("vmi/v1/south/dev-b/cmd", b"tare B")
    b.publish("vmi/v1/south/dev-b/readings", b"B's stock")
    assert a.received() == [("vmi/v1/north/dev-a/cmd", b"tare A")]


def test_the_collector_reads_through_a_shared_subscription(
    broker: MosquittoServer, passwords: dict[str, str], clients: dict[str, Client]
) -> None:
    group = "g" + uuid.uuid4().hex[:8]
    other = Client(broker, "vmi-cloud", passwords["vmi-cloud"])
    try:
        assert other.accepted()
        for collector in (clients["vmi-cloud"], other):
            assert collector.subscribe(f"$share/{group}/vmi/v1/+/+/readings") == [1]
        for n in range(6):
            clients["dev-a"].publish("vmi/v1/north/dev-a/readings", b"%d" % n)
        got = clients["vmi-cloud"].received() + other.received()
    finally:
        other.close()
    assert sorted(payload for _, payload in got) == [b"%d" % n for n in range(6)]


def test_the_collector_writes_commands_but_cannot_pose_as_a_device(
    clients: dict[str, Client],
) -> None:
    a, cloud = clients["dev-a"], clients["vmi-cloud"]
    a.subscribe("vmi/v1/north/dev-a/cmd")
    cloud.subscribe("vmi/v1/+/+/readings")
    cloud.publish("vmi/v1/north/dev-a/readings", b"the collector posing as a device")
    cloud.publish("vmi/v1/north/dev-a/cmd", b"calibrate")
    assert a.received() == [("vmi/v1/north/dev-a/cmd", b"calibrate")]
    assert cloud.received() == []


def test_the_readonly_user_reads_everything_and_writes_nothing(
    broker: MosquittoServer, passwords: dict[str, str], clients: dict[str, Client]
) -> None:
    ops = Client(broker, "vmi-ops", passwords["vmi-ops"])
    try:
        assert ops.accepted()
        ops.subscribe("vmi/v1/#")
        clients["vmi-cloud"].subscribe("vmi/v1/+/+/readings")
        clients["dev-b"].publish("vmi/v1/south/dev-b/readings", b"B")
        clients["vmi-cloud"].publish("vmi/v1/south/alerts", b"reorder")
        ops.publish("vmi/v1/north/dev-a/readings", b"ops posing as a device")
        assert sorted(ops.received()) == [
            ("vmi/v1/south/alerts", b"reorder"),
            ("vmi/v1/south/dev-b/readings", b"B"),
        ]
        assert clients["vmi-cloud"].received() == [("vmi/v1/south/dev-b/readings", b"B")]
    finally:
        ops.close()


def test_rerun_keeps_passwords_adds_devices_and_rotates_on_request(
    setup: tuple[MosquittoServer, Path], passwords: dict[str, str]
) -> None:
    broker, tmp = setup
    before = parse_passwd((tmp / "auth" / "passwd").read_text())
    added = generate(tmp, WITH_C, "--readonly-user", "vmi-ops")
    assert list(added) == ["dev-c"]
    after = parse_passwd((tmp / "auth" / "passwd").read_text())
    assert {u: after[u] for u in before} == before
    reload(broker)
    c = Client(broker, "dev-c", added["dev-c"])
    a = Client(broker, "dev-a", passwords["dev-a"])
    try:
        assert c.accepted()
        assert a.accepted()
    finally:
        c.close()
        a.close()

    rotated = generate(tmp, WITH_C, "--readonly-user", "vmi-ops", "--rotate", "dev-a")
    assert list(rotated) == ["dev-a"]
    reload(broker)
    old = Client(broker, "dev-a", passwords["dev-a"])
    new = Client(broker, "dev-a", rotated["dev-a"])
    try:
        assert not old.accepted()
        assert new.accepted()
    finally:
        old.close()
        new.close()
    # Other tests use dev-a's first password: restore it.
    entries = parse_passwd((tmp / "auth" / "passwd").read_text())
    entries["dev-a"] = after["dev-a"]
    (tmp / "auth" / "passwd").write_text("".join(f"{u}:{h}\n" for u, h in entries.items()))
    reload(broker)


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="no mosquitto_passwd")
def test_hashes_match_mosquitto_passwd(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    path.touch()
    subprocess.run(
        ["mosquitto_passwd", "-b", str(path), "dev-x", "s3cret-Pa55"], check=True, timeout=30
    )
    theirs = parse_passwd(path.read_text())["dev-x"]
    assert verify_password(theirs, "s3cret-Pa55")
    assert not verify_password(theirs, "s3cret-Pa56")
    _, _, iterations, salt, _ = theirs.split("$")
    ours = hash_password("s3cret-Pa55", iterations=int(iterations), salt=base64.b64decode(salt))
    assert ours == theirs
