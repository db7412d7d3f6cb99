"""Load a TOML config file into a pydantic model, once, at start-up."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from vmi.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def load_toml(path: str | Path, model: type[M], what: str) -> M:
    """Read and validate `path`; raise `ConfigError` naming `what` and what is wrong."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except (ValidationError, ConfigError) as exc:
        raise ConfigError(f"{what} {path} is invalid:\n{exc}") from exc
