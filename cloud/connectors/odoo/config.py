"""The `[connector]` table of `kind = "odoo"` (see sample.toml beside this file)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from cloud.connectors.config import FIELD_NAME, ConnectorConfig

OdooModel = Literal["purchase.order", "sale.order"]

REFERENCE_FIELD: dict[str, str] = {
    "purchase.order": "partner_ref",
    "sale.order": "client_order_ref",
}
"""Where our order reference goes by default: the field for the other side's reference."""


class OdooConfig(ConnectorConfig):
    """An Odoo database reached over its external API (JSON-RPC or XML-RPC)."""

    SECRETS: ClassVar[tuple[str, ...]] = ("password",)

    kind: Literal["odoo"]
    database: str = Field(min_length=1, max_length=63, description="The Odoo database name.")
    login: str = Field(min_length=1, max_length=254, description="The API user's login.")
    password: SecretStr | None = Field(
        default=None, description="The user's API key (Preferences > Account Security) or password."
    )
    password_file: Path | None = Field(default=None, description="... read from this file.")
    password_env: str | None = Field(
        default=None, description="... read from this environment variable."
    )
    protocol: Literal["jsonrpc", "xmlrpc"] = Field(
        default="jsonrpc", description="`jsonrpc` (POST /jsonrpc) or `xmlrpc` (/xmlrpc/2/...)."
    )
    model: OdooModel = Field(
        description="`purchase.order` in the customer's Odoo, `sale.order` in the supplier's."
    )
    reference_field: str | None = Field(
        default=None,
        pattern=FIELD_NAME,
        description="The order field that holds our reference and is searched before "
        "creating (default: partner_ref on purchase.order, client_order_ref on sale.order).",
    )
    product_field: Literal["default_code", "barcode"] = Field(
        default="default_code",
        description="The product.product field our SKU is matched against: the internal "
        "reference or the barcode (GTIN).",
    )
    partner_field: str = Field(
        default="ref",
        pattern=FIELD_NAME,
        description="The res.partner field our supplier (purchase) or customer (sale) code is "
        "matched against.",
    )
    partner: str | None = Field(
        default=None,
        min_length=1,
        description="Use this partner code for every order instead of the order's own.",
    )
    track_deliveries: bool = Field(
        default=True,
        description="Read receipt_status / delivery_status (Odoo 16 and later) so a full "
        "receipt or delivery shows in fetch_status; false for older versions.",
    )

    def order_reference_field(self) -> str:
        """The field that carries our reference on `model`."""
        return self.reference_field or REFERENCE_FIELD[self.model]
