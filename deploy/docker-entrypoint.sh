#!/bin/sh
# The image's entry point: one role per container. The orchestrator (Compose, Kubernetes) supervises it.
#   web                      uvicorn with WEB_WORKERS processes on 0.0.0.0:$PORT
#   worker-investigations    manage.py run_worker --queue investigations (INVESTIGATION_WORKER_CONCURRENCY at once)
#   worker-webhooks          manage.py run_worker --queue webhooks (WEBHOOK_WORKER_CONCURRENCY at once)
#   maintenance              manage.py sweep_investigations --loop (sweeper, reconciliation, pruning)
#   migrate                  manage.py migrate (run once per release, before the new pods start)
#   anything else            run as given (e.g. `manage.py orgs create ...`)
set -eu
# Metrics files belong to this container's processes only; start from an empty directory.
mkdir -p "${PROMETHEUS_MULTIPROC_DIR:?}" && find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
case "${1:-web}" in
  web)
    exec uvicorn incidentfox_web.asgi:application --host 0.0.0.0 --port "${PORT:-8000}" \
      --workers "${WEB_WORKERS:-2}" --no-server-header --no-access-log --lifespan off --timeout-graceful-shutdown 20 ;;
  worker-investigations) exec python manage.py run_worker --queue investigations ;;
  worker-webhooks) exec python manage.py run_worker --queue webhooks ;;
  maintenance) exec python manage.py sweep_investigations --loop --interval "${MAINTENANCE_INTERVAL:-5}" ;;
  migrate) exec python manage.py migrate --noinput ;;
  *) exec "$@" ;;
esac
