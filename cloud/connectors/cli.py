"""`vmi connector check --config FILE --sku SKU ...`: one sample order to the configured
system; its remote id as one JSON line on stdout (exit 0), or one line on stderr.

Exit codes: 0 sent (or found: the same reference twice gives the same id),
1 the system refused or failed (`ConnectorError`), 2 the config or the options
are wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, timedelta

from pydantic import ValidationError

from cloud.connectors.base import OrderChange, OrderSpec
from cloud.connectors.errors import ConnectorError
from cloud.connectors.registry import load_connector_config, open_connector
from vmi.errors import ConfigError


def main(args: argparse.Namespace) -> int:
    """Entry of `vmi connector check` (options: config, sku, supplier, customer, site,
    quantity, planned_date, reference, confirm, cancel)."""
    now = datetime.now(UTC)
    try:
        config = load_connector_config(args.config)
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
        connector = open_connector(config)
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
        ref = connector.create_order(spec)
        status = None
        if args.confirm:
            status = connector.update_order(ref, OrderChange.CONFIRM)
        if args.cancel:
            status = connector.update_order(ref, OrderChange.CANCEL)
        if status is None:
            status = connector.fetch_status(ref)
    except ConnectorError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", 1)
    finally:
        connector.close()
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


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--planned-date {text!r} is not a date (YYYY-MM-DD)") from None


def _fail(message: str, code: int) -> int:
    print("vmi connector check: " + " ".join(message.split()), file=sys.stderr)
    return code
