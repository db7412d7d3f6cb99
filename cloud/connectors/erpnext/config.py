"""The `[connector]` table of `kind = "erpnext"` (see sample.toml beside this file)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator

from cloud.connectors.config import FIELD_NAME, ConnectorConfig

DocType = Literal["Purchase Order", "Sales Order", "Material Request"]

DEFAULT_REFERENCE_FIELD: dict[str, str] = {"Sales Order": "po_no"}
"""Sales Order has a field for the customer's order number; the others need one named."""


class ErpNextConfig(ConnectorConfig):
    """An ERPNext (Frappe) site reached over its REST API with an API key and secret."""

    SECRETS: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")

    kind: Literal["erpnext"]
    api_key: SecretStr | None = Field(default=None, description="The API user's API key.")
    api_key_file: Path | None = Field(default=None, description="... read from this file.")
    api_key_env: str | None = Field(default=None, description="... from this variable.")
    api_secret: SecretStr | None = Field(default=None, description="The API user's API secret.")
    api_secret_file: Path | None = Field(default=None, description="... read from this file.")
    api_secret_env: str | None = Field(default=None, description="... from this variable.")
    doctype: DocType = Field(
        description="`Sales Order` in the supplier's ERPNext, `Purchase Order` or "
        "`Material Request` in the customer's."
    )
    reference_field: str | None = Field(
        default=None,
        pattern=FIELD_NAME,
        description="The field that holds our reference and is searched before creating: "
        "po_no on a Sales Order by default; required for the others (a Custom Field such "
        "as custom_vmi_reference).",
    )
    company: str | None = Field(
        default=None,
        min_length=1,
        description="The company the orders belong to (default: the API user's default company).",
    )
    warehouse: str | None = Field(
        default=None,
        min_length=1,
        description="Warehouse of every line (required for a Material Request).",
    )
    party: str | None = Field(
        default=None,
        min_length=1,
        description="Use this Supplier (Purchase Order) or Customer (Sales Order) for every order.",
    )
    parties: dict[str, str] = Field(
        default_factory=dict,
        description="Our supplier or customer code -> its name in ERPNext, where they differ.",
    )

    @model_validator(mode="after")
    def _reference_and_warehouse(self) -> ErpNextConfig:
        if self.reference_field is None and self.doctype not in DEFAULT_REFERENCE_FIELD:
            raise ValueError(
                f"reference_field is required for a {self.doctype}: name the field that holds "
                "our order reference (e.g. a Custom Field custom_vmi_reference)"
            )
        if self.doctype == "Material Request" and self.warehouse is None:
            raise ValueError("warehouse is required for a Material Request")
        return self

    def order_reference_field(self) -> str:
        """The field that carries our reference on `doctype`."""
        return self.reference_field or DEFAULT_REFERENCE_FIELD[self.doctype]
