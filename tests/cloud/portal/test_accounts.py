"""Portal users and sessions in SQL, the sign-in limiter, and `vmi cloud user create`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.portal.accounts import AccountError, PortalSession, PortalUser
from cloud.portal.ratelimit import LoginLimiter
from tests.cloud.portal.world import PASSWORD, World
from vmi.cli import main

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_passwords_are_stored_as_argon2id_hashes_and_tokens_as_digests(
    context: ApiContext, world: World
) -> None:
    user_id = context.accounts.check_password(world.supplier, PASSWORD)
    assert user_id is not None
    token = context.accounts.open_session(user_id, NOW)
    with context.session() as s:
        user = s.scalars(select(PortalUser).where(PortalUser.id == user_id)).one()
        session = s.scalars(select(PortalSession).where(PortalSession.user_id == user_id)).one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert token not in session.digest
    assert len(session.digest) == 64
    assert context.accounts.check_password(world.supplier.upper(), PASSWORD) == user_id


def test_a_session_lasts_at_most_max_age_however_busy(context: ApiContext, world: World) -> None:
    user_id = context.accounts.check_password(world.customer, PASSWORD)
    assert user_id is not None
    token = context.accounts.open_session(user_id, NOW)
    at = NOW
    while at < NOW + timedelta(days=6, hours=23):
        at += timedelta(hours=6)
        assert context.accounts.session(token, at) is not None
    assert context.accounts.session(token, NOW + timedelta(days=7, minutes=1)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"login": "X"}, "a login is 2-64 characters"),
        ({"password": "short"}, "at least 10 characters"),
        ({"password": "new-person"}, "not the login"),
        ({"tenant": "NOBODY"}, "no supplier 'NOBODY' in the catalog"),
        ({"role": Role.ADMIN, "tenant": "ACME"}, "an admin user has no tenant"),
        ({"login": "acme-user"}, "the login 'acme-user' is taken"),
    ],
)
def test_users_that_cannot_be_made_say_why(
    context: ApiContext, world: World, changes: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "login": "new-person",
        "password": "a long enough password",
        "role": Role.SUPPLIER,
        "tenant": "ACME",
        "at": NOW,
    }
    with pytest.raises(AccountError, match=message):
        context.accounts.create_user(**(values | changes))  # type: ignore[arg-type]


def test_the_limiter_counts_failures_per_login_and_per_address() -> None:
    limiter = LoginLimiter(per_login=3, per_address=5, window_s=60)
    for n in range(3):
        assert limiter.allowed("ann", "10.0.0.1", n)
        limiter.failed("ann", "10.0.0.1", n)
    assert not limiter.allowed("ann", "10.0.0.9", 3)  # the login is held, from anywhere
    assert limiter.allowed("bob", "10.0.0.1", 3)
    limiter.failed("bob", "10.0.0.1", 3)
    limiter.failed("cy", "10.0.0.1", 4)
    assert not limiter.allowed("dan", "10.0.0.1", 5)  # five from that address
    assert limiter.allowed("ann", "10.0.0.2", 61)  # the window moved on
    limiter.failed("eve", "10.0.0.3", 70)
    limiter.succeeded("eve")
    assert limiter.allowed("eve", "10.0.0.3", 70)


def test_the_limiter_stays_bounded_under_a_flood_of_logins() -> None:
    limiter = LoginLimiter(max_keys=100)
    for n in range(1000):
        limiter.failed(f"user{n}", f"10.0.{n // 250}.{n % 250}", 0)
    assert len(limiter._fails) <= 200


def test_vmi_cloud_user_create(
    context: ApiContext,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VMI_API_DATABASE_URL", context.settings.database_url)
    secret = tmp_path / "pw"
    secret.write_text("a long enough password\n")
    argv = ["cloud", "user", "create", "--login", "Dora", "--role", "customer"]
    assert main([*argv, "--tenant", "NORTHCO", "--password-file", str(secret)]) == 0
    assert capsys.readouterr().out == "portal user #5 dora: role customer, tenant NORTHCO\n"
    assert context.accounts.check_password("dora", "a long enough password") == 5

    assert main([*argv, "--tenant", "NOPE", "--password-file", str(secret)]) == 1
    assert "no customer 'NOPE' in the catalog" in capsys.readouterr().err
    monkeypatch.setenv("PW", "short")
    assert main([*argv, "--tenant", "NORTHCO", "--password-env", "PW"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert main([*argv, "--tenant", "NORTHCO", "--password-env", "UNSET_VAR"]) == 2
