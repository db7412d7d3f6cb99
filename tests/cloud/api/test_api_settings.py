"""Settings: environment (`VMI_API_*`), TOML file, placeholder secrets refused,
the bootstrap admin key; the app reads nothing from the environment itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cloud.api import ApiSettings, create_app, load_api_settings
from cloud.api.security import Role
from tests.cloud.api.conftest import api_settings_for, bearer
from vmi.errors import ConfigError

STRONG = "k" * 20 + "Zq9xW3vB7nM2pL5tR8yU1iO4aS6dF0gH"


def test_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "api.toml"
    config.write_text('database_url = "sqlite:///file.db"\npage_limit = 5\n', encoding="utf-8")
    monkeypatch.setenv("VMI_API_PAGE_LIMIT", "7")
    settings = load_api_settings(config)
    assert settings.database_url == "sqlite:///file.db"
    assert settings.page_limit == 7  # the environment wins over the file
    assert load_api_settings(config, page_limit=9).page_limit == 9
    monkeypatch.delenv("VMI_API_PAGE_LIMIT")
    assert load_api_settings().database_url == "sqlite:///vmi-orders.db"


def test_mistakes_are_named(tmp_path: Path) -> None:
    config = tmp_path / "api.toml"
    config.write_text("page_limt = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="page_limt"):
        load_api_settings(config)
    with pytest.raises(ConfigError, match="does not exist"):
        load_api_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "changes",
    [
        {"bootstrap_admin_key": "changeme"},
        {"bootstrap_admin_key": "CHANGEME-please-" + "x" * 40},
        {"bootstrap_admin_key": "short-but-not-a-placeholder"},
        {"database_url": "postgresql://vmi:changeme@db/vmi"},
        {"database_url": "postgresql://vmi:secret@db/vmi"},
        {"timeseries_url": "http://admin:changeit@influx:8086/vmi"},
    ],
)
def test_placeholder_secrets_are_refused(
    changes: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in changes.items():
        monkeypatch.setenv(f"VMI_API_{name.upper()}", value)
    with pytest.raises(ConfigError) as error:
        load_api_settings()
    for value in changes.values():
        secret = value.split("//")[-1].split("@")[0].split(":")[-1]
        assert secret not in str(error.value)  # the message never repeats the secret


def test_real_secrets_are_accepted() -> None:
    settings = ApiSettings(
        bootstrap_admin_key=STRONG, database_url="postgresql://vmi:Xk2p9QwzL@db/vmi"
    )
    assert settings.bootstrap_admin_key is not None
    assert STRONG not in repr(settings)


def test_the_bootstrap_key_is_an_admin_key(sqlite_url: str, tmp_path: Path) -> None:
    settings = api_settings_for(sqlite_url, tmp_path, bootstrap_admin_key=STRONG)
    for _ in range(2):  # registered once, found again at the next start
        with TestClient(create_app(settings)) as client:
            me = client.get("/me", headers=bearer(STRONG)).json()
            assert me["role"] == "admin"
    app = create_app(settings)
    keys = app.state.context.keys.entries()
    assert [(k.role, k.name) for k in keys] == [(Role.ADMIN, "bootstrap admin key")]
    app.state.context.keys.revoke(keys[0].id, datetime.now(UTC))
    with TestClient(create_app(settings)) as client:  # revoked stays revoked
        assert client.get("/me", headers=bearer(STRONG)).status_code == 401


def test_the_app_reads_no_environment(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VMI_API_DATABASE_URL", "postgresql://vmi:changeme@nowhere/vmi")
    app = create_app(api_settings_for(sqlite_url, tmp_path))
    assert app.state.context.settings.database_url == sqlite_url
    app.state.context.close()


def test_the_sample_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ApiSettings.model_fields:
        monkeypatch.delenv(f"VMI_API_{name.upper()}", raising=False)
    sample = Path(__file__).parents[3] / "cloud" / "api" / "sample.toml"
    settings = load_api_settings(sample)
    assert settings.timeseries_url == "http://127.0.0.1:8086/vmi"
    defaults = ApiSettings()
    commented = [
        line.lstrip("# ").split(" = ")
        for line in sample.read_text(encoding="utf-8").splitlines()
        if line.startswith("# ") and " = " in line and "#" in line[2:]
    ]
    assert len(commented) >= 8
    for name, rest in commented:
        if name in ApiSettings.model_fields and name != "database_url":
            value = rest.split("#")[0].strip().strip('"')
            assert str(getattr(defaults, name)).lower() == value.lower(), name
