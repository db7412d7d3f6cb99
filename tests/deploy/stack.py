"""The stack's broker and config-init, run locally for tests.

`run_init` runs deploy/init-secrets.sh as the config-init service would, with
local paths and the project's own `vmi` and `python`; `StackBroker` is a
private Mosquitto started from deploy/mosquitto/mosquitto.conf with the files
it wrote; `Client` is a paho client that records what it receives.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from tests.mqtt_login import LoginClient
from tests.servers import MosquittoServer

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "deploy" / "init-secrets.sh"
CATALOG = ROOT / "deploy" / "catalog.yaml"
CLOUD_PASSWORD = "cloud-" + uuid.uuid4().hex
# What config-init copies from the repository's deploy/ (the catalog is written apart).
DEPLOY_FILES = ("cloud.toml", "load_catalog.py", "mosquitto/mosquitto.conf")


def catalog_url(tmp_path: Path) -> str:
    """The catalog database `run_init` loads into (the stack's is /var/lib/vmi/orders.db)."""
    return f"sqlite:///{tmp_path}/orders.db"


def run_init(
    tmp_path: Path, *args: str, catalog: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """deploy/init-secrets.sh with `args`; `catalog` replaces deploy/catalog.yaml's text."""
    deploy = tmp_path / "deploy"
    (deploy / "mosquitto").mkdir(parents=True, exist_ok=True)
    for name in DEPLOY_FILES:
        (deploy / name).write_text((ROOT / "deploy" / name).read_text())
    (deploy / "catalog.yaml").write_text(CATALOG.read_text() if catalog is None else catalog)
    environment = {
        # The project's vmi and python first, as /opt/vmi/bin in the image.
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin:/usr/sbin:/sbin",
        "INIT_DEPLOY_DIR": str(deploy),
        "INIT_AUTH_DIR": str(tmp_path / "auth"),
        "INIT_CONFIG_DIR": str(tmp_path / "config"),
        "INIT_SECRETS_DIR": str(tmp_path / "secrets"),
        "INIT_CATALOG_URL": catalog_url(tmp_path),
        "INIT_MOSQUITTO_UID": str(os.getuid()),
        "INIT_VMI_UID": str(os.getuid()),
        "VMI_MQTT_CLOUD_PASSWORD": CLOUD_PASSWORD,
        "VMI_INFLUX_ADMIN_USER": "vmi-admin",
        "VMI_INFLUX_ADMIN_PASSWORD": "influx-" + uuid.uuid4().hex,
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def secret_lines(tmp_path: Path) -> list[tuple[str, str]]:
    """(user, password) of each line config-init appended to its secrets file, in order."""
    path = tmp_path / "secrets" / "mqtt-passwords"
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines() if not line.startswith("#")]
    return [(user, password) for user, password in lines]


def device_passwords(tmp_path: Path) -> dict[str, str]:
    """Every MQTT user's current password: the latest line of the secrets file, and
    vmi-cloud's from the environment."""
    return {**dict(secret_lines(tmp_path)), "vmi-cloud": CLOUD_PASSWORD}


class StackBroker(MosquittoServer):
    """Mosquitto running deploy/mosquitto/mosquitto.conf, on a loopback port."""

    def __init__(self, data_dir: Path, auth_dir: Path) -> None:
        super().__init__(data_dir)
        self.auth_dir = auth_dir

    def _write_config(self) -> None:
        conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
        replacements = {
            r"^listener 1883$": f"listener {self.port} {self.host}",
            r"^password_file .*$": f"password_file {self.auth_dir / 'passwd'}",
            r"^acl_file .*$": f"acl_file {self.auth_dir / 'acl'}",
            r"^persistence_location .*$": f"persistence_location {self.data_dir}/",
            r"^log_dest stdout$": f"log_dest file {self.log_path}",
        }
        for pattern, replacement in replacements.items():
            conf, count = re.subn(pattern, replacement, conf, flags=re.MULTILINE)
            assert count == 1, pattern
        user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True)
        self.config_path.write_text(conf + f"\nuser {user.stdout.strip()}\n")


class Client(LoginClient):
    """A login client for the stack's broker; it waits a little longer for messages."""

    quiet_s = 1.5
