"""`/me`: who the calling key acts for."""

from __future__ import annotations

from fastapi import APIRouter

from cloud.api.deps import PrincipalDep
from cloud.api.errors import AUTH_RESPONSES
from cloud.api.schemas.api_keys import MePublic

router = APIRouter(tags=["api keys"], responses=AUTH_RESPONSES)


@router.get("/me")
def read_me(principal: PrincipalDep) -> MePublic:
    """The calling key's role and tenant."""
    return MePublic(
        key_id=principal.key_id,
        role=principal.role,
        tenant=principal.tenant,
        read_only=principal.read_only,
    )
