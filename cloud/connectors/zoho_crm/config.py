"""The `[connector]` table of `kind = "zoho_crm"` (see sample.toml beside this file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from cloud.connectors.config import FIELD_NAME, ConnectorConfig

Module = Literal["Sales_Orders", "Purchase_Orders"]

ACCOUNTS_BY_DATA_CENTRE: dict[str, str] = {
    "com": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "com.au": "https://accounts.zoho.com.au",
    "jp": "https://accounts.zoho.jp",
    "com.cn": "https://accounts.zoho.com.cn",
    "ca": "https://accounts.zohocloud.ca",
    "sa": "https://accounts.zoho.sa",
}
"""Each data centre's accounts server, by the ending of its API domain (as Zoho's SDKs list
them; Canada's accounts server is zohocloud.ca)."""

_API_HOST = re.compile(r"^(?:(?:www|sandbox|developer)\.)?zohoapis\.([a-z.]+)$")
_ACCOUNTS_HOST = re.compile(r"^accounts\.zoho(?:cloud)?\.([a-z.]+)$")

DEFAULT_PARTY_FIELD: dict[str, str] = {
    "Purchase_Orders": "Vendor_Name",
    "Sales_Orders": "Account_Name",
}
"""The name field of the party module (Vendors, Accounts) our supplier or customer is found by."""


def data_centre(url: str, *, accounts: bool = False) -> str | None:
    """The data centre (`com`, `eu`, `com.cn`, ...) of a Zoho API URL (or, with `accounts`,
    of a Zoho accounts URL); None for any other host."""
    host = (urlsplit(url).hostname or "").lower()
    found = (_ACCOUNTS_HOST if accounts else _API_HOST).match(host)
    return found.group(1) if found and found.group(1) in ACCOUNTS_BY_DATA_CENTRE else None


class ZohoStates(BaseModel):
    """The words of the orders' `Status` picklist for each step of our lifecycle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    proposed: str = Field(default="Created", min_length=1, description="Sent on create.")
    confirmed: str = Field(default="Approved", min_length=1, description="Set by `confirm`.")
    delivered: str = Field(
        default="Delivered",
        min_length=1,
        description="Set by `ship` on a Sales Order (our shipped); on a Purchase Order set in "
        "Zoho when the goods arrive (our received).",
    )
    cancelled: str = Field(default="Cancelled", min_length=1, description="Set by `cancel`.")

    @model_validator(mode="after")
    def _distinct(self) -> ZohoStates:
        words = [self.proposed, self.confirmed, self.delivered, self.cancelled]
        if len(set(words)) != len(words):
            raise ValueError("states: each step needs its own Status value")
        return self


class ZohoCrmConfig(ConnectorConfig):
    """A Zoho CRM organisation reached over the records API v8 with an OAuth refresh token
    (a Self Client or server-based client of the Zoho API Console)."""

    SECRETS: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token")

    kind: Literal["zoho_crm"]
    accounts_url: str | None = Field(
        default=None,
        description="The accounts server that issues access tokens, e.g. https://accounts.zoho.eu "
        "(default: the one of url's data centre; required when url is not a zohoapis domain).",
    )
    client_id: SecretStr | None = Field(default=None, description="The API client's Client ID.")
    client_id_file: Path | None = Field(default=None, description="... read from this file.")
    client_id_env: str | None = Field(default=None, description="... from this variable.")
    client_secret: SecretStr | None = Field(
        default=None, description="The API client's Client Secret."
    )
    client_secret_file: Path | None = Field(default=None, description="... read from this file.")
    client_secret_env: str | None = Field(default=None, description="... from this variable.")
    refresh_token: SecretStr | None = Field(
        default=None, description="A refresh token of the API user (offline access)."
    )
    refresh_token_file: Path | None = Field(default=None, description="... read from this file.")
    refresh_token_env: str | None = Field(default=None, description="... from this variable.")
    module: Module = Field(
        description="`Sales_Orders` in the supplier's Zoho CRM, `Purchase_Orders` in the "
        "customer's."
    )
    reference_field: str = Field(
        default="Subject",
        pattern=FIELD_NAME,
        description="The field that holds our reference and is searched before creating "
        "(Subject, mandatory anyway, always carries it too).",
    )
    product_field: str = Field(
        default="Product_Code",
        pattern=FIELD_NAME,
        description="The Products field our SKU is matched against.",
    )
    party_field: str | None = Field(
        default=None,
        pattern=FIELD_NAME,
        description="The Vendors (Purchase_Orders) or Accounts (Sales_Orders) field our party "
        "is matched against (default: Vendor_Name / Account_Name).",
    )
    party: str | None = Field(
        default=None,
        min_length=1,
        description="Use this vendor (Purchase_Orders) or account (Sales_Orders) for every order.",
    )
    parties: dict[str, str] = Field(
        default_factory=dict,
        description="Our supplier or customer code -> its name in Zoho CRM, where they differ.",
    )
    states: ZohoStates = Field(
        default_factory=ZohoStates, description="The Status picklist's words for our steps."
    )

    @field_validator("accounts_url")
    @classmethod
    def _accounts_base_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError("must be the server's base URL (no /oauth/v2/token, no query)")
        return url.strip().rstrip("/")

    @model_validator(mode="after")
    def _same_data_centre(self) -> ZohoCrmConfig:
        api = data_centre(self.url)
        if self.accounts_url is None:
            if api is None:
                raise ValueError(
                    "accounts_url is required when url is not a Zoho API domain (www.zohoapis.<dc>)"
                )
            return self
        accounts = data_centre(self.accounts_url, accounts=True)
        if api is not None and accounts is not None and api != accounts:
            raise ValueError(
                f"accounts_url is in data centre {accounts!r} but url in {api!r}: "
                f"use {ACCOUNTS_BY_DATA_CENTRE[api]}"
            )
        return self

    def token_url(self) -> str:
        """The accounts server to ask for access tokens."""
        if self.accounts_url is not None:
            return self.accounts_url
        centre = data_centre(self.url)
        assert centre is not None  # checked at validation
        return ACCOUNTS_BY_DATA_CENTRE[centre]

    def order_party_field(self) -> str:
        """The field of the party module our supplier or customer is found by."""
        return self.party_field or DEFAULT_PARTY_FIELD[self.module]
