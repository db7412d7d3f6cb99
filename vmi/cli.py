"""The `vmi` command. It parses arguments and dispatches to the package that
does the work (`edge_agent`, `cloud`, `firmware_sim`), imported only when used."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from vmi import __version__
from vmi.errors import VmiError
from vmi.runtime import setup_logging


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vmi", description="Stock monitoring for Vendor Managed Inventory."
    )
    p.add_argument("--version", action="version", version=f"vmi {__version__}")
    p.add_argument(
        "--log-level",
        default=os.environ.get("VMI_LOG_LEVEL", "warning"),
        choices=["debug", "info", "warning", "error"],
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="run a simulated customer site, edge and cloud on one machine"
    )
    demo.add_argument(
        "--mqtt",
        default=os.environ.get("VMI_MQTT"),
        metavar="URL",
        help="use this broker (mqtt://host:port) instead of the embedded one [$VMI_MQTT]",
    )
    demo.add_argument(
        "--influx",
        default=os.environ.get("VMI_INFLUX"),
        metavar="URL",
        help="store levels in InfluxDB (http://host:port/db) instead of SQLite [$VMI_INFLUX]",
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=4320.0,
        help="simulated seconds per real second (default 4320: a day in 20 s)",
    )
    demo.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many real seconds (default: run until Ctrl-C)",
    )
    demo.add_argument(
        "--data-dir", default=None, help="keep the demo's databases here (default: a temp dir)"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed of the simulated demand")
    demo.add_argument(
        "--portal-port",
        type=int,
        default=8000,
        metavar="PORT",
        help="serve the web portal (and the API) on 127.0.0.1:PORT (default 8000; a free "
        "port if taken; 0: any free port)",
    )
    demo.add_argument("--no-portal", action="store_true", help="do not serve the portal")
    demo.set_defaults(module="firmware_sim.demo_cli")

    edge = sub.add_parser("edge", help="the edge agent at a customer site")
    edge_sub = edge.add_subparsers(dest="edge_command", required=True, metavar="COMMAND")
    edge_run = edge_sub.add_parser("run", help="run the edge agent")
    edge_run.add_argument("--config", required=True, help="edge config file (TOML)")
    edge_run.set_defaults(module="edge_agent.cli")
    probe = edge_sub.add_parser(
        "probe",
        help="open one device and print its readings as JSON lines until Ctrl-C",
        description="Open one device and print what it reports, one JSON object per line.",
    )
    probe.add_argument("--driver", required=True, help="driver type, e.g. mtsics, em4100")
    probe.add_argument("--port", help="serial device, e.g. /dev/ttyUSB0")
    probe.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="any driver option, e.g. --set baudrate=19200 (repeatable)",
    )
    probe.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    probe.add_argument("--count", type=int, default=None, help="stop after this many readings")
    probe.set_defaults(module="edge_agent.probe")

    epc = sub.add_parser("epc", help="RFID EPC tools")
    epc_sub = epc.add_subparsers(dest="epc_command", required=True, metavar="COMMAND")
    decode = epc_sub.add_parser("decode", help="decode an SGTIN-96 EPC to GTIN-14, serial and URI")
    decode.add_argument(
        "epc", metavar="EPC_HEX", help="24 hex digits, e.g. 3074257BF7194E4000001A85"
    )
    decode.set_defaults(module="edge_agent.rfid.epc_cli")

    cloud = sub.add_parser("cloud", help="the cloud collector and replenishment")
    cloud_sub = cloud.add_subparsers(dest="cloud_command", required=True, metavar="COMMAND")
    cloud_run = cloud_sub.add_parser("run", help="run the collector")
    cloud_run.add_argument("--config", required=True, help="cloud config file (TOML)")
    cloud_run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="collector processes on one shared subscription (default 1)",
    )
    cloud_run.set_defaults(module="cloud.cli")
    mqtt_access = cloud_sub.add_parser(
        "mosquitto-config",
        help="write Mosquitto's password and ACL files from the device registry",
        description="One MQTT user per device, allowed only its own vmi/v1/<site>/<device>/ "
        "topics; a collector user; files written 0600. Existing passwords are kept; each new "
        "one is shown once.",
    )
    registry = mqtt_access.add_mutually_exclusive_group(required=True)
    registry.add_argument("--catalog", metavar="FILE", help="the registry: a catalog YAML file")
    registry.add_argument(
        "--catalog-url", metavar="URL", help="the registry: the catalog database (SQLAlchemy URL)"
    )
    mqtt_access.add_argument(
        "--out", required=True, metavar="DIR", help="write passwd and acl here"
    )
    mqtt_access.add_argument(
        "--rotate",
        action="append",
        metavar="USER",
        help="give this user (a device code or a service user) a new password; repeatable",
    )
    mqtt_access.add_argument(
        "--secrets-file",
        metavar="FILE",
        help="append new passwords to this 0600 file instead of printing them",
    )
    mqtt_access.add_argument(
        "--collector-user", default="vmi-cloud", help="the collector's user (default vmi-cloud)"
    )
    mqtt_access.add_argument(
        "--collector-password-env",
        metavar="VAR",
        help="take the collector's password from this environment variable",
    )
    mqtt_access.add_argument(
        "--readonly-user", metavar="USER", help="also a user that reads all of vmi/v1/#"
    )
    mqtt_access.add_argument(
        "--kinds",
        nargs="+",
        metavar="KIND",
        help="only devices of these kinds (gateway, scale, rfid_reader, sensor_node) get a user",
    )
    mqtt_access.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="PBKDF2 iterations of new hashes (default 101, as mosquitto_passwd)",
    )
    mqtt_access.set_defaults(module="cloud.broker.mosquitto_config")
    cloud_api = cloud_sub.add_parser(
        "api",
        help="serve the HTTP API (settings: VMI_API_* environment variables, or --config)",
    )
    cloud_api.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    cloud_api.add_argument("--port", type=int, default=8000, help="listen port (default 8000)")
    cloud_api.add_argument(
        "--config",
        dest="api_config",
        default=os.environ.get("VMI_API_CONFIG"),
        metavar="FILE",
        help="API settings file (TOML); VMI_API_* variables win over it [$VMI_API_CONFIG]",
    )
    cloud_api.set_defaults(module="cloud.api.cli")
    apikey = cloud_sub.add_parser("apikey", help="API keys")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True, metavar="COMMAND")
    apikey_create = apikey_sub.add_parser(
        "create",
        help="create an API key (e.g. the first admin key) and print its token once",
        description="Create an API key in the cloud database and print its token on stdout. "
        "The token is shown only now; the database keeps its SHA-256 digest.",
    )
    apikey_create.add_argument(
        "--role", required=True, choices=["admin", "supplier", "customer"], help="the key's role"
    )
    apikey_create.add_argument(
        "--tenant", default=None, help="the supplier or customer code (not for admin keys)"
    )
    apikey_create.add_argument("--name", default=None, help="a label for listings")
    apikey_create.add_argument(
        "--read-only", action="store_true", help="the key may only read (GET)"
    )
    apikey_create.add_argument(
        "--expires-days", type=float, default=None, help="the key expires after this many days"
    )
    apikey_create.add_argument(
        "--config",
        dest="api_config",
        default=os.environ.get("VMI_API_CONFIG"),
        metavar="FILE",
        help="API settings file (TOML), for the database URL [$VMI_API_CONFIG]",
    )
    apikey_create.set_defaults(module="cloud.api.cli")
    user = cloud_sub.add_parser("user", help="people who sign in to the web portal")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    user_create = user_sub.add_parser(
        "create",
        help="create a portal user (role and tenant as for API keys)",
        description="Create a person who signs in to the portal at /portal. The password "
        "is read from a file, an environment variable or a prompt, never from the command "
        "line, and stored as an Argon2id hash.",
    )
    user_create.add_argument("--login", required=True, help="the sign-in name (lower case)")
    user_create.add_argument(
        "--role", required=True, choices=["admin", "supplier", "customer"], help="the role"
    )
    user_create.add_argument(
        "--tenant", default=None, help="the supplier or customer code (not for admins)"
    )
    user_create.add_argument("--name", default=None, help="the name shown in the portal")
    user_create.add_argument(
        "--locale", default=None, choices=["en", "zh"], help="language (default: the browser's)"
    )
    user_create.add_argument("--password-file", default=None, metavar="FILE")
    user_create.add_argument("--password-env", default=None, metavar="VARIABLE")
    user_create.add_argument(
        "--config",
        dest="api_config",
        default=os.environ.get("VMI_API_CONFIG"),
        metavar="FILE",
        help="API settings file (TOML), for the database URL [$VMI_API_CONFIG]",
    )
    user_create.set_defaults(module="cloud.portal.cli")

    sim = sub.add_parser("sim", help="simulations of the replenishment policy")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True, metavar="COMMAND")
    sim_eval = sim_sub.add_parser(
        "evaluate",
        help="a year of demand for many SKUs: the project policy against Odoo and ERPNext rules",
        description="Closed-loop simulation comparing the replenishment policy with an Odoo "
        "min/max rule and an ERPNext reorder level, each also tuned to the same fill rate.",
    )
    sim_eval.add_argument("--skus", type=int, default=300, help="number of SKUs (default 300)")
    sim_eval.add_argument("--days", type=int, default=365, help="days to simulate (default 365)")
    sim_eval.add_argument("--seed", type=int, default=1, help="random seed of the world")
    sim_eval.add_argument(
        "--seeds",
        metavar="LIST",
        help="run several worlds instead (e.g. 1-8 or 1,3,5): one table, per seed and pattern",
    )
    sim_eval.add_argument(
        "--per-kind",
        action="store_true",
        help="with --seeds: one world per (seed, demand pattern), baselines tuned to each",
    )
    sim_eval.add_argument(
        "--config",
        metavar="FILE",
        help="cloud config (TOML): run the engine on its [replenishment] settings "
        "(default: the shipped defaults)",
    )
    sim_eval.add_argument(
        "--out",
        default="sim-evaluate",
        metavar="DIR",
        help="write the table (markdown, CSV) and PNG plots here (default ./sim-evaluate)",
    )
    sim_eval.add_argument("--no-progress", action="store_true", help="no progress bar")
    sim_eval.set_defaults(module="firmware_sim.evaluate.cli")

    report = sub.add_parser("report", help="reports on the stored data")
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    kpis = report_sub.add_parser(
        "kpis",
        help="KPIs per (site, SKU) or rolled up: turnover, stock, stockouts, fill rate, "
        "orders, supplier delivery, forecast error",
        description="Compute the KPIs over the last --days from the stores a cloud config "
        "names (levels, projections, orders, catalog) and print them as a table or CSV.",
    )
    kpis.add_argument("--config", required=True, metavar="FILE", help="cloud config (TOML)")
    kpis.add_argument("--site", default=None, help="only this site")
    kpis.add_argument("--sku", default=None, help="only this SKU")
    kpis.add_argument("--days", type=float, default=30.0, help="window in days (default 30)")
    kpis.add_argument(
        "--by",
        choices=["key", "site", "customer", "supplier"],
        default="key",
        help="one row per (site, SKU) (default) or rolled up",
    )
    kpis.add_argument("--format", choices=["table", "csv"], default="table", help="output")
    kpis.set_defaults(module="cloud.kpis.cli")

    suggest = sub.add_parser(
        "suggest",
        help="better agreement terms per (site, SKU), with their expected effect",
        description="Replay each (site, SKU)'s own recent demand and lead times (resampled, "
        "a year) through the shipped decision step under today's terms and candidate "
        "service levels and review periods, and print today's terms beside the best ones: "
        "average stock, fill rate, stockout days and orders a year. Flags dead stock, "
        "excess cover and chronic stockouts.",
    )
    suggest.add_argument("--config", required=True, metavar="FILE", help="cloud config (TOML)")
    suggest.add_argument("--site", required=True, help="the site")
    suggest.add_argument("--sku", default=None, help="only this SKU")
    suggest.add_argument(
        "--days", type=int, default=90, help="days of demand history to draw from (default 90)"
    )
    suggest.add_argument(
        "--target-fill-rate",
        type=float,
        default=0.98,
        help="fill rate the terms must reach where the rule sets none (default 0.98)",
    )
    suggest.add_argument(
        "--save", action="store_true", help="record them as open suggestions (API: /suggestions)"
    )
    suggest.set_defaults(module="cloud.suggest.cli")

    connector = sub.add_parser(
        "connector", help="ERP/CRM connectors (Odoo, ERPNext, Zoho CRM, Fxiaoke)"
    )
    connector_sub = connector.add_subparsers(
        dest="connector_command", required=True, metavar="COMMAND"
    )
    check = connector_sub.add_parser(
        "check",
        help="send one sample order to the configured ERP and print its remote id",
        description="Send one sample order to the system a connector config ([connector] "
        "table: kind, url and the kind's keys) names, and print the remote record as one JSON "
        "line (exit 0); on failure one line on stderr (exit 1: the system refused or failed, "
        "2: the config or options are wrong). The same --reference twice gives the same id.",
    )
    check.add_argument("--config", required=True, metavar="FILE", help="connector config (TOML)")
    check.add_argument("--sku", required=True, help="the SKU (the ERP's product code) to order")
    check.add_argument("--supplier", default=None, help="our supplier code (purchase orders)")
    check.add_argument("--customer", default=None, help="our customer code (sales orders)")
    check.add_argument("--site", default="vmi-check", help="the site (default vmi-check)")
    check.add_argument("--quantity", type=int, default=1, help="units (default 1)")
    check.add_argument(
        "--planned-date", default=None, metavar="YYYY-MM-DD", help="arrival (default in 7 days)"
    )
    check.add_argument(
        "--reference",
        default=None,
        help="our order reference (default vmi-check-<UTC timestamp>); reuse it to see that "
        "a second send finds the first record",
    )
    check.add_argument("--confirm", action="store_true", help="then confirm (submit) it")
    check.add_argument(
        "--ship", action="store_true", help="then mark it shipped, if the system can"
    )
    check.add_argument("--cancel", action="store_true", help="then cancel it (last)")
    check.add_argument(
        "--allow-private",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a network (CIDR), address or host name the ERP may be at although it is not "
        "public (loopback, private, link-local); repeatable. Without it only public addresses "
        "are reached, as in the service ([connectors] allow_private).",
    )
    check.set_defaults(module="cloud.connectors.cli")
    steps = connector_sub.add_parser(
        "steps",
        help="show what the service sent to each configured system, and what is pending",
        description="List the connector steps (create, confirm, ship, cancel per order and "
        "system) from the service's database, newest first, with their state, attempts and "
        "last error; --attempts adds every attempt.",
    )
    steps.add_argument("--config", required=True, metavar="FILE", help="cloud config (TOML)")
    steps.add_argument("--link", default=None, help="only this [[connectors.systems]] name")
    steps.add_argument("--order", type=int, default=None, help="only this order id")
    steps.add_argument(
        "--status",
        default=None,
        choices=["pending", "done", "failed", "given_up", "skipped", "unsupported"],
    )
    steps.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    steps.add_argument("--attempts", action="store_true", help="list each step's attempts")
    steps.set_defaults(module="cloud.connectors.cli")
    retry = connector_sub.add_parser(
        "retry",
        help="send failed and given-up steps again, once the cause is fixed",
        description="Make failed, given-up and skipped connector steps pending again (after "
        "the product, the partner or the credentials were fixed in the other system); the "
        "running service sends them within [connectors] idle_s.",
    )
    retry.add_argument("--config", required=True, metavar="FILE", help="cloud config (TOML)")
    retry.add_argument("--link", default=None, help="only this [[connectors.systems]] name")
    retry.add_argument("--order", type=int, default=None, help="only this order id")
    retry.set_defaults(module="cloud.connectors.cli")

    wire = sub.add_parser("wire-doc", help="print docs/wire-protocol.md from the wire contract")
    wire.set_defaults(module="vmi.wire_doc")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        module = importlib.import_module(args.module)
        code: int = module.main(args)
    except VmiError as exc:
        print(f"vmi: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
