#!/usr/bin/env bash
# Serves IncidentFox on one host (what `make run` runs): the web server, the workers of each task queue and the
# maintenance loop, each under a small supervisor that starts it again when it exits, after a backoff (1 s,
# doubling up to 30 s; back to 1 s once it has run for a minute). One process dying never stops the others.
# Ctrl-C or SIGTERM stops everything.
#
#   web          uvicorn serving Django's ASGI application with WEB_WORKERS processes (default 2; uvicorn's own
#                supervisor restarts one that dies)
#   workers      `manage.py run_worker` for the investigations queue (INVESTIGATION_WORKERS processes, default 1,
#                each running INVESTIGATION_WORKER_CONCURRENCY investigations at once) and for the webhooks queue
#                (WEBHOOK_WORKERS processes, default 1, each WEBHOOK_WORKER_CONCURRENCY deliveries at once)
#   maintenance  `manage.py sweep_investigations --loop` every MAINTENANCE_INTERVAL seconds (default 5)
#
# All processes record metrics into PROMETHEUS_MULTIPROC_DIR (default var/prometheus, emptied at start), which
# /metrics aggregates.
set -uo pipefail
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-var/prometheus}
# Metrics of a previous run must not add up with this one's: drop the library's files (only those) at start.
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete

# supervise NAME COMMAND...: run COMMAND until this subshell gets SIGTERM, restarting it with backoff.
supervise() {
  local name=$1 delay=1 child=0 started status
  shift
  trap 'trap - TERM INT; [ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    started=$SECONDS
    "$@" &
    child=$!
    wait "$child"
    status=$?
    ((SECONDS - started >= 60)) && delay=1
    echo "serve.sh: $name (pid $child) exited with status $status; starting it again in ${delay} s" >&2
    sleep "$delay" &
    wait $!
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  done
}

pids=()
for ((n = 1; n <= ${INVESTIGATION_WORKERS:-1}; n++)); do
  supervise "investigation worker $n" "$PY" manage.py run_worker --queue investigations &
  pids+=($!)
done
for ((n = 1; n <= ${WEBHOOK_WORKERS:-1}; n++)); do
  supervise "webhook worker $n" "$PY" manage.py run_worker --queue webhooks &
  pids+=($!)
done
supervise "maintenance loop" "$PY" manage.py sweep_investigations --loop --interval "${MAINTENANCE_INTERVAL:-5}" &
pids+=($!)
supervise "web server" "$PY" -m uvicorn incidentfox_web.asgi:application --host "$HOST" --port "$PORT" \
  --no-server-header --no-access-log --workers "${WEB_WORKERS:-2}" --lifespan off --timeout-graceful-shutdown 5 &
pids+=($!)

stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
  exit 0
}
trap stop INT TERM
echo "IncidentFox is serving on http://$HOST:$PORT (web, investigation and webhook workers, maintenance loop; each restarted if it exits). Ctrl-C stops them."
wait
