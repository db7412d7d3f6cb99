"""`vmi cloud mosquitto-config`: Mosquitto's password and ACL files from the device registry.

    vmi cloud mosquitto-config --catalog cloud/sample-catalog.yaml --out /mosquitto/auth
    vmi cloud mosquitto-config --catalog-url postgresql://... --out DIR --rotate gw-01

Writes `DIR/passwd` and `DIR/acl` (mode 0600, replaced atomically): one MQTT
user per device of the catalog (see `cloud.broker.access`), the collector's
user, and an optional read-only user. A user already in `DIR/passwd` keeps
its password, so running it again after adding a device gives a password to
that device only; `--rotate USER` (repeatable) gives a new one. Users no
longer in the registry are removed: a deleted device loses access. Each new
password is printed once on stdout (`<user> <password>`) or, with
`--secrets-file`, appended to that file (mode 0600) instead. The collector's
password can come from an environment variable instead
(`--collector-password-env VMI_MQTT_CLOUD_PASSWORD`); it is never printed then.

Mosquitto reads both files at start and on SIGHUP: signal it after a run.
The options are declared in `vmi/cli.py` (`vmi` imports no `cloud` code
until a command runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cloud.broker.access import (
    PBKDF2_ITERATIONS,
    BrokerAccessError,
    DeviceUser,
    acl_text,
    hash_password,
    new_password,
    parse_passwd,
    passwd_text,
    verify_password,
)
from cloud.catalog import Catalog, DeviceKind, DeviceSpec, read_catalog_file
from vmi.errors import ConfigError

PASSWD_NAME = "passwd"  # noqa: S105 (a file name)
ACL_NAME = "acl"


@dataclass
class PasswdPlan:
    """The password file to write, and what changed."""

    entries: dict[str, str] = field(default_factory=dict)
    new_passwords: dict[str, str] = field(default_factory=dict)  # shown once
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def plan_passwd(
    users: list[str],
    existing: dict[str, str],
    *,
    rotate: Collection[str] = (),
    given: dict[str, str] | None = None,
    iterations: int | None = None,
) -> PasswdPlan:
    """Who gets which hash: existing users keep theirs unless rotated; users with a
    `given` password get it (kept if the existing hash already matches); others a new
    random one."""
    given = given or {}
    unknown = sorted(set(rotate) - set(users))
    if unknown:
        raise BrokerAccessError(f"--rotate {', '.join(unknown)}: no such user in the registry")
    rounds = PBKDF2_ITERATIONS if iterations is None else iterations
    plan = PasswdPlan(removed=sorted(set(existing) - set(users)))
    for user in users:
        old = existing.get(user)
        if user in given:
            password = given[user]
            if old is not None and user not in rotate and verify_password(old, password):
                plan.entries[user] = old
                plan.kept.append(user)
            else:
                plan.entries[user] = hash_password(password, iterations=rounds)
        elif old is not None and user not in rotate:
            plan.entries[user] = old
            plan.kept.append(user)
        else:
            password = new_password()
            plan.entries[user] = hash_password(password, iterations=rounds)
            plan.new_passwords[user] = password
    return plan


def load_devices(
    catalog_file: str | None, catalog_url: str | None, kinds: set[DeviceKind] | None
) -> list[DeviceUser]:
    """The registry's devices (of `kinds`, if given) as MQTT users."""
    if catalog_file is not None:
        devices = list(read_catalog_file(catalog_file).devices)
    else:
        assert catalog_url is not None
        catalog = Catalog(catalog_url)
        try:
            devices = catalog.entries(DeviceSpec)
        finally:
            catalog.close()
    return [
        DeviceUser(device=d.code, site=d.site) for d in devices if kinds is None or d.kind in kinds
    ]


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, replacing it atomically."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_secrets(path: Path, passwords: dict[str, str]) -> None:
    """Append `user password` lines to a 0600 secrets file (created if missing)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(f"# {datetime.now(UTC).isoformat(timespec='seconds')} new MQTT passwords\n")
        out.writelines(f"{user} {password}\n" for user, password in sorted(passwords.items()))


def _kinds(names: list[str] | None) -> set[DeviceKind] | None:
    if not names:
        return None
    valid = [k.value for k in DeviceKind]
    wrong = [n for n in names if n not in valid]
    if wrong:
        raise ConfigError(f"--kinds {', '.join(wrong)}: device kinds are {', '.join(valid)}")
    return {DeviceKind(n) for n in names}


def generate(args: argparse.Namespace) -> PasswdPlan:
    """Do the work of the command; returns what changed (for the summary)."""
    kinds = _kinds(args.kinds)
    devices = load_devices(args.catalog, args.catalog_url, kinds)
    acl = acl_text(devices, collector_user=args.collector_user, readonly_user=args.readonly_user)
    out = Path(args.out)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    passwd_path = out / PASSWD_NAME
    existing = parse_passwd(passwd_path.read_text("utf-8")) if passwd_path.exists() else {}
    given: dict[str, str] = {}
    if args.collector_password_env:
        value = os.environ.get(args.collector_password_env, "")
        if not value:
            raise ConfigError(f"--collector-password-env: ${args.collector_password_env} is empty")
        given[args.collector_user] = value
    users = [args.collector_user]
    users += [args.readonly_user] if args.readonly_user else []
    users += [d.device for d in devices]
    plan = plan_passwd(
        users, existing, rotate=set(args.rotate or ()), given=given, iterations=args.iterations
    )
    write_private(passwd_path, passwd_text(plan.entries))
    write_private(out / ACL_NAME, acl)
    return plan


def main(args: argparse.Namespace) -> int:
    if (args.catalog is None) == (args.catalog_url is None):
        raise ConfigError("give the registry as --catalog FILE or --catalog-url URL (one)")
    try:
        plan = generate(args)
    except BrokerAccessError as exc:
        raise ConfigError(str(exc)) from exc
    out = Path(args.out)
    if plan.new_passwords:
        if args.secrets_file:
            append_secrets(Path(args.secrets_file), plan.new_passwords)
            print(f"new passwords appended to {args.secrets_file}", file=sys.stderr)
        else:
            print("new passwords (shown once; give each to its device):", file=sys.stderr)
            for user, password in sorted(plan.new_passwords.items()):
                print(f"{user} {password}")
    new = sorted(set(plan.entries) - set(plan.kept))
    print(
        f"wrote {out / PASSWD_NAME} and {out / ACL_NAME}: {len(plan.entries)} users "
        f"({len(new)} new or changed: {', '.join(new) or '-'}; "
        f"removed: {', '.join(plan.removed) or '-'}). "
        "Mosquitto reads them at start and on SIGHUP.",
        file=sys.stderr,
    )
    return 0
