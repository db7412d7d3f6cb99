"""The `[connector]` table of `kind = "fxiaoke"` (see sample.toml beside this file)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from cloud.connectors.config import FIELD_NAME, ConnectorConfig

OPEN_USER_ID = r"^FSUID_[A-Za-z0-9]{1,64}$"
"""An openUserId as Fxiaoke's old-style (body) parameters carry it: `FSUID_...`."""


class FxiaokeConfig(ConnectorConfig):
    """A Fxiaoke (纷享销客) tenant reached over its OpenAPI with a corp access token."""

    SECRETS: ClassVar[tuple[str, ...]] = ("app_secret", "permanent_code")

    kind: Literal["fxiaoke"]
    app_id: str = Field(
        min_length=1,
        max_length=64,
        description="The self-built app's appId (FSAID_...); not a secret.",
    )
    app_secret: SecretStr | None = Field(default=None, description="The app's appSecret.")
    app_secret_file: Path | None = Field(default=None, description="... read from this file.")
    app_secret_env: str | None = Field(default=None, description="... from this variable.")
    permanent_code: SecretStr | None = Field(
        default=None, description="The tenant's permanent authorization code (永久授权码)."
    )
    permanent_code_file: Path | None = Field(default=None, description="... read from this file.")
    permanent_code_env: str | None = Field(default=None, description="... from this variable.")
    current_open_user_id: str = Field(
        pattern=OPEN_USER_ID,
        description="The openUserId (FSUID_...) every call acts as; its CRM role decides what "
        "the connector may read and write (a CRM administrator is the usual choice).",
    )
    object_api_name: str = Field(
        default="SalesOrderObj",
        pattern=FIELD_NAME,
        description="The order object (销售订单).",
    )
    detail_api_name: str = Field(
        default="SalesOrderProductObj",
        pattern=FIELD_NAME,
        description="The order line object (订单产品), the key of the order's `details`.",
    )
    reference_field: str = Field(
        default="remark",
        pattern=FIELD_NAME,
        description="The order field that holds our reference and is searched before "
        "creating: remark (备注) by default; better a custom text field (field_xxxx__c).",
    )
    product_field: str = Field(
        default="product_code",
        pattern=FIELD_NAME,
        description="The ProductObj field our SKU is matched against (产品编码).",
    )
    account_field: str = Field(
        default="name",
        pattern=FIELD_NAME,
        description="The AccountObj field our customer code (or its `parties` name) is "
        "matched against (客户名称).",
    )
    party: str | None = Field(
        default=None,
        min_length=1,
        description="Use this customer for every order instead of the order's own.",
    )
    parties: dict[str, str] = Field(
        default_factory=dict,
        description="Our customer code -> its AccountObj name (or `account_field` value).",
    )
    logistics_field: str = Field(
        default="logistics_status",
        pattern=FIELD_NAME,
        description="The order's delivery status field (发货状态: 1 待发货 ... 5 已收货), read "
        "by fetch_status and written by ship.",
    )
    ship_writes_logistics: bool = Field(
        default=True,
        description="ship sets the delivery status to 3 (已发货); false where Fxiaoke's "
        "delivery notes (发货单) keep it, which makes ship UnsupportedChange.",
    )
    trigger_approval_flow: bool = Field(
        default=True,
        description="Start the tenant's approval flow (审批流) for a new order, as Fxiaoke does "
        "by default: the order is proposed until someone approves it in Fxiaoke.",
    )
