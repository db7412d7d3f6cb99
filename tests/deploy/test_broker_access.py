"""config-init and the broker's access rules, on a real Mosquitto.

deploy/init-secrets.sh runs as config-init would (with local paths), and a
private Mosquitto starts from deploy/mosquitto/mosquitto.conf with the files
it wrote: the collector reads every site, a site writes only its own topics,
strangers get nothing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.stack import (
    CLOUD_PASSWORD,
    ROOT,
    SITE_PASSWORD,
    Client,
    StackBroker,
    run_init,
    site_line,
)

# ---- config-init -----------------------------------------------------------------


def test_config_init_writes_passwords_acl_and_cloud_config(tmp_path: Path) -> None:
    line = site_line(tmp_path, "acme-north", SITE_PASSWORD)
    done = run_init(tmp_path, sites=line)
    assert done.returncode == 0, done.stderr
    passwd = (tmp_path / "auth" / "passwd").read_text()
    assert [entry.split(":")[0] for entry in passwd.splitlines()] == ["acme-north", "vmi-cloud"]
    assert CLOUD_PASSWORD not in passwd, "hashes only"
    assert (tmp_path / "auth" / "acl").read_text() == (ROOT / "deploy/mosquitto/acl").read_text()
    for path in (tmp_path / "auth" / "passwd", tmp_path / "config" / "cloud.toml"):
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} readable by others"
    cloud = (tmp_path / "config" / "cloud.toml").read_text()
    assert f"vmi-cloud:{CLOUD_PASSWORD}@mosquitto:1883" in cloud
    assert not re.search(r"^[^#]*\$\{", cloud, re.MULTILINE)
    tomllib.loads(cloud)


def test_add_site_makes_a_password_when_given_none(tmp_path: Path) -> None:
    done = run_init(tmp_path, "add-site", "bravo-works")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"bravo-works:\$7\$\S+\n", done.stdout)
    assert re.search(r"password for site bravo-works.*: [0-9a-f]{48}$", done.stderr.strip())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VMI_MQTT_CLOUD_PASSWORD": ""}, "VMI_MQTT_CLOUD_PASSWORD is empty"),
        ({"VMI_INFLUX_ADMIN_PASSWORD": "p@ss/word"}, "VMI_INFLUX_ADMIN_PASSWORD may use only"),
    ],
)
def test_config_init_refuses_missing_or_unsafe_secrets(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    done = run_init(tmp_path, **env)
    assert done.returncode != 0
    assert message in done.stderr
    assert not (tmp_path / "config" / "cloud.toml").exists()


@pytest.mark.parametrize("site", ["vmi-cloud", "a/b", "x+"])
def test_add_site_refuses_ids_that_break_the_acl(tmp_path: Path, site: str) -> None:
    done = run_init(tmp_path, "add-site", site, VMI_SITE_PASSWORD=SITE_PASSWORD)
    assert done.returncode != 0
    assert "site id" in done.stderr


# ---- the broker -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackBroker]:
    tmp_path = tmp_path_factory.mktemp("stack-broker")
    sites = site_line(tmp_path, "acme-north", SITE_PASSWORD) + site_line(
        tmp_path, "bravo-works", SITE_PASSWORD
    )
    done = run_init(tmp_path, sites=sites)
    assert done.returncode == 0, done.stderr
    with StackBroker(tmp_path / "mosquitto", tmp_path / "auth") as server:
        yield server


@pytest.fixture
def clients(broker: StackBroker) -> Iterator[dict[str, Client]]:
    made = {
        "cloud": Client(broker, "vmi-cloud", CLOUD_PASSWORD),
        "acme": Client(broker, "acme-north", SITE_PASSWORD),
        "bravo": Client(broker, "bravo-works", SITE_PASSWORD),
    }
    for client in made.values():
        assert client.accepted()
    yield made
    for client in made.values():
        client.close()


def test_strangers_are_refused(broker: StackBroker) -> None:
    for user, password in [(None, None), ("vmi-cloud", "wrong"), ("acme-north", "wrong")]:
        client = Client(broker, user, password)
        try:
            assert not client.accepted(), user
        finally:
            client.close()


def test_the_collector_reads_every_site_and_a_site_writes_only_its_own(
    clients: dict[str, Client],
) -> None:
    clients["cloud"].subscribe("vmi/v1/+/+/+")
    clients["acme"].publish("vmi/v1/acme-north/gw-01/readings", b"own")
    clients["acme"].publish("vmi/v1/acme-north/gw-01/status", b"own status")
    clients["acme"].publish("vmi/v1/bravo-works/gw-01/readings", b"posing as bravo")
    clients["acme"].publish("vmi/v1/acme-north/gw-01/cmd", b"commanding itself")
    got = clients["cloud"].received()
    assert sorted(got) == [
        ("vmi/v1/acme-north/gw-01/readings", b"own"),
        ("vmi/v1/acme-north/gw-01/status", b"own status"),
    ]


def test_a_site_reads_its_own_commands_and_alerts_only(clients: dict[str, Client]) -> None:
    clients["acme"].subscribe("vmi/v1/acme-north/+/cmd")
    clients["acme"].subscribe("vmi/v1/acme-north/alerts")
    clients["acme"].subscribe("vmi/v1/bravo-works/+/cmd")
    clients["acme"].subscribe("vmi/v1/+/+/readings")
    clients["cloud"].publish("vmi/v1/acme-north/gw-01/cmd", b"tare")
    clients["cloud"].publish("vmi/v1/acme-north/alerts", b"reorder")
    clients["cloud"].publish("vmi/v1/bravo-works/gw-01/cmd", b"not for acme")
    clients["bravo"].publish("vmi/v1/bravo-works/gw-01/readings", b"bravo's stock")
    assert sorted(clients["acme"].received()) == [
        ("vmi/v1/acme-north/alerts", b"reorder"),
        ("vmi/v1/acme-north/gw-01/cmd", b"tare"),
    ]
