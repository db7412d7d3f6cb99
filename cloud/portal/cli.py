"""`vmi cloud user create`: a person who signs in to the portal.

The password comes from a file (`--password-file`), an environment variable
(`--password-env`) or, on a terminal, a prompt; never from the command line,
where other users of the machine could read it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from cloud.api.security import Role
from cloud.api.settings import load_api_settings
from cloud.db import make_engine
from cloud.errors import StoreUnavailable
from cloud.migrations import upgrade
from cloud.portal.accounts import AccountError, Accounts
from vmi.clock import SystemClock
from vmi.errors import ConfigError


def main(args: argparse.Namespace) -> int:
    """`vmi cloud user create ...`: exit 0 made, 1 refused, 2 wrong options."""
    settings = load_api_settings(args.api_config)
    try:
        password = _password(args)
    except ConfigError as exc:
        print(f"vmi cloud user create: {exc}", file=sys.stderr)
        return 2
    try:
        if settings.migrate_on_start:
            upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(f"cloud database: {exc}") from exc
    try:
        user_id = Accounts(engine).create_user(
            login=args.login,
            password=password,
            role=Role(args.role),
            tenant=args.tenant,
            name=args.name,
            locale=args.locale,
            at=SystemClock().now(),
        )
    except AccountError as exc:
        print(f"vmi cloud user create: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    tenant = f", tenant {args.tenant}" if args.tenant else ""
    print(f"portal user #{user_id} {args.login.strip().lower()}: role {args.role}{tenant}")
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password_file:
        try:
            return Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"cannot read --password-file: {exc.strerror}") from None
    if args.password_env:
        value = os.environ.get(args.password_env, "")
        if not value:
            raise ConfigError(f"${args.password_env} is empty or not set")
        return value
    if not sys.stdin.isatty():
        raise ConfigError("give --password-file or --password-env (no terminal to ask on)")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ConfigError("the two passwords differ")
    return first
