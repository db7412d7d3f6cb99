"""`vmi cloud api` (serve the API) and `vmi cloud apikey create` (make a key,
e.g. the first admin key, without the API)."""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import timedelta
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError

from cloud.api.security import ApiKeys, Role
from cloud.api.settings import ApiSettings, load_api_settings
from cloud.db import make_engine
from cloud.errors import StoreUnavailable
from cloud.migrations import upgrade
from vmi.clock import SystemClock


def main(args: argparse.Namespace) -> int:
    """Dispatch `vmi cloud api` and `vmi cloud apikey ...`."""
    settings = load_api_settings(args.api_config)
    if args.cloud_command == "api":
        return serve(settings, host=args.host, port=args.port, log_level=args.log_level)
    return create_key(settings, args)


def serve(settings: ApiSettings, *, host: str, port: int, log_level: str) -> int:
    """Serve the API until SIGINT or SIGTERM."""
    import uvicorn

    from cloud.api.app import create_app

    app = create_app(settings)
    print(f"API on http://{host}:{port} (docs at /docs): {_shown(settings)}", flush=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal
    # again with the handlers it found: make that a clean exit, as the
    # collector's, rather than death by signal.
    previous = {s: signal.signal(s, _exit_cleanly) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def create_key(settings: ApiSettings, args: argparse.Namespace) -> int:
    """Create a key in the database and print its token (stdout), shown only now."""
    role = Role(args.role)
    clock = SystemClock()
    now = clock.now()
    try:
        if settings.migrate_on_start:
            upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(f"cloud database: {exc}") from exc
    try:
        keys = ApiKeys(engine)
        expires = None if args.expires_days is None else now + timedelta(days=args.expires_days)
        record, token = keys.create(
            role=role,
            tenant=args.tenant,
            name=args.name or f"{role.value} key",
            at=now,
            expires_at=expires,
            read_only=args.read_only,
        )
    finally:
        engine.dispose()
    print(
        f"API key #{record.id} ({record.prefix}...), role {record.role.value}"
        f"{', tenant ' + record.tenant if record.tenant else ''}"
        f"{', read-only' if record.read_only else ''}: the token below is shown only now",
        file=sys.stderr,
    )
    print(token)
    return 0


def _shown(settings: ApiSettings) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        database = make_url(settings.database_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # a message, never a reason to stop
        database = "(database)"
    return f"database {database}"
