"""The cloud's HTTP API (FastAPI): `create_app(settings)`; see `cloud.api.app`."""

from cloud.api.app import create_app
from cloud.api.settings import ApiSettings, load_api_settings

__all__ = ["ApiSettings", "create_app", "load_api_settings"]
