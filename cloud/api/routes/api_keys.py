"""`/api-keys`: create, list and revoke API keys (admin only).

The token is in the answer to `POST /api-keys` only; listings show the
prefix. Revoked keys stay listed, with the time they were revoked.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from cloud.api.deps import AdminDep, ContextDep, IdPath, PagingDep
from cloud.api.errors import AUTH_RESPONSES, NOT_FOUND_RESPONSE
from cloud.api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from cloud.api.schemas.common import Page

router = APIRouter(prefix="/api-keys", tags=["api keys"], responses=AUTH_RESPONSES)


@router.get("")
def list_api_keys(_admin: AdminDep, context: ContextDep, paging: PagingDep) -> Page[ApiKeyPublic]:
    """Every key, oldest first."""
    found = [ApiKeyPublic.of(k) for k in context.keys.entries()]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyCreate, _admin: AdminDep, context: ContextDep) -> ApiKeyCreated:
    """A new key; the answer holds its token, this once."""
    record, token = context.keys.create(
        role=body.role,
        tenant=body.tenant,
        name=body.name,
        at=context.clock.now(),
        expires_at=body.expires_at,
        read_only=body.read_only,
    )
    return ApiKeyCreated(key=ApiKeyPublic.of(record), token=token)


@router.get("/{key_id}", responses=NOT_FOUND_RESPONSE)
def read_api_key(key_id: IdPath, _admin: AdminDep, context: ContextDep) -> ApiKeyPublic:
    """One key (never its token)."""
    return ApiKeyPublic.of(context.keys.get(key_id))


@router.post("/{key_id}/revoke", responses=NOT_FOUND_RESPONSE)
def revoke_api_key(key_id: IdPath, _admin: AdminDep, context: ContextDep) -> ApiKeyPublic:
    """Refuse this key from now on."""
    return ApiKeyPublic.of(context.keys.revoke(key_id, context.clock.now()))
