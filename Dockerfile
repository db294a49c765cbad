# syntax=docker/dockerfile:1
# CMS Pricing API image (docs/scaling.md): two stages, non-root, pinned base.
#   build:   a virtualenv with the package and its pinned dependencies (pyproject.toml)
#   runtime: the same slim base with only that virtualenv; runs as uid 10001
# The CMS files are not in the image (AMA copyright): the ingest Job mounts them.
# Pin the base further by digest in your registry mirror (python:3.11.14-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install .

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CMS_PRICING_HOST=0.0.0.0 \
    CMS_PRICING_PORT=8000
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000
# Granian drains in-flight requests on SIGTERM (CMS_PRICING_DRAIN_SECONDS), then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["cms-pricing"]
CMD ["serve"]
