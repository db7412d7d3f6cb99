"""People who sign in to the portal, and their sessions.

A user has a login, a password (stored as an Argon2id hash: memory-hard, so a
stolen table is slow to guess even on GPUs), a role and a tenant exactly like
an API key's (`cloud.api.security`): a supplier user sees what a supplier key
sees. A signed-in browser holds a random session token in a cookie; the
database keeps its SHA-256 digest (256 random bits need no slow hash), the
session's CSRF token, and when it was last used. A session ends at sign-out,
after `idle_s` without a request, or `max_age_s` after sign-in, whichever
comes first; disabling a user ends its sessions.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cloud.api.security import ApiKeyError, Principal, Role, check_tenant
from cloud.db import Base, UtcDateTime
from cloud.errors import CloudError, StoreUnavailable

log = logging.getLogger(__name__)

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._@-]{1,63}$"
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # Argon2id, the library's defaults (RFC 9106 low-memory profile)
# Verified against when the login is unknown, so both cases cost the same time.
_DUMMY_HASH = _HASHER.hash("not a password of anyone " + secrets.token_hex(8))


class AccountError(CloudError):
    """A user cannot be created or changed as asked (the message says why; `code` names
    the reason for pages that say it in the reader's language)."""

    def __init__(self, message: str, code: str = "other") -> None:
        super().__init__(message)
        self.code = code


class PortalUser(Base):
    """A person who signs in to the portal."""

    __tablename__ = "portal_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str | None] = mapped_column(String(64), default=None)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (CheckConstraint("role IN ('admin', 'supplier', 'customer')", name="role"),)


class PortalSession(Base):
    """One signed-in browser."""

    __tablename__ = "portal_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("portal_user.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A valid session: who, and the CSRF token its forms must carry."""

    user_id: int
    login: str
    name: str
    role: Role
    tenant: str | None
    locale: str | None
    csrf: str

    def principal(self) -> Principal:
        """The API's principal for this person (what they may see and do)."""
        return Principal(key_id=0, role=self.role, tenant=self.tenant, user=self.login)


def _check_password(login: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters", "weak")
    if len(password) > 200:
        raise AccountError("a password has at most 200 characters", "weak")
    if password.strip().lower() in {login, "password123", "changeme123"}:
        raise AccountError("choose a password that is not the login or a well-known one", "weak")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    """Portal users and sessions in the cloud database."""

    def __init__(
        self, engine: Engine, *, idle_s: float = 8 * 3600.0, max_age_s: float = 7 * 86400.0
    ) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.idle = timedelta(seconds=idle_s)
        self.max_age = timedelta(seconds=max_age_s)

    # -- users ----------------------------------------------------------------

    def create_user(
        self,
        *,
        login: str,
        password: str,
        role: Role,
        tenant: str | None,
        at: datetime,
        name: str | None = None,
        locale: str | None = None,
    ) -> int:
        """A new user; its id. `AccountError` for a taken login, a weak password, or a
        tenant that does not fit the role or is not in the catalog."""
        login = login.strip().lower()
        if not re.match(LOGIN_PATTERN, login):
            raise AccountError("a login is 2-64 characters: lower-case letters, digits and . _ @ -")
        _check_password(login, password)
        try:
            with self._transaction() as s:
                check_tenant(s, role, tenant, "user")
                user = PortalUser(
                    login=login,
                    name=(name or login)[:200],
                    password_hash=_HASHER.hash(password),
                    role=role.value,
                    tenant=tenant,
                    locale=locale,
                    active=True,
                    created_at=at,
                )
                s.add(user)
                s.flush()
                user_id = user.id
        except ApiKeyError as exc:
            raise AccountError(str(exc)) from None
        except IntegrityError:
            raise AccountError(f"the login {login!r} is taken") from None
        log.info("portal user %r created: role %s, tenant %s", login, role.value, tenant or "-")
        return user_id

    def change_password(self, user_id: int, current: str, new: str) -> None:
        """Set a new password after checking the current one; ends the user's other
        sessions (a stolen session does not outlive the change). `AccountError` if the
        current password is wrong or the new one too weak."""
        with self._transaction() as s:
            user = s.get(PortalUser, user_id)
            if user is None or not user.active:
                raise AccountError("no such user")
            try:
                _HASHER.verify(user.password_hash, current)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                raise AccountError("the current password is wrong", "wrong_current") from None
            _check_password(user.login, new)
            user.password_hash = _HASHER.hash(new)
            s.execute(delete(PortalSession).where(PortalSession.user_id == user_id))

    def set_active(self, login: str, active: bool) -> None:
        """Enable or disable a user; disabling ends its sessions."""
        with self._transaction() as s:
            user = s.scalars(select(PortalUser).where(PortalUser.login == login)).first()
            if user is None:
                raise AccountError(f"no user {login!r}")
            user.active = active
            if not active:
                s.execute(delete(PortalSession).where(PortalSession.user_id == user.id))

    def check_password(self, login: str, password: str) -> int | None:
        """The user id if `password` is the active user `login`'s, else None (the same
        work is done for an unknown login, so timing does not tell logins apart)."""
        with self._transaction() as s:
            user = s.scalars(
                select(PortalUser).where(PortalUser.login == login.strip().lower())
            ).first()
            stored = user.password_hash if user is not None else _DUMMY_HASH
            try:
                _HASHER.verify(stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if user is None or not user.active:
                return None
            if _HASHER.check_needs_rehash(stored):
                user.password_hash = _HASHER.hash(password)
            return user.id

    # -- sessions ---------------------------------------------------------------

    def open_session(self, user_id: int, at: datetime) -> str:
        """A new session for the user; its token (for the cookie, never stored)."""
        token = secrets.token_urlsafe(32)
        with self._transaction() as s:
            s.add(
                PortalSession(
                    digest=_digest(token),
                    user_id=user_id,
                    csrf=secrets.token_urlsafe(32),
                    created_at=at,
                    seen_at=at,
                )
            )
        return token

    def session(self, token: str, at: datetime) -> SignedIn | None:
        """The session `token` opens, if it is valid now (it is then marked as used)."""
        with self._transaction() as s:
            row = s.execute(
                select(PortalSession, PortalUser)
                .join(PortalUser, PortalUser.id == PortalSession.user_id)
                .where(PortalSession.digest == _digest(token))
            ).first()
            if row is None:
                return None
            session, user = row
            if (
                not user.active
                or at - session.seen_at > self.idle
                or at - session.created_at > self.max_age
            ):
                s.delete(session)
                return None
            if at - session.seen_at > timedelta(minutes=1):  # not a write per request
                session.seen_at = at
            return SignedIn(
                user_id=user.id,
                login=user.login,
                name=user.name,
                role=Role(user.role),
                tenant=user.tenant,
                locale=user.locale,
                csrf=session.csrf,
            )

    def close_session(self, token: str) -> None:
        """Sign out: the session is gone."""
        with self._transaction() as s:
            s.execute(delete(PortalSession).where(PortalSession.digest == _digest(token)))

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as s:
                yield s
        except (IntegrityError, AccountError, ApiKeyError):
            raise
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"portal accounts: {type(exc).__name__}") from exc
