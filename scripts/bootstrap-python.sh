#!/usr/bin/env bash
# Install uv if missing, then the project's locked Python dependencies into .venv.
# Sourced by scripts/demo and scripts/test; sets $UV.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "bootstrap: installing uv with pip" >&2
    python3 -m pip install --quiet --disable-pip-version-check uv
  fi
  UV=(python3 -m uv)
fi
"${UV[@]}" sync --frozen --quiet
