"""What every connector's config shares: the system's URL, timeouts, and secrets that
may come from the config, a file or the environment.

Each kind subclasses `ConnectorConfig`, names its secrets in `SECRETS` and
declares, for each secret `<key>`, the fields `<key>` (inline), `<key>_file`
(read from that file, surrounding whitespace stripped) and `<key>_env` (read
from that environment variable): exactly one of the three. Inline secrets are
`SecretStr` (shown as `**********`), files and variables are read only when a
connector is opened (`secret()`), and validation errors never echo the input
(`hide_input_in_errors`), so no secret reaches a log, an error or a `repr`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from vmi.errors import ConfigError

FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
"""A field name of the remote system (used in its queries, so nothing else is allowed)."""


class ConnectorConfig(BaseModel):
    """The `[connector]` table's keys every kind has."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    SECRETS: ClassVar[tuple[str, ...]] = ()
    """The kind's secret keys; each also accepted as `<key>_file` and `<key>_env`."""

    kind: str = Field(description="Which system: `odoo`, `erpnext`, `zoho_crm`, `fxiaoke`.")
    url: str = Field(
        description="The system's base URL, e.g. https://erp.example.com (no path to an "
        "endpoint, no credentials in it)."
    )
    timeout_s: float = Field(
        default=30.0, gt=0, le=300, description="Seconds to wait for connect, each read and write."
    )
    proxy: str | None = Field(
        default=None,
        description="An HTTP(S) proxy URL. Environment proxies are not used unless named here.",
    )

    @field_validator("url")
    @classmethod
    def _base_url(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials: use the kind's secret keys")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return url.strip().rstrip("/")

    @model_validator(mode="after")
    def _one_source_per_secret(self) -> ConnectorConfig:
        for key in self.SECRETS:
            given = [
                name
                for name in (key, f"{key}_file", f"{key}_env")
                if getattr(self, name, None) is not None
            ]
            if not given:
                raise ValueError(f"set one of {key}, {key}_file or {key}_env")
            if len(given) > 1:
                raise ValueError(f"set only one of {', '.join(given)}")
        return self

    def secret(self, key: str) -> str:
        """The value of secret `key`, from wherever it is configured.

        Raises `ConfigError` (naming the key and the file or variable, never
        a value) when the file cannot be read or it or the variable is empty.
        """
        if key not in self.SECRETS:
            raise KeyError(key)
        inline: SecretStr | None = getattr(self, key)
        path: Path | None = getattr(self, f"{key}_file")
        variable: str | None = getattr(self, f"{key}_env")
        if path is not None:
            try:
                value = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
                raise ConfigError(f"{self.kind}: cannot read {key}_file {path}: {reason}") from None
            where = f"{key}_file {path}"
        elif variable is not None:
            value = os.environ.get(variable, "").strip()
            where = f"{key}_env ${variable}"
        else:
            value = "" if inline is None else inline.get_secret_value().strip()
            where = key
        if not value:
            raise ConfigError(f"{self.kind}: {where} is empty")
        return value
