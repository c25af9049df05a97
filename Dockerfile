# One image for both the worker and the API; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .

# The project with PostgreSQL's driver (DATABASE_URL=postgresql+psycopg://); `make dev` uses SQLite.
RUN pip install ".[postgres]"

# Both commands run from /app, so the code imported is this source tree (python puts the script's
# folder, uvicorn the working folder, first on sys.path) and models.settings finds data/ next to it.
RUN useradd --system --uid 10001 qsaf
USER qsaf

EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
