# OpsLedger: one image for every process (api, relay, projector, one-shot commands).
# docker-compose.yml picks the process with `command:`; the default is the HTTP API.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user owns the data folder (event store, embedded read models, tokens).
RUN groupadd --system --gid 10001 opsledger \
    && useradd --system --uid 10001 --gid opsledger --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin opsledger \
    && mkdir -p /data \
    && chown opsledger:opsledger /data

# Only what the package needs (never .venv, tests or local data).
WORKDIR /tmp/opsledger-src
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY infra ./infra
COPY services ./services
RUN pip install . \
    && cd / \
    && rm -rf /tmp/opsledger-src

WORKDIR /data
ENV OPSLEDGER_DATA_DIR=/data \
    OPSLEDGER_HOST=0.0.0.0 \
    OPSLEDGER_PORT=8000
USER opsledger
VOLUME ["/data"]
EXPOSE 8000

# The API's liveness; processes without HTTP (relay, projector) disable it in compose.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OPSLEDGER_PORT', '8000'), timeout=2)"]

CMD ["opsledger", "api"]
