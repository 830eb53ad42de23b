FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY vocabulary vocabulary
COPY errors errors
COPY cachepolicy cachepolicy
COPY models models
COPY ingest ingest
COPY releases releases
COPY tasks tasks
COPY gateway gateway
COPY api api
COPY cli cli
COPY bench bench
COPY celeryconfig.py Procfile ./
RUN pip install --no-cache-dir . && useradd --create-home chargewatch && mkdir -p /app/artifacts \
    && chown chargewatch /app/artifacts
USER chargewatch
ENV MODEL_DIR=/app/artifacts
