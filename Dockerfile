# IncidentFox server image: web, workers, maintenance loop and migrations from one image (deploy/docker-entrypoint.sh
# picks the role). Two stages: the build stage installs requirements/runtime.lock into a venv and collects the
# static files; the runtime stage copies the venv and the app onto a clean slim base and runs as a non-root user.
#   docker build -t incidentfox .
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements/runtime.lock requirements/runtime.lock
RUN /opt/venv/bin/pip install --no-deps -r requirements/runtime.lock
COPY . .
# collectstatic needs importable settings, not real secrets: throwaway values that never leave this stage.
RUN INCIDENTFOX_ENV_FILE=/nonexistent SECRET_KEY=build-only-not-a-secret \
    TOKEN_PEPPERS='{"1": "build-only-pepper-0123456789"}' \
    CONFIG_ENCRYPTION_KEYS='{"1": "build-only-config-key-0123456789"}' \
    /opt/venv/bin/python manage.py collectstatic --noinput -v0 \
    && rm -rf var/dev.env var/*.sqlite3* tests bench sdk .ci .git

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 incidentfox \
    && useradd --system --uid 10001 --gid incidentfox --home-dir /app --no-create-home --shell /usr/sbin/nologin incidentfox
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=incidentfox_web.settings \
    INCIDENTFOX_ENV_FILE=/nonexistent \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    LOG_FORMAT=json \
    PORT=8000
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["web"]
