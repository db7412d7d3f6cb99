"""config-init and the broker's access rules, on a real Mosquitto.

deploy/init-secrets.sh runs as config-init would (with local paths): it loads
deploy/catalog.yaml into the catalog database and runs the real `vmi cloud
mosquitto-config` on it. A private Mosquitto then starts from
deploy/mosquitto/mosquitto.conf with the files it wrote: each device
publishes only under its own vmi/v1/<site>/<device>/, the collector reads
every device (through a shared subscription too), strangers get nothing, and
a device added to the catalog gets in after a rerun and SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import textwrap
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.broker.access import hash_password, parse_passwd, verify_password
from cloud.catalog import (
    AgreementSpec,
    Catalog,
    DeviceKind,
    DeviceSpec,
    parse_catalog,
    read_catalog_file,
)
from tests.deploy.stack import (
    CATALOG,
    CLOUD_PASSWORD,
    Client,
    StackBroker,
    catalog_url,
    device_passwords,
    run_init,
    secret_lines,
)

# The stack's default VMI_MQTT_DEVICE_KINDS (docker-compose.yml): devices that
# speak MQTT themselves; scales and readers send through their gateway.
MQTT_KINDS = {DeviceKind.GATEWAY, DeviceKind.SENSOR_NODE}
DEVICES = {d.code: d for d in read_catalog_file(CATALOG).devices}
MQTT_DEVICES = sorted(code for code, d in DEVICES.items() if d.kind in MQTT_KINDS)
NORTH = "gw-acme-north-01"  # at acme-north, as deploy/edge.toml
SOUTH = "gw-acme-south-01"  # at acme-south
READER = "rfid-acme-north-01"  # an RFID reader at acme-north: no MQTT user
ERP = "vmi-erp"

# A new site with one gateway, as docs/deploy.md adds it.
NEW_SITE = """
  - code: gw-bravo-01
    site: bravo-works
"""
NEW_SITE_CATALOG = CATALOG.read_text().replace(
    "\nsites:\n", "\nsites:\n  - {code: bravo-works, customer: acme}\n"
) + NEW_SITE.lstrip("\n")


def test_the_example_catalog_has_what_the_tests_rely_on() -> None:
    assert DEVICES[NORTH].site == "acme-north"
    assert DEVICES[SOUTH].site == "acme-south"
    assert DEVICES[READER].site == "acme-north"
    assert DEVICES[READER].kind not in MQTT_KINDS
    assert "gw-bravo-01" not in DEVICES
    added = parse_catalog(NEW_SITE_CATALOG).devices[-1]
    assert (added.code, added.site) == ("gw-bravo-01", "bravo-works")


# ---- config-init -----------------------------------------------------------------


def _passwd(tmp_path: Path) -> dict[str, str]:
    return parse_passwd((tmp_path / "auth" / "passwd").read_text())


def test_config_init_writes_device_users_acl_catalog_and_cloud_config(tmp_path: Path) -> None:
    done = run_init(tmp_path)
    assert done.returncode == 0, done.stderr
    passwd = _passwd(tmp_path)
    assert sorted(passwd) == sorted(["vmi-cloud", *MQTT_DEVICES])
    assert verify_password(passwd["vmi-cloud"], CLOUD_PASSWORD)
    # Each device's password once in the secrets file, none in the repository's files.
    new = secret_lines(tmp_path)
    assert sorted(user for user, _ in new) == MQTT_DEVICES
    for user, password in new:
        assert verify_password(passwd[user], password), user
    assert CLOUD_PASSWORD not in (tmp_path / "secrets" / "mqtt-passwords").read_text()

    acl = (tmp_path / "auth" / "acl").read_text()
    assert "pattern" not in re.sub(r"#.*", "", acl), "no %u patterns: one block per device"
    assert f"user {READER}" not in acl
    north = re.search(rf"^user {NORTH}\n((?:topic .*\n)+)", acl, re.MULTILINE)
    assert north is not None
    assert north.group(1).splitlines() == [
        f"topic write vmi/v1/acme-north/{NORTH}/readings",
        f"topic write vmi/v1/acme-north/{NORTH}/events",
        f"topic write vmi/v1/acme-north/{NORTH}/status",
        f"topic read vmi/v1/acme-north/{NORTH}/cmd",
    ]
    for path in ("auth/passwd", "auth/acl", "config/cloud.toml", "secrets/mqtt-passwords"):
        assert (tmp_path / path).stat().st_mode & 0o077 == 0, f"{path} readable by others"
    for folder in ("auth", "config"):
        assert not list((tmp_path / folder).glob(".config-init.*")), f"work directory in {folder}"

    cloud = (tmp_path / "config" / "cloud.toml").read_text()
    assert f"vmi-cloud:{CLOUD_PASSWORD}@mosquitto:1883" in cloud
    assert not re.search(r"^[^#]*\$\{", cloud, re.MULTILINE)
    tomllib.loads(cloud)

    catalog = Catalog(catalog_url(tmp_path))
    try:
        assert catalog.site_of_device(NORTH) == "acme-north"
        assert {d.code for d in catalog.entries(DeviceSpec)} == set(DEVICES)
        assert catalog.entries(AgreementSpec)
    finally:
        catalog.close()


def test_a_rerun_keeps_every_password_and_rotate_changes_one(tmp_path: Path) -> None:
    assert run_init(tmp_path).returncode == 0
    first, given = _passwd(tmp_path), secret_lines(tmp_path)
    again = run_init(tmp_path)
    assert again.returncode == 0, again.stderr
    assert _passwd(tmp_path) == first
    assert secret_lines(tmp_path) == given, "no new password"

    rotated = run_init(tmp_path, "--rotate", SOUTH)
    assert rotated.returncode == 0, rotated.stderr
    after = _passwd(tmp_path)
    assert {u for u in first if after[u] != first[u]} == {SOUTH}
    ((user, password),) = secret_lines(tmp_path)[len(given) :]
    assert user == SOUTH
    assert verify_password(after[SOUTH], password)


def test_the_old_per_site_users_are_removed(tmp_path: Path) -> None:
    (tmp_path / "auth").mkdir()
    (tmp_path / "auth" / "passwd").write_text(f"acme-north:{hash_password('old-site')}\n")
    done = run_init(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "acme-north" not in _passwd(tmp_path)
    assert "removed: acme-north" in done.stderr


def test_device_kinds_and_the_readonly_user_come_from_the_environment(tmp_path: Path) -> None:
    done = run_init(
        tmp_path, VMI_MQTT_DEVICE_KINDS="gateway rfid_reader", VMI_MQTT_READONLY_USER=ERP
    )
    assert done.returncode == 0, done.stderr
    kinds = {DeviceKind.GATEWAY, DeviceKind.RFID_READER}
    gateways = [c for c, d in DEVICES.items() if d.kind in kinds]
    assert sorted(_passwd(tmp_path)) == sorted(["vmi-cloud", ERP, *gateways])
    acl = (tmp_path / "auth" / "acl").read_text()
    assert re.search(rf"^user {ERP}\ntopic read vmi/v1/#$", acl, re.MULTILINE)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VMI_MQTT_CLOUD_PASSWORD": ""}, "VMI_MQTT_CLOUD_PASSWORD is empty"),
        ({"VMI_INFLUX_ADMIN_PASSWORD": "p@ss/word"}, "VMI_INFLUX_ADMIN_PASSWORD may use only"),
        ({"VMI_MQTT_READONLY_USER": "vmi-cloud"}, "different names"),
        ({"VMI_MQTT_DEVICE_KINDS": "gateway printer"}, "--kinds printer"),
    ],
)
def test_config_init_refuses_missing_or_unsafe_settings(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    done = run_init(tmp_path, **env)
    assert done.returncode != 0
    assert message in done.stderr
    assert not (tmp_path / "config" / "cloud.toml").exists()
    assert not (tmp_path / "auth" / "passwd").exists()


def test_a_bad_catalog_stops_config_init_and_changes_no_file(tmp_path: Path) -> None:
    assert run_init(tmp_path).returncode == 0
    written = {p: p.read_bytes() for p in (tmp_path / "auth").iterdir()}
    written[tmp_path / "config" / "cloud.toml"] = (tmp_path / "config/cloud.toml").read_bytes()
    bad = CATALOG.read_text() + "  - {code: gw-nowhere-01, site: no-such-site}\n"
    done = run_init(tmp_path, catalog=bad)
    assert done.returncode != 0
    assert "no-such-site" in done.stderr
    assert {p: p.read_bytes() for p in written} == written
    assert sorted((tmp_path / "auth").iterdir()) == sorted(p for p in written if "auth" in p.parts)


# ---- the broker -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackBroker, Path]]:
    tmp_path = tmp_path_factory.mktemp("stack-broker")
    done = run_init(tmp_path, VMI_MQTT_READONLY_USER=ERP)
    assert done.returncode == 0, done.stderr
    with StackBroker(tmp_path / "mosquitto", tmp_path / "auth") as server:
        yield server, tmp_path


@pytest.fixture
def broker(stack_auth: tuple[StackBroker, Path]) -> StackBroker:
    return stack_auth[0]


@pytest.fixture
def passwords(stack_auth: tuple[StackBroker, Path]) -> dict[str, str]:
    return device_passwords(stack_auth[1])


@pytest.fixture
def clients(broker: StackBroker, passwords: dict[str, str]) -> Iterator[dict[str, Client]]:
    made = {user: Client(broker, user, passwords[user]) for user in ("vmi-cloud", NORTH, SOUTH)}
    for user, client in made.items():
        assert client.accepted(), user
    yield made
    for client in made.values():
        client.close()


def test_strangers_and_borrowed_passwords_are_refused(
    broker: StackBroker, passwords: dict[str, str]
) -> None:
    tries = [
        (None, None),
        ("vmi-cloud", "wrong"),
        (NORTH, "wrong"),
        (NORTH, passwords[SOUTH]),
        ("vmi-cloud", passwords[NORTH]),
        ("acme-north", passwords[NORTH]),  # the old per-site user
        (READER, passwords[NORTH]),  # a device without an MQTT user
    ]
    for user, password in tries:
        client = Client(broker, user, password)
        try:
            assert not client.accepted(), user
        finally:
            client.close()


def test_the_broker_refuses_packets_over_the_contracts_limit(
    broker: StackBroker, passwords: dict[str, str], clients: dict[str, Client]
) -> None:
    from cloud.ingest.decode import MAX_PAYLOAD_BYTES

    cloud = clients["vmi-cloud"]
    cloud.subscribe("vmi/v1/acme-north/+/readings")
    device = Client(broker, NORTH, passwords[NORTH])
    try:
        assert device.accepted()
        topic = f"vmi/v1/acme-north/{NORTH}/readings"
        largest = b"x" * MAX_PAYLOAD_BYTES
        device.publish(topic, largest)  # the largest the contract allows gets through
        assert [(t, len(p)) for t, p in cloud.received(timeout=5)] == [(topic, len(largest))]
        with contextlib.suppress(RuntimeError, ValueError):  # paho: not published
            device.publish(topic, b"x" * (MAX_PAYLOAD_BYTES + 8192))
        assert device.dropped.wait(10), "the broker closed the oversized sender's connection"
        assert cloud.received() == [], "nothing of it reached the collector"
    finally:
        device.close()


def test_a_device_publishes_only_under_its_own_site_and_code(clients: dict[str, Client]) -> None:
    cloud, north = clients["vmi-cloud"], clients[NORTH]
    cloud.subscribe("vmi/v1/+/+/readings")
    cloud.subscribe("vmi/v1/+/+/status")
    cloud.subscribe("vmi/v1/+/alerts")
    north.publish(f"vmi/v1/acme-north/{NORTH}/readings", b"own")
    north.publish(f"vmi/v1/acme-north/{NORTH}/status", b"own status")
    north.publish(f"vmi/v1/acme-south/{SOUTH}/readings", b"posing as a device of another site")
    north.publish(f"vmi/v1/acme-south/{NORTH}/readings", b"its own code at another site")
    north.publish(f"vmi/v1/acme-north/{READER}/readings", b"another device of its site")
    north.publish("vmi/v1/acme-north/alerts", b"a device raising alerts")
    assert sorted(cloud.received()) == [
        (f"vmi/v1/acme-north/{NORTH}/readings", b"own"),
        (f"vmi/v1/acme-north/{NORTH}/status", b"own status"),
    ]


def test_a_device_reads_its_own_commands_only(clients: dict[str, Client]) -> None:
    cloud, north, south = clients["vmi-cloud"], clients[NORTH], clients[SOUTH]
    north.subscribe(f"vmi/v1/acme-north/{NORTH}/cmd")
    north.subscribe(f"vmi/v1/acme-south/{SOUTH}/cmd")  # acknowledged, never delivered
    north.subscribe("vmi/v1/+/+/readings")
    cloud.publish(f"vmi/v1/acme-north/{NORTH}/cmd", b"tare north")
    cloud.publish(f"vmi/v1/acme-south/{SOUTH}/cmd", b"tare south")
    south.publish(f"vmi/v1/acme-south/{SOUTH}/readings", b"south's stock")
    assert north.received() == [(f"vmi/v1/acme-north/{NORTH}/cmd", b"tare north")]


def test_the_collector_reads_every_site_through_a_shared_subscription(
    broker: StackBroker, passwords: dict[str, str], clients: dict[str, Client]
) -> None:
    group = "g" + uuid.uuid4().hex[:8]
    other = Client(broker, "vmi-cloud", passwords["vmi-cloud"])
    try:
        assert other.accepted()
        for collector in (clients["vmi-cloud"], other):
            collector.subscribe(f"$share/{group}/vmi/v1/+/+/readings")
        for n in range(4):
            clients[NORTH].publish(f"vmi/v1/acme-north/{NORTH}/readings", b"north %d" % n)
            clients[SOUTH].publish(f"vmi/v1/acme-south/{SOUTH}/readings", b"south %d" % n)
        got = clients["vmi-cloud"].received() + other.received()
    finally:
        other.close()
    expected = [b"north %d" % n for n in range(4)] + [b"south %d" % n for n in range(4)]
    assert sorted(payload for _, payload in got) == sorted(expected), "each once, none lost"


def test_the_readonly_user_reads_alerts_and_writes_nothing(
    broker: StackBroker, passwords: dict[str, str], clients: dict[str, Client]
) -> None:
    erp = Client(broker, ERP, passwords[ERP])
    try:
        assert erp.accepted()
        erp.subscribe("vmi/v1/+/alerts")
        clients[NORTH].subscribe(f"vmi/v1/acme-north/{NORTH}/cmd")
        clients["vmi-cloud"].publish("vmi/v1/acme-south/alerts", b"reorder")
        erp.publish(f"vmi/v1/acme-north/{NORTH}/cmd", b"the ERP commanding a device")
        assert erp.received() == [("vmi/v1/acme-south/alerts", b"reorder")]
        assert clients[NORTH].received() == []
    finally:
        erp.close()


def _reload(broker: StackBroker) -> None:
    """SIGHUP our own broker process: it re-reads the password and ACL files."""
    assert broker.pid is not None
    size = broker.log_path.stat().st_size
    os.kill(broker.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while b"Reloading config" not in broker.log_path.read_bytes()[size:]:
        assert time.monotonic() < deadline, broker.log_tail()
        time.sleep(0.05)


def test_catalog_changes_reach_the_broker_on_sighup(tmp_path: Path) -> None:
    """docs/deploy.md, "Add a site": change the catalog, run config-init again,
    SIGHUP. A new device gets in, the others keep their passwords, and a device
    taken out of the catalog is disconnected at once."""
    assert run_init(tmp_path).returncode == 0
    before = device_passwords(tmp_path)
    with StackBroker(tmp_path / "mosquitto", tmp_path / "auth") as broker:
        south = Client(broker, SOUTH, before[SOUTH])
        assert south.accepted()
        catalog = NEW_SITE_CATALOG
        start = catalog.index(f"  - code: {SOUTH}\n")
        end = catalog.index("  - code: ", start + 1)
        done = run_init(tmp_path, catalog=catalog[:start] + catalog[end:])
        assert done.returncode == 0, done.stderr
        passwords = device_passwords(tmp_path)
        assert set(passwords) - set(before) == {"gw-bravo-01"}
        _reload(broker)
        new = Client(broker, "gw-bravo-01", passwords["gw-bravo-01"])
        old = Client(broker, NORTH, before[NORTH])
        cloud = Client(broker, "vmi-cloud", CLOUD_PASSWORD)
        try:
            assert south.dropped.wait(10), "the removed device is still connected"
            assert new.accepted()
            assert old.accepted(), "existing devices keep their passwords"
            assert cloud.accepted()
            cloud.subscribe("vmi/v1/+/+/readings")
            new.publish("vmi/v1/bravo-works/gw-bravo-01/readings", b"bravo")
            new.publish(f"vmi/v1/acme-north/{NORTH}/readings", b"posing as acme")
            assert cloud.received() == [("vmi/v1/bravo-works/gw-bravo-01/readings", b"bravo")]
        finally:
            for client in (south, new, old, cloud):
                client.close()


def test_the_add_a_site_example_of_the_docs_loads_onto_the_catalog(tmp_path: Path) -> None:
    docs = (CATALOG.parents[1] / "docs" / "deploy.md").read_text()
    section = docs[docs.index("## Add a site") :]
    (example, *_) = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    added = parse_catalog("version: 1\n" + textwrap.dedent(example))
    (device,) = added.devices
    catalog = Catalog(catalog_url(tmp_path))
    try:
        catalog.load_file(CATALOG)
        catalog.load(added)
        assert catalog.site_of_device(device.code) == device.site
    finally:
        catalog.close()
