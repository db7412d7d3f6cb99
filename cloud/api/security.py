"""API keys: who is calling, in which role, for which tenant.

A key is a random token shown once, when it is created:

    vmi_k3x9q2mz_Zr0Jq...   ("vmi_" + 8 random characters + "_" + 256 random bits)

The database keeps its first 12 characters (the *prefix*, to find the row
and to name the key in listings) and the SHA-256 digest of the whole token,
never the token. SHA-256 rather than a password hash (bcrypt, argon2): those
are slow on purpose to make guessing low-entropy passwords expensive; a token
with 256 random bits cannot be guessed whatever the hash costs, so a fast
hash loses nothing and keeps each request's check cheap. The digest is
compared in constant time.

A key has a role (`admin`, `supplier`, `customer`) and, except for admins, a
tenant: the supplier or customer code it acts for (see `cloud.api.tenancy`).
A key may be read-only (GET only), may expire, and can be revoked; an
expired or revoked key is refused like an unknown one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Integer, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cloud.catalog.models import Customer, Supplier
from cloud.db import Base, UtcDateTime
from cloud.errors import CloudError, StoreUnavailable

log = logging.getLogger(__name__)

TOKEN_PREFIX = "vmi_"  # noqa: S105 - marks a token as ours; not a secret
PREFIX_LENGTH = 12
_ID_ALPHABET = string.ascii_lowercase + string.digits
_CREATE_ATTEMPTS = 5


class Role(StrEnum):
    ADMIN = "admin"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"


class ApiKeyError(CloudError):
    """An API key cannot be created or changed as asked (`detail` says why)."""


class UnknownApiKey(ApiKeyError, LookupError):
    """No API key has this id."""

    def __init__(self, key_id: int) -> None:
        super().__init__(f"no API key #{key_id}")
        self.key_id = key_id


class ApiKey(Base):
    """One API key: its lookup prefix, the digest of its token, and its scope."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # A supplier or customer code; a plain code like an order's supplier, so
    # a key of a deleted tenant simply sees nothing.
    tenant: Mapped[str | None] = mapped_column(String(64), default=None)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    __table_args__ = (
        CheckConstraint("role IN ('admin', 'supplier', 'customer')", name="role"),
        CheckConstraint(
            "(role = 'admin' AND tenant IS NULL) OR (role <> 'admin' AND tenant IS NOT NULL)",
            name="tenant",
        ),
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for, from its API key."""

    key_id: int
    role: Role
    tenant: str | None
    read_only: bool = False
    user: str | None = None
    """The portal user's login when a person signed in (then `key_id` is 0)."""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key as listings show it: never the token, never its digest."""

    id: int
    prefix: str
    name: str
    role: Role
    tenant: str | None
    read_only: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def new_token() -> str:
    """A fresh token: `vmi_`, 8 random lookup characters, `_`, 256 random bits."""
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(PREFIX_LENGTH - len(TOKEN_PREFIX)))
    return f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """The SHA-256 digest (hex) stored for `token`."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_tenant(s: Session, role: Role, tenant: str | None, what: str) -> None:
    """`ApiKeyError` unless `tenant` fits `role`: none for an admin, else a supplier or
    customer code of the catalog. `what` names the thing made ("key", "user")."""
    if role is Role.ADMIN:
        if tenant is not None:
            raise ApiKeyError(f"an admin {what} has no tenant")
        return
    if tenant is None:
        raise ApiKeyError(f"a {role.value} {what} needs a tenant (a {role.value} code)")
    model = Supplier if role is Role.SUPPLIER else Customer
    if s.scalars(select(model.id).where(model.code == tenant)).first() is None:
        raise ApiKeyError(f"no {role.value} {tenant!r} in the catalog")


def _record(row: ApiKey) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        prefix=row.prefix,
        name=row.name,
        role=Role(row.role),
        tenant=row.tenant,
        read_only=row.read_only,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class ApiKeys:
    """API keys in the cloud database: create (token shown once), authenticate, revoke."""

    def __init__(self, engine: Engine) -> None:
        """`engine`: the cloud database, whose schema is already up to date."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(
        self,
        *,
        role: Role,
        tenant: str | None,
        name: str,
        at: datetime,
        expires_at: datetime | None = None,
        read_only: bool = False,
    ) -> tuple[KeyRecord, str]:
        """A new key and its token; the token is not stored and cannot be had again.

        `ApiKeyError` if the tenant does not fit the role or is not in the catalog.
        """
        with self._transaction() as s:
            self._check_tenant(s, role, tenant)
        for _ in range(_CREATE_ATTEMPTS):
            token = new_token()
            try:
                record = self._insert(token, role, tenant, name, at, expires_at, read_only)
            except IntegrityError:  # the 8-character id is taken; draw again
                continue
            log.info(
                "API key #%d (%s...) created: role %s, tenant %s",
                record.id,
                record.prefix,
                role.value,
                tenant or "-",
            )
            return record, token
        raise ApiKeyError("could not draw an unused key id; try again")

    def ensure_bootstrap(self, token: str, at: datetime) -> KeyRecord:
        """Register `token` as an admin key unless it is registered (revoked stays revoked).

        `ApiKeyError` if another key has the same prefix.
        """
        prefix = token[:PREFIX_LENGTH]
        with self._transaction() as s:
            row = s.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
            if row is not None:
                if not hmac.compare_digest(row.digest, token_digest(token)):
                    raise ApiKeyError(
                        f"the bootstrap admin key's prefix {prefix!r} belongs to another key"
                    )
                return _record(row)
        try:
            record = self._insert(token, Role.ADMIN, None, "bootstrap admin key", at, None, False)
        except IntegrityError:  # another API process registered it meanwhile
            return self.ensure_bootstrap(token, at)
        log.info("bootstrap admin key registered as API key #%d", record.id)
        return record

    def authenticate(self, token: str, at: datetime) -> Principal | None:
        """The principal of a valid, unrevoked, unexpired token; None otherwise."""
        if len(token) <= PREFIX_LENGTH or len(token) > 512:
            return None
        with self._store_errors(), self._sessions() as s:
            row = s.scalars(select(ApiKey).where(ApiKey.prefix == token[:PREFIX_LENGTH])).first()
        if row is None or not hmac.compare_digest(row.digest, token_digest(token)):
            return None
        expires = row.expires_at
        if row.revoked_at is not None or (expires is not None and expires <= at):
            return None
        return Principal(
            key_id=row.id, role=Role(row.role), tenant=row.tenant, read_only=row.read_only
        )

    def is_valid(self, principal: Principal, at: datetime) -> bool:
        """Whether the principal's key is still unrevoked and unexpired (long streams ask)."""
        with self._store_errors(), self._sessions() as s:
            row = s.get(ApiKey, principal.key_id)
        if row is None or row.revoked_at is not None:
            return False
        return row.expires_at is None or row.expires_at > at

    def entries(self) -> list[KeyRecord]:
        """Every key, oldest first."""
        with self._store_errors(), self._sessions() as s:
            return [_record(row) for row in s.scalars(select(ApiKey).order_by(ApiKey.id))]

    def get(self, key_id: int) -> KeyRecord:
        """One key; `UnknownApiKey` if there is none."""
        with self._store_errors(), self._sessions() as s:
            row = s.get(ApiKey, key_id)
        if row is None:
            raise UnknownApiKey(key_id)
        return _record(row)

    def revoke(self, key_id: int, at: datetime) -> KeyRecord:
        """Revoke a key from now on (revoking twice keeps the first time)."""
        with self._transaction() as s:
            row = s.get(ApiKey, key_id)
            if row is None:
                raise UnknownApiKey(key_id)
            if row.revoked_at is None:
                row.revoked_at = at
            s.flush()
            record = _record(row)
        log.info("API key #%d (%s...) revoked", record.id, record.prefix)
        return record

    # -- internals ------------------------------------------------------------

    def _insert(
        self,
        token: str,
        role: Role,
        tenant: str | None,
        name: str,
        at: datetime,
        expires_at: datetime | None,
        read_only: bool,
    ) -> KeyRecord:
        row = ApiKey(
            prefix=token[:PREFIX_LENGTH],
            digest=token_digest(token),
            name=name,
            role=role.value,
            tenant=tenant,
            read_only=read_only,
            created_at=at,
            expires_at=expires_at,
        )
        with self._transaction() as s:
            s.add(row)
            s.flush()
            return _record(row)

    @staticmethod
    def _check_tenant(s: Session, role: Role, tenant: str | None) -> None:
        check_tenant(s, role, tenant, "key")

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._store_errors(), self._sessions.begin() as s:
            yield s

    @contextmanager
    def _store_errors(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"API key database: {type(exc).__name__}") from exc
