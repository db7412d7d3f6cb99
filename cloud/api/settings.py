"""The API's settings: one pydantic-settings class, read from the environment
(`VMI_API_*`) and optionally a TOML file, validated once at start-up.

    settings = ApiSettings()                        # environment only
    settings = load_api_settings("cloud-api.toml")  # the file; the environment wins

Nothing reads the environment at import time: `create_app(settings)` takes
the settings it is given, so tests build their own.

Secrets (database and store passwords, the bootstrap admin key) are refused
when they are placeholders such as "changeme": a stack started from a sample
file must not run with a password everybody knows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vmi.errors import ConfigError

PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "admin",
        "changeit",
        "changeme",
        "change-me",
        "change_me",
        "default",
        "example",
        "password",
        "passwd",
        "placeholder",
        "postgres",
        "root",
        "secret",
        "test",
        "todo",
        "xxx",
    }
)
"""Values that are never accepted as a secret (compared case-insensitively)."""

MIN_BOOTSTRAP_KEY_LENGTH = 44
"""The bootstrap admin key's first 12 characters are its lookup prefix, stored
in clear; 44 characters leave at least 32 secret ones."""


def is_placeholder(secret: str) -> bool:
    """True for a well-known placeholder ("changeme", "secret", ...) or one containing
    "changeme"/"change-me"/"change_me"."""
    folded = secret.strip().lower()
    return folded in PLACEHOLDER_SECRETS or any(
        marker in folded for marker in ("changeme", "change-me", "change_me")
    )


def _url_password(url: str) -> str | None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return None if password is None else unquote(password)


class ApiSettings(BaseSettings):
    """Everything `vmi cloud api` needs; every field is `VMI_API_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="VMI_API_", extra="forbid", frozen=True)

    database_url: str = Field(
        default="sqlite:///vmi-orders.db",
        description="SQLAlchemy URL of the cloud database (catalog, orders, API keys, webhooks); "
        "the collector's [orders] url.",
    )
    timeseries_url: str = Field(
        default="sqlite:///vmi-levels.db",
        description="http://host:8086/<db> for InfluxDB, sqlite:///path for the embedded store; "
        "the collector's [store] url.",
    )
    create_timeseries_database: bool = Field(
        default=True,
        description="Create the InfluxDB database at start if it is missing; false for a "
        "read-only InfluxDB user (the API only reads the time series).",
    )
    bootstrap_admin_key: SecretStr | None = Field(
        default=None,
        description="An admin API key to register at start-up (at least 44 characters), for "
        "deployments that cannot run `vmi cloud apikey create`.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Upgrade the database schema (Alembic) before serving."
    )
    max_request_bytes: int = Field(
        default=1_048_576, ge=1, description="Larger request bodies get 413."
    )
    page_limit: int = Field(default=1000, ge=1, description="Most items one list page returns.")
    history_max_points: int = Field(
        default=2000, ge=10, description="Most buckets one history series returns."
    )
    history_max_days: float = Field(
        default=400.0, gt=0, description="Longest window one history query may span."
    )
    lookback_days: float = Field(
        default=7.0,
        gt=0,
        description="Window of projections and alerts read when the request gives no `from`.",
    )
    stream_poll_s: float = Field(
        default=2.0, gt=0, description="The live stream looks for changes this often."
    )
    stream_max_s: float = Field(
        default=3600.0,
        gt=0,
        description="A live stream ends after this long; clients reconnect (EventSource does).",
    )

    webhook_allow_private: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR or address) and host names an admin's webhook may reach "
        "although they are not public (loopback, private, link-local); the cloud service's "
        "[notify] allow_private should say the same. Empty: public addresses only.",
    )
    webhook_max_per_tenant: int = Field(
        default=20, ge=1, description="Active webhook subscriptions one tenant may have."
    )

    connector_hook_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Connector link name ([[connectors.systems]] name) -> the token its "
        "system's own webhook sends to POST /connectors/<name>/hook (header X-VMI-Hook-Token "
        "or ?token=); at least 24 characters. A link without one has no hook.",
    )

    @field_validator("connector_hook_tokens")
    @classmethod
    def _strong_hook_tokens(cls, tokens: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, token in tokens.items():
            value = token.get_secret_value()
            if is_placeholder(value) or len(value) < 24 or any(c.isspace() for c in value):
                raise ValueError(
                    f"the token of {name!r} must be at least 24 characters, no whitespace, "
                    "not a placeholder (e.g. `openssl rand -base64 32`)"
                )
        return tokens

    @field_validator("webhook_allow_private")
    @classmethod
    def _allowlist(cls, entries: list[str]) -> list[str]:
        from cloud.notify.guard import parse_allowlist

        parse_allowlist(entries)
        return entries

    @field_validator("bootstrap_admin_key")
    @classmethod
    def _strong_bootstrap_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None:
            return None
        value = key.get_secret_value()
        if is_placeholder(value):
            raise ValueError("is a placeholder; generate one, e.g. `openssl rand -base64 48`")
        if len(value) < MIN_BOOTSTRAP_KEY_LENGTH:
            raise ValueError(f"must have at least {MIN_BOOTSTRAP_KEY_LENGTH} characters")
        if any(c.isspace() for c in value):
            raise ValueError("must not contain whitespace")
        return key

    @field_validator("database_url", "timeseries_url")
    @classmethod
    def _no_placeholder_password(cls, url: str) -> str:
        password = _url_password(url)
        if password is not None and is_placeholder(password):
            # Say which URL without repeating the password.
            raise ValueError("the URL's password is a placeholder; set a real one")
        return url

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then a config file (see `load_api_settings`)."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file") is not None:
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def load_api_settings(config_file: str | Path | None = None, **overrides: Any) -> ApiSettings:
    """The settings from the environment and, if given, a TOML file.

    Environment variables win over the file; `overrides` (command-line
    options) win over both. Raises `ConfigError` naming what is wrong.
    """
    cls: type[ApiSettings] = ApiSettings
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"API config file {path} does not exist")
        config = SettingsConfigDict(toml_file=path)
        cls = type("ApiSettingsFromFile", (ApiSettings,), {"model_config": config})
    try:
        return cls(**overrides)
    except ValidationError as exc:
        where = f" ({config_file} and environment)" if config_file else " (environment)"
        raise ConfigError(f"API settings are invalid{where}:\n{_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    # Never echo the input: a rejected value may be a secret.
    lines = []
    for err in exc.errors(include_input=False):
        field = ".".join(str(part) for part in err["loc"])
        lines.append(f"  - VMI_API_{field.upper()} / {field}: {err['msg']}")
    return "\n".join(lines)
