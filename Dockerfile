# One image for the three services (and the schema tool, the auditor):
#     docker build -t shopmesh:dev .
# A Deployment picks what runs: `command: ["python", "-m", "order_svc"]`.
# The gateway is the official Envoy image with a generated ConfigMap (k8s/base/gateway.yaml).

FROM python:3.11-slim-bookworm AS build
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
RUN /opt/shopmesh/bin/pip install .

FROM python:3.11-slim-bookworm
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
