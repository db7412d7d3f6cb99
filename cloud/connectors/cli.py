"""`vmi connector check | steps | retry`.

`check --config FILE --sku SKU ...`: one sample order to the configured
system; its remote id as one JSON line on stdout (exit 0), or one line on
stderr. Exit codes: 0 sent (or found: the same reference twice gives the same
id), 1 the system refused or failed (`ConnectorError`), 2 the config or the
options are wrong. Requests go through the service's guarded client: only
public addresses, plus what `--allow-private` names.

`steps --config CLOUD.toml`: the service's connector ledger as JSON lines.
`retry --config CLOUD.toml`: failed and given-up steps pending again.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from cloud.config import load_cloud_config
from cloud.connectors.base import OrderChange, OrderSpec
from cloud.connectors.errors import ConnectorError
from cloud.connectors.ledger import ConnectorLedger
from cloud.connectors.models import StepStatus
from cloud.connectors.registry import load_connector_config, open_connector
from cloud.errors import StoreError
from cloud.notify.guard import AddressPolicy
from cloud.notify.models import open_engine
from cloud.notify.transport import attempt_limits, guarded_client
from vmi.errors import ConfigError


def main(args: argparse.Namespace) -> int:
    """Entry of `vmi connector COMMAND`."""
    if args.connector_command == "steps":
        return steps(args)
    if args.connector_command == "retry":
        return retry(args)
    return check(args)


def check(args: argparse.Namespace) -> int:
    """`vmi connector check` (options: config, sku, supplier, customer, site, quantity,
    planned_date, reference, confirm, ship, cancel, allow_private)."""
    now = datetime.now(UTC)
    try:
        config = load_connector_config(args.config)
        policy = AddressPolicy.from_allowlist(args.allow_private)
        spec = OrderSpec(
            reference=args.reference or f"vmi-check-{now:%Y%m%d-%H%M%S}",
            site=args.site,
            sku=args.sku,
            quantity=args.quantity,
            planned_date=_day(args.planned_date)
            if args.planned_date
            else (now + timedelta(days=7)).date(),
            supplier=args.supplier,
            customer=args.customer,
        )
        http = guarded_client(policy, timeout_s=config.timeout_s)
        try:
            connector = open_connector(config, http=http)
        except BaseException:
            http.close()
            raise
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        return _fail(f"the sample order is invalid: {problems}", 2)
    except ValueError as exc:
        return _fail(str(exc), 2)
    try:
        with attempt_limits(None, private_ok=True):
            ref = connector.create_order(spec)
            status = None
            for wanted, change in (
                (args.confirm, OrderChange.CONFIRM),
                (args.ship, OrderChange.SHIP),
                (args.cancel, OrderChange.CANCEL),
            ):
                if wanted:
                    status = connector.update_order(ref, change)
            if status is None:
                status = connector.fetch_status(ref)
    except ConnectorError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", 1)
    finally:
        connector.close()
        http.close()
    line = {
        "kind": ref.system,
        "record_type": ref.record_type,
        "id": ref.id,
        "name": ref.name,
        "reference": ref.reference,
        "existed": ref.existed,
        "status": str(status.status),
        "remote_state": status.remote_state,
    }
    print(json.dumps(line, ensure_ascii=False))
    return 0


def _ledger(path: str) -> ConnectorLedger:
    """The ledger of the service `path` configures; a file database must exist (these
    commands read what the service wrote, they make no database)."""
    config = load_cloud_config(path)
    url = make_url(config.orders.url)
    database = url.database or ""
    file_db = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if file_db and not Path(database).is_file():
        raise ConfigError(
            f"no orders database at {database} (has the service run with this config?)"
        )
    return ConnectorLedger(open_engine(config.orders.url))


def steps(args: argparse.Namespace) -> int:
    """`vmi connector steps`: one JSON line per step, newest first."""
    try:
        ledger = _ledger(args.config)
        status = StepStatus(args.status) if args.status else None
        found = ledger.steps(link=args.link, order_id=args.order, status=status, limit=args.limit)
        remotes = {(r.order_id, r.link): r for r in ledger.remotes({s.order_id for s in found})}
        for step in found:
            line = step.model_dump(mode="json")
            remote = remotes.get((step.order_id, step.link))
            if remote is not None:
                line["remote"] = {
                    "id": remote.remote_id,
                    "name": remote.remote_name,
                    "state": remote.remote_state,
                }
            if args.attempts:
                line["attempt_log"] = [a.model_dump(mode="json") for a in ledger.attempts(step.id)]
            print(json.dumps(line, ensure_ascii=False))
    except (ConfigError, StoreError) as exc:
        return _fail(str(exc), 2, "steps")
    return 0


def retry(args: argparse.Namespace) -> int:
    """`vmi connector retry`: failed, given-up and skipped steps pending again."""
    try:
        count = _ledger(args.config).retry(link=args.link, order_id=args.order)
    except (ConfigError, StoreError) as exc:
        return _fail(str(exc), 2, "retry")
    print(json.dumps({"requeued": count}))
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--planned-date {text!r} is not a date (YYYY-MM-DD)") from None


def _fail(message: str, code: int, command: str = "check") -> int:
    print(f"vmi connector {command}: " + " ".join(message.split()), file=sys.stderr)
    return code
