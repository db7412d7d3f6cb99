"""API keys: who may call the API, in which role, for which tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from cloud.api.schemas.common import CleanText
from cloud.api.security import KeyRecord, Role
from vmi.wire import Identifier


class ApiKeyCreate(CleanText):
    """A new key: an admin key has no tenant; a supplier or customer key names its code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "fastenal ERP", "role": "supplier", "tenant": "fastenal"},
                {"name": "ops dashboard", "role": "admin", "read_only": True},
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    role: Role
    tenant: Identifier | None = None
    read_only: bool = False
    expires_at: AwareDatetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _in_utc(cls, at: datetime | None) -> datetime | None:
        try:
            return None if at is None else at.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("out of range") from exc

    @model_validator(mode="after")
    def _tenant_fits_role(self) -> ApiKeyCreate:
        if (self.role is Role.ADMIN) != (self.tenant is None):
            raise ValueError("an admin key has no tenant; a supplier or customer key needs one")
        return self


class ApiKeyPublic(BaseModel):
    """A key as listings show it: its prefix, never the token."""

    id: int
    prefix: str = Field(description="The token's first characters, to tell keys apart.")
    name: str
    role: Role
    tenant: str | None
    read_only: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: KeyRecord) -> ApiKeyPublic:
        return cls(
            id=record.id,
            prefix=record.prefix,
            name=record.name,
            role=record.role,
            tenant=record.tenant,
            read_only=record.read_only,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
        )


class ApiKeyCreated(BaseModel):
    """A new key and, this once, its token."""

    key: ApiKeyPublic
    token: str = Field(description="Shown only now; the server keeps only its digest.")


class MePublic(BaseModel):
    """Who the calling key acts for."""

    key_id: int
    role: Role
    tenant: str | None
    read_only: bool
