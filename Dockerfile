# syntax=docker/dockerfile:1
# One image for the whole project; its entry point is the `vmi` command:
#   docker run --rm vmi-stock:local cloud run --config /etc/vmi/cloud.toml
#   docker run --rm vmi-stock:local edge run --config /etc/vmi/edge.toml
#   docker run --rm vmi-stock:local demo --influx http://...
# The Python dependencies are exactly those of uv.lock (uv sync --frozen).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/vmi \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
COPY README.md ./
COPY vmi ./vmi
COPY edge_agent ./edge_agent
COPY cloud ./cloud
COPY firmware_sim ./firmware_sim
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE}
# A fixed uid: deploy/init-secrets.sh (config-init, this image run as root)
# gives /etc/vmi/cloud.toml to it and loads the catalog into /var/lib/vmi as it.
RUN groupadd --system --gid 10001 vmi \
    && useradd --system --uid 10001 --gid vmi --home-dir /var/lib/vmi \
        --shell /usr/sbin/nologin vmi \
    && install -d -o vmi -g vmi -m 0750 /var/lib/vmi /etc/vmi
COPY --from=build /opt/vmi /opt/vmi
ENV PATH=/opt/vmi/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VMI_LOG_LEVEL=info
USER vmi:vmi
WORKDIR /var/lib/vmi
ENTRYPOINT ["vmi"]
CMD ["--help"]
