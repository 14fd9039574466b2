# The Isthmus service images, one target each, built from the repository root:
#   docker build -f deploy/docker/services.Dockerfile --target sap-sink -t isthmus-sap-sink .
# Targets: ingress, transformer, sap-sink, d365-sink. Every image holds the workspace's sources
# and installs only its own package (and what it depends on) from the lock file.
FROM python:3.11-slim AS base
ENV PYTHONUNBUFFERED=1 UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN pip install --no-cache-dir 'uv>=0.13,<0.14' \
    && useradd --create-home --uid 10001 isthmus
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs ./libs
COPY services ./services
COPY schemas ./schemas
COPY flows ./flows
COPY deploy/topics.yaml ./deploy/topics.yaml
# Outside containers every server binds loopback; in a pod the Service and the kubelet's
# probes reach the pod IP, so each target binds all interfaces.

FROM base AS ingress
RUN uv sync --locked --no-dev --package isthmus-ingress
USER isthmus
ENV ISTHMUS_INGRESS_HOST=0.0.0.0 ISTHMUS_INGRESS_PORT=8090 ISTHMUS_INGRESS_METRICS_PORT=9490
EXPOSE 8090 9490
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8090/healthz')"
ENTRYPOINT ["/app/.venv/bin/isthmus-ingress"]

FROM base AS transformer
RUN uv sync --locked --no-dev --package isthmus-transformer
USER isthmus
ENV ISTHMUS_TRANSFORMER_HTTP__HOST=0.0.0.0 ISTHMUS_TRANSFORMER_HTTP__PORT=8085
EXPOSE 8085
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8085/healthz')"
ENTRYPOINT ["/app/.venv/bin/isthmus-transformer"]

FROM base AS sap-sink
RUN uv sync --locked --no-dev --package isthmus-sap-sink
USER isthmus
ENV ISTHMUS_SAP_SINK_SINK__HEALTH_HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
ENTRYPOINT ["/app/.venv/bin/isthmus-sap-sink"]

FROM base AS d365-sink
RUN uv sync --locked --no-dev --package isthmus-d365-sink
USER isthmus
ENV ISTHMUS_D365_SINK_SINK__HEALTH_HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
ENTRYPOINT ["/app/.venv/bin/isthmus-d365-sink"]
