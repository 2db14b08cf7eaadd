# One image for the three services (and the schema tool, the auditor): `make image`, or
#     docker build -t shopmesh:dev .
# A Deployment picks what runs: `command: ["python", "-m", "order_svc"]`.
# The gateway is the official Envoy image with a generated ConfigMap (k8s/base/gateway.yaml).
# No HEALTHCHECK: on Kubernetes the Deployments' gRPC probes own health.
#
# The container stays on Python 3.11 (pyproject's requires-python), whatever the developers'
# interpreters. BASE_IMAGE is any Debian-based image with python3.11, venv and pip: the official
# one by default; `make image BASE_IMAGE=local` builds on a stand-in made from Debian's packages
# for machines without a registry (scripts/container_bases.py).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/shopmesh
WORKDIR /src
# Only what the package is built from (.dockerignore keeps the rest of the tree out too);
# gen/ is the generated protobuf code, part of the package.
COPY pyproject.toml README.md ./
COPY gen/ gen/
COPY shopmesh/ shopmesh/
COPY stock_svc/ stock_svc/
COPY payment_svc/ payment_svc/
COPY order_svc/ order_svc/
# The runtime dependencies only (no [dev] extras); then the installer itself goes, so that the
# image holds what the services run and nothing that installs more.
RUN /opt/shopmesh/bin/pip install . \
    && /opt/shopmesh/bin/pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
# A fixed numeric user, so that Kubernetes can check runAsNonRoot.
RUN groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin shop \
    && mkdir /app
COPY --from=build /opt/shopmesh /opt/shopmesh
# Bytecode was compiled at install; the root filesystem is read-only at run time.
ENV PATH=/opt/shopmesh/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE 50051 50052 50053
CMD ["python", "-m", "stock_svc"]
