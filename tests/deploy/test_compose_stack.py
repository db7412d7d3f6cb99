"""docker-compose.yml, checked without a Docker engine.

The compose file is read the way `docker compose` reads it (variables from
deploy/.env.example), and every reference in it is followed: variables are
documented or have defaults, mounted files exist, dependencies and volumes
exist, ports agree with what each service listens on, the configs point at
the services by name and container port, and the project image's commands
(those config-init's script runs too) are real `vmi` commands.
"""

from __future__ import annotations

import importlib
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from cloud.broker.access import COLLECTOR_READ, COLLECTOR_WRITE
from cloud.catalog import DeviceKind, read_catalog_file
from tests.deploy.compose import (
    MissingVariable,
    interpolate,
    load,
    mounts,
    published_ports,
    read_env_file,
    references,
)
from tests.deploy.stack import run_init
from vmi.cli import _parser

ROOT = Path(__file__).parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SCRIPT = ROOT / "deploy" / "init-secrets.sh"
MOSQUITTO_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
CATALOG = ROOT / "deploy" / "catalog.yaml"
VMI = Path(sys.executable).with_name("vmi")

# What each image listens on inside its container.
INFLUXDB_PORT = 8086
GRAFANA_PORT = 3000
API_PORT = 8000  # `vmi cloud api --port` in the api service


def example_env(*, fill_required: bool = True) -> dict[str, str]:
    """The variables of deploy/.env.example, required ones given a test value."""
    active, _ = read_env_file(ENV_EXAMPLE)
    if fill_required:
        active = {k: v or f"test-{k.lower().replace('_', '-')}" for k, v in active.items()}
    return active


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    return load(COMPOSE_FILE, example_env())


def services(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = stack["services"]
    return found


def uses_project_image(service: dict[str, Any]) -> bool:
    return service.get("build", {}).get("context") == "."


def mosquitto_listener_port() -> int:
    (port,) = re.findall(r"^listener (\d+)\s*$", MOSQUITTO_CONF.read_text(), re.MULTILINE)
    return int(port)


@pytest.fixture(scope="module")
def init_output(stack: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What config-init writes with the example environment (cloud.toml, passwd, acl)."""
    tmp_path = tmp_path_factory.mktemp("config-init")
    env = {k: str(v) for k, v in services(stack)["config-init"]["environment"].items()}
    done = run_init(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    return tmp_path


# ---- variables ---------------------------------------------------------------------


def test_every_variable_is_in_env_example_or_has_a_default() -> None:
    active, commented = read_env_file(ENV_EXAMPLE)
    text = COMPOSE_FILE.read_text()
    seen: dict[str, set[str | None]] = {}
    for ref in references(text):
        assert ref.op is not None, f"${{{ref.name}}}: give a default or ':?message'"
        if ref.required:
            assert ref.arg.strip(), f"{ref.name}: say what to do when it is missing"
            assert ref.name in active, f"required {ref.name} is not in deploy/.env.example"
        else:
            # Optional ones are listed too, commented out with the same default.
            assert commented.get(ref.name) == ref.default, (
                f"{ref.name}: deploy/.env.example should show '# {ref.name}={ref.default}'"
            )
        seen.setdefault(ref.name, set()).add(ref.default)
    for name, defaults in seen.items():
        assert len(defaults - {None}) <= 1, f"{name} has different defaults: {defaults}"
    unused = (set(active) | set(commented)) - set(seen)
    assert not unused, f"deploy/.env.example lists variables compose does not use: {unused}"


def test_required_variables_stop_compose_with_a_clear_error() -> None:
    active, _ = read_env_file(ENV_EXAMPLE)
    assert active, "the example must list the required variables"
    assert all(value == "" for value in active.values()), "secrets ship empty"
    with pytest.raises(MissingVariable, match=r"set \w+ in \.env"):
        interpolate(COMPOSE_FILE.read_text(), example_env(fill_required=False))
    for name in active:
        env = {k: "x" for k in active if k != name}
        with pytest.raises(MissingVariable, match=name):
            interpolate(COMPOSE_FILE.read_text(), env)


def test_double_dollar_reaches_the_container_as_one(stack: dict[str, Any]) -> None:
    check = " ".join(services(stack)["mosquitto"]["healthcheck"]["test"])
    assert '"$VMI_MQTT_CLOUD_PASSWORD"' in check
    assert "VMI_MQTT_CLOUD_PASSWORD" in services(stack)["mosquitto"]["environment"]


# ---- services, volumes, health ---------------------------------------------------------


def test_the_stack_has_its_services(stack: dict[str, Any]) -> None:
    assert set(services(stack)) == {
        "config-init",
        "mosquitto",
        "influxdb",
        "grafana",
        "cloud",
        "api",
        "demo",
    }
    assert services(stack)["demo"]["profiles"] == ["demo"]
    image = services(stack)["influxdb"]["image"]
    version = re.fullmatch(r"influxdb:(\d+)\.(\d+)\.(\d+)", image)
    assert version, f"pin InfluxDB to a release: {image}"
    major, minor, _ = (int(part) for part in version.groups())
    assert major == 1
    assert minor >= 8, "InfluxDB 1.8 or later"
    for name, service in services(stack).items():
        if "image" in service and not uses_project_image(service):
            assert not service["image"].endswith(":latest"), name
            assert re.search(r":\d+\.\d+\.\d+$", service["image"]), f"{name}: pin the image"


def test_dependencies_exist_and_their_conditions_can_be_met(stack: dict[str, Any]) -> None:
    all_services = services(stack)
    for name, service in all_services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in all_services, f"{name} depends on unknown {dependency}"
            target = all_services[dependency]
            assert "profiles" not in target, f"{name} depends on optional {dependency}"
            if spec["condition"] == "service_healthy":
                assert "test" in target.get("healthcheck", {}), f"{dependency} has no health check"
            elif spec["condition"] == "service_completed_successfully":
                assert target.get("restart") == "no", f"{dependency} must be one-shot"


def test_long_running_services_have_health_checks(stack: dict[str, Any]) -> None:
    for name, service in services(stack).items():
        if service.get("restart") == "no":
            continue  # one-shot
        check = service.get("healthcheck")
        assert check, f"{name} has no health check"
        if check.get("disable"):
            assert name == "demo", f"{name}: only the demo may go without"
            continue
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name


def test_named_volumes_are_declared_and_used(stack: dict[str, Any]) -> None:
    declared = set(stack["volumes"])
    used = set()
    for name, service in services(stack).items():
        for mount in mounts(service):
            if not mount.is_bind:
                assert mount.source in declared, f"{name}: undeclared volume {mount.source}"
                used.add(mount.source)
    assert used == declared


def test_every_bind_mounted_path_exists_in_the_repository(stack: dict[str, Any]) -> None:
    count = 0
    for name, service in services(stack).items():
        for mount in mounts(service):
            if mount.is_bind:
                assert mount.source.startswith("./"), f"{name}: mount repo paths relatively"
                assert (ROOT / mount.source).exists(), f"{name}: {mount.source} does not exist"
                assert mount.read_only, f"{name}: mount {mount.source} read-only"
                count += 1
    assert count >= 5


def _host_path(service: dict[str, Any], container_path: str) -> Path | None:
    """Where a container path of a bind mount is in the repository."""
    path = PurePosixPath(container_path)
    for mount in mounts(service):
        target = PurePosixPath(mount.target)
        if mount.is_bind and (path == target or target in path.parents):
            return ROOT / mount.source / path.relative_to(target)
    return None


def test_paths_the_containers_read_are_in_their_mounts(stack: dict[str, Any]) -> None:
    all_services = services(stack)
    init = all_services["config-init"]
    script = _host_path(init, init["entrypoint"][-1])
    assert script == INIT_SCRIPT
    assert script.exists()
    # What the script reads from /deploy besides itself.
    deploy_dir = _host_path(init, "/deploy")
    assert deploy_dir is not None
    text = INIT_SCRIPT.read_text()
    assert "DEPLOY_DIR=${INIT_DEPLOY_DIR:-/deploy}" in text
    used = set(re.findall(r"\$DEPLOY_DIR/([\w./-]+)", text))
    assert used == {"catalog.yaml", "cloud.toml", "load_catalog.py"}
    for name in used:
        assert (deploy_dir / name).exists(), f"config-init reads /deploy/{name}"
    grafana = all_services["grafana"]
    home = _host_path(grafana, grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert home is not None
    assert home.exists()
    conf = _host_path(all_services["mosquitto"], "/mosquitto/config/mosquitto.conf")
    assert conf == MOSQUITTO_CONF


def _volume_at(service: dict[str, Any], target: str) -> str:
    (source,) = [m.source for m in mounts(service) if m.target == target]
    return source


def test_generated_files_reach_the_services_that_read_them(stack: dict[str, Any]) -> None:
    """config-init writes into volumes the broker and the collector mount where they look."""
    all_services = services(stack)
    script = INIT_SCRIPT.read_text()
    (auth_dir,) = re.findall(r"INIT_AUTH_DIR:-([^}]+)\}", script)
    (config_dir,) = re.findall(r"INIT_CONFIG_DIR:-([^}]+)\}", script)
    conf = MOSQUITTO_CONF.read_text()
    for key in ("password_file", "acl_file"):
        (path,) = re.findall(rf"^{key} (\S+)$", conf, re.MULTILINE)
        folder = str(PurePosixPath(path).parent)
        assert _volume_at(all_services["mosquitto"], folder) == _volume_at(
            all_services["config-init"], auth_dir
        )
    command = all_services["cloud"]["command"]
    config_path = PurePosixPath(command[command.index("--config") + 1])
    assert _volume_at(all_services["cloud"], str(config_path.parent)) == _volume_at(
        all_services["config-init"], config_dir
    )
    assert config_path.name == "cloud.toml"
    # New passwords go to a volume of their own, which no long-running service mounts.
    (secrets_dir,) = re.findall(r"INIT_SECRETS_DIR:-([^}]+)\}", script)
    secrets_volume = _volume_at(all_services["config-init"], secrets_dir)
    for name, service in all_services.items():
        if name != "config-init":
            assert secrets_volume not in {m.source for m in mounts(service)}, name


def test_config_init_loads_the_catalog_into_the_collectors_database(
    stack: dict[str, Any], init_output: Path
) -> None:
    """The collector's [catalog] url is a file config-init and the collector both
    reach at the same path, in the same volume."""
    all_services = services(stack)
    config = load_cloud(init_output)
    url = config.catalog.url
    assert url is not None, "[catalog] url: the collector checks devices and uses agreements"
    assert url == config.orders.url, "one database: catalog and orders"
    assert url.startswith("sqlite:////")
    folder = str(PurePosixPath(url.removeprefix("sqlite:///")).parent)
    assert _volume_at(all_services["cloud"], folder) == "vmi-orders"
    assert _volume_at(all_services["config-init"], folder) == "vmi-orders"
    # config-init loads it as the image's user vmi (INIT_VMI_UID), who owns the
    # directory in the image, and so the volume Docker fills from it.
    (owned,) = re.findall(r"install -d -o vmi -g vmi -m \d+ (.*)", DOCKERFILE.read_text())
    assert folder in owned.split()


def test_grafana_loads_the_provisioning_and_the_dashboards(stack: dict[str, Any]) -> None:
    grafana = services(stack)["grafana"]
    targets = {m.target: m.source for m in mounts(grafana)}
    assert (
        targets["/etc/grafana/provisioning/datasources"] == "./dashboards/provisioning/datasources"
    )
    assert targets["/etc/grafana/provisioning/dashboards"] == "./dashboards/provisioning/dashboards"
    (provider_file,) = (ROOT / "dashboards/provisioning/dashboards").glob("*.yaml")
    (provider,) = yaml.safe_load(provider_file.read_text())["providers"]
    assert targets[provider["options"]["path"]] == "./dashboards/dashboards"
    assert list((ROOT / "dashboards/dashboards").glob("*.json"))


# ---- ports and addresses ---------------------------------------------------------------


def test_published_ports_are_the_ports_the_services_listen_on(
    stack: dict[str, Any], init_output: Path
) -> None:
    cloud = load_cloud(init_output)
    assert cloud.metrics.host_port is not None
    listening = {
        "mosquitto": mosquitto_listener_port(),
        "influxdb": INFLUXDB_PORT,
        "grafana": GRAFANA_PORT,
        "cloud": cloud.metrics.host_port[1],
        "api": API_PORT,
    }
    for name, service in services(stack).items():
        for host, container in published_ports(service):
            assert container == listening[name], f"{name} publishes {container}"
            if name in ("influxdb", "cloud", "api"):
                assert host.startswith("127.0.0.1:"), f"{name}: loopback only"
        check = " ".join(service.get("healthcheck", {}).get("test", []))
        for port in re.findall(r"(?:127\.0\.0\.1|localhost)(?::| -p )(\d+)", check):
            assert int(port) == listening[name], f"{name} health check asks port {port}"


def load_cloud(init_output: Path) -> Any:
    from cloud.config import load_cloud_config

    return load_cloud_config(init_output / "config" / "cloud.toml")


def test_cloud_config_points_at_the_stack_services(
    stack: dict[str, Any], init_output: Path
) -> None:
    all_services = services(stack)
    config = load_cloud(init_output)
    mqtt = urlsplit(config.mqtt.url)
    assert (mqtt.hostname, mqtt.port) == ("mosquitto", mosquitto_listener_port())
    assert mqtt.username == "vmi-cloud"
    assert mqtt.password == example_env()["VMI_MQTT_CLOUD_PASSWORD"]
    # The generated ACL lets that user read what devices send and write the rest.
    acl = (init_output / "auth" / "acl").read_text()
    block = re.search(r"^user vmi-cloud\n((?:topic .*\n)+)", acl, re.MULTILINE)
    assert block is not None
    assert block.group(1).splitlines() == [
        *(f"topic read {t}" for t in COLLECTOR_READ),
        *(f"topic write {t}" for t in COLLECTOR_WRITE),
    ]
    # ... and the broker's health check, which logs in as vmi-cloud, subscribes to a topic
    # it may read.
    check = " ".join(all_services["mosquitto"]["healthcheck"]["test"])
    (topic,) = re.findall(r" -t (\S+)", check)
    assert topic in COLLECTOR_READ

    store = urlsplit(config.store.url)
    influx_env = all_services["influxdb"]["environment"]
    assert (store.hostname, store.port) == ("influxdb", INFLUXDB_PORT)
    assert store.path == "/" + influx_env["INFLUXDB_DB"]
    assert store.username == influx_env["INFLUXDB_ADMIN_USER"]
    assert store.password == influx_env["INFLUXDB_ADMIN_PASSWORD"]

    orders = config.orders.url
    assert orders.startswith("sqlite:////")
    assert _volume_at(all_services["cloud"], str(PurePosixPath(orders[10:]).parent)) == "vmi-orders"
    # Bound to every interface of the container, so the published port reaches it.
    assert config.metrics.host_port[0] == "0.0.0.0"  # noqa: S104


def test_grafana_datasource_points_at_influxdb(stack: dict[str, Any]) -> None:
    all_services = services(stack)
    (path,) = (ROOT / "dashboards/provisioning/datasources").glob("*.yaml")
    (source,) = yaml.safe_load(path.read_text())["datasources"]
    url = urlsplit(source["url"])
    assert (url.hostname, url.port) == ("influxdb", INFLUXDB_PORT)
    influx_env = all_services["influxdb"]["environment"]
    assert source["jsonData"]["dbName"] == influx_env["INFLUXDB_DB"]
    grafana_env = all_services["grafana"]["environment"]
    # Grafana replaces ${NAME} in provisioning files with its environment.
    for value in (source["user"], source["secureJsonData"]["password"]):
        (name,) = re.findall(r"^\$\{(\w+)\}$", value)
        assert name in grafana_env, f"grafana has no {name}"
    assert grafana_env[source["user"][2:-1]] == influx_env["INFLUXDB_READ_USER"]
    password = source["secureJsonData"]["password"][2:-1]
    assert grafana_env[password] == influx_env["INFLUXDB_READ_USER_PASSWORD"]


def test_demo_writes_to_the_stack_influxdb(stack: dict[str, Any]) -> None:
    command = services(stack)["demo"]["command"]
    url = urlsplit(command[command.index("--influx") + 1])
    influx_env = services(stack)["influxdb"]["environment"]
    assert (url.hostname, url.port, url.path) == ("influxdb", INFLUXDB_PORT, "/vmi")
    assert url.username == influx_env["INFLUXDB_ADMIN_USER"]


def test_edge_example_speaks_to_the_stack_broker_as_its_catalog_device(
    stack: dict[str, Any], init_output: Path
) -> None:
    from edge_agent.config import load_edge_config

    config = load_edge_config(ROOT / "deploy" / "edge.toml")
    url = urlsplit(config.mqtt.url)
    ((host_side, _),) = published_ports(services(stack)["mosquitto"])
    assert url.port == int(host_side.rpartition(":")[2])
    # The device's MQTT user is its catalog code, at the catalog's site.
    assert url.username == config.device
    (device,) = [d for d in read_catalog_file(CATALOG).devices if d.code == config.device]
    assert device.site == config.site
    kinds = services(stack)["config-init"]["environment"]["VMI_MQTT_DEVICE_KINDS"].split()
    assert device.kind in {DeviceKind(k) for k in kinds}, "config-init gives it a user"
    passwd = (init_output / "auth" / "passwd").read_text()
    assert re.search(rf"^{re.escape(config.device)}:", passwd, re.MULTILINE)
    bound = {(b.location, b.sku) for b in device.bindings}
    assert {(scale.location, scale.sku) for scale in config.scales} <= bound


# ---- the project's image ------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_image_entry_point_is_vmi_and_it_runs_as_a_user() -> None:
    instructions = _dockerfile_instructions()
    entrypoints = [rest for keyword, rest in instructions if keyword == "ENTRYPOINT"]
    assert entrypoints == ['["vmi"]']
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    (uid,) = re.findall(r"--uid (\d+)", DOCKERFILE.read_text())
    assert f"INIT_VMI_UID:-{uid}" in INIT_SCRIPT.read_text(), "config-init chowns to this uid"


def test_image_installs_exactly_the_lock_with_uv() -> None:
    runs = " ".join(rest for keyword, rest in _dockerfile_instructions() if keyword == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    copies = [rest.split() for keyword, rest in _dockerfile_instructions() if keyword == "COPY"]
    sources = {src for parts in copies if not parts[0].startswith("--") for src in parts[:-1]}
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert set(packages) <= sources, "every package of the wheel is copied"
    assert {"pyproject.toml", "uv.lock", "README.md"} <= sources


def test_dockerignore_keeps_secrets_and_caches_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv"} <= ignored
    copied = {
        src
        for keyword, rest in _dockerfile_instructions()
        if keyword == "COPY" and not rest.startswith("--")
        for src in rest.split()[:-1]
    }
    assert not copied & ignored, "the Dockerfile copies something .dockerignore leaves out"


def project_commands(stack: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(service, `vmi` arguments) of the project image's services but config-init,
    whose entry point is deploy/init-secrets.sh (its commands: `script_commands`)."""
    found = []
    for name, service in services(stack).items():
        if uses_project_image(service) and name != "config-init":
            assert "entrypoint" not in service, f"{name}: keep the image's entry point, vmi"
            found.append((name, [str(arg) for arg in service["command"]]))
    return found


def test_project_services_run_real_vmi_commands(stack: dict[str, Any]) -> None:
    commands = project_commands(stack)
    assert {name for name, _ in commands} == {"cloud", "api", "demo"}
    for name, argv in commands:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # argparse's way of refusing
            pytest.fail(f"{name}: `vmi {' '.join(argv)}` is not a vmi command ({exc})")
        module = importlib.import_module(args.module)
        assert callable(module.main), name


def _subcommand_path(argv: list[str]) -> list[str]:
    """Everything before the first option."""
    return argv[: next(i for i, a in enumerate(argv) if a.startswith("-"))]


@pytest.mark.parametrize("name", ["cloud", "api", "demo"])
def test_the_installed_vmi_accepts_each_command(stack: dict[str, Any], name: str) -> None:
    argv = dict(project_commands(stack))[name]
    path = _subcommand_path(argv)
    done = subprocess.run(
        [str(VMI), *path, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    for option in (arg for arg in argv if arg.startswith("--")):
        assert option in done.stdout, f"vmi {' '.join(path)} has no {option}"


def script_commands() -> list[list[str]]:
    """The words of each `vmi` and `python` command of deploy/init-secrets.sh
    (continuation lines joined, variables as written)."""
    text = INIT_SCRIPT.read_text().replace("\\\n", " ")
    return [
        shlex.split(line)
        for line in text.splitlines()
        if line.strip().startswith(("vmi ", "python "))
    ]


def test_config_init_runs_its_script_as_root_in_the_project_image(stack: dict[str, Any]) -> None:
    init = services(stack)["config-init"]
    assert uses_project_image(init), "it runs vmi and the project's python"
    assert init["entrypoint"] == ["bash", "/deploy/init-secrets.sh"]
    assert init["command"] == [], "no arguments but those of `docker compose run`"
    assert str(init["user"]).partition(":")[0] in ("0", "root"), "it chowns the files"
    assert init["restart"] == "no"
    # The script reads exactly the VMI_* variables config-init is given.
    code = "\n".join(
        line for line in INIT_SCRIPT.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    assigned = set(re.findall(r"^(\w+)=", code, re.MULTILINE))
    read = set(re.findall(r"\bVMI_[A-Z0-9_]+\b", code)) - assigned
    assert read == set(init["environment"])


def test_the_init_script_runs_real_commands() -> None:
    commands = script_commands()
    assert [words[:3] for words in commands if words[0] == "vmi"] == [
        ["vmi", "cloud", "mosquitto-config"]
    ]
    assert [words[:2] for words in commands if words[0] == "python"] == [
        ["python", "$DEPLOY_DIR/load_catalog.py"]
    ]
    for words in commands:
        if words[0] == "vmi":
            program = [str(VMI), *_subcommand_path(words[1:])]
        else:
            program = [sys.executable, str(ROOT / "deploy" / "load_catalog.py")]
        done = subprocess.run(
            [*program, "--help"], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", " ".join(words)):
            assert option in done.stdout, f"`{' '.join(words[:3])}` has no {option}"


def test_the_api_reads_the_collectors_orders_and_influxdb_read_only(
    stack: dict[str, Any], init_output: Path
) -> None:
    """The portal's data is the collector's: the same orders database (on the same volume)
    and the stack's InfluxDB, through the read-only user, creating nothing there."""
    from cloud.api.settings import ApiSettings

    api = services(stack)["api"]
    cloud = load_cloud(init_output)
    env = api["environment"]
    settings = ApiSettings(
        database_url=env["VMI_API_DATABASE_URL"],
        timeseries_url=env["VMI_API_TIMESERIES_URL"],
        create_timeseries_database=env["VMI_API_CREATE_TIMESERIES_DATABASE"] == "true",
    )
    assert settings.database_url == cloud.orders.url
    assert not settings.create_timeseries_database
    assert urlsplit(settings.timeseries_url).hostname == "influxdb"
    assert urlsplit(settings.timeseries_url).path == urlsplit(cloud.store.url).path
    # The example environment fills each password with test-<its variable's name>.
    influx = urlsplit(settings.timeseries_url)
    readers = services(stack)["influxdb"]["environment"]
    assert influx.username == readers["INFLUXDB_READ_USER"]
    assert influx.password == readers["INFLUXDB_READ_USER_PASSWORD"]
    assert influx.username != readers["INFLUXDB_ADMIN_USER"]
    volumes = {v.split(":")[0]: v.split(":")[1] for v in api["volumes"]}
    assert volumes["vmi-orders"] == "/var/lib/vmi"
