# One image for the worker, the API and the migration job; docker-compose.yml picks the command.

# ---- build: the dependencies, in a virtual environment the runtime stage copies --------------
FROM python:3.11.16-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Exactly the versions the tests ran, each checked against its hash (`make lock` writes the file
# from pyproject.toml: the runtime's dependencies with PostgreSQL's driver; none of the dev tools,
# the `temporal` CLI, the mail catcher or the test runners). The project itself is not installed:
# the runtime runs the source tree (below), so there is one copy of the code.
COPY requirements/runtime.lock requirements/runtime.lock
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: -r requirements/runtime.lock

# ---- assets: the GOV.UK Design System's built files, as `make assets` builds them (node 20) -----
# package-lock.json's versions, checked against their integrity hashes, no install scripts run;
# nothing is fetched when the service runs.
FROM node:20.20.2-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor_govuk.sh scripts/vendor_govuk.sh
RUN sh scripts/vendor_govuk.sh

# ---- runtime ------------------------------------------------------------------------------------
FROM python:3.11.16-slim AS runtime

# Logs as one JSON object a line, for the log collector (`make dev` keeps readable text).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json \
    PATH=/opt/venv/bin:$PATH

COPY --from=build /opt/venv /opt/venv

# Every command runs from /app, so the code imported is this tree (python puts the script's
# folder, uvicorn and alembic the working folder, first on sys.path), and models.settings and
# database.py find data/ and alembic.ini next to it. Only what the services run: no tests,
# scripts (the demo), bench or the development staff directory (STAFF_DIRECTORY is mounted).
WORKDIR /app
COPY worker.py temporal_client.py database.py alembic.ini ./
COPY models/ models/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
COPY web/ web/
COPY --from=assets /src/web/static/govuk web/static/govuk
COPY reports/ reports/
COPY migrations/ migrations/
COPY data/audit_tools.toml data/

# A numeric user, so a runtime that refuses root (runAsNonRoot) can tell without a passwd lookup.
# The code stays root's: the service can read it, not change it.
USER 10001:10001

EXPOSE 8000
# Prometheus metrics: the worker's (WORKER_METRICS_PORT) and the API's (API_METRICS_PORT).
EXPOSE 9464 9465
# The API's liveness (/livez); the worker and the jobs, which serve no HTTP, turn it off in
# docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=4)"]
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
