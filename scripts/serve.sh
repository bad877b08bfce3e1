#!/usr/bin/env bash
# Serves the web app, the background worker and the maintenance loop (sweeps stuck investigations, prunes
# rate-limit windows) together. Ctrl-C or SIGTERM stops all three; if one exits, the others are stopped too.
# The web app is Django's ASGI application under uvicorn, with WEB_WORKERS processes (uvicorn's own supervisor
# restarts one that dies).
set -uo pipefail
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}

if [ "${TASKS_BACKEND:-database}" = "rq" ]; then
  worker=("$PY" manage.py rqworker default --with-scheduler --job-class django_tasks_rq.Job)
else
  worker=("$PY" manage.py db_worker --queue-name default --interval 0.2)
fi

pids=()
"${worker[@]}" &
pids+=($!)
"$PY" manage.py sweep_investigations --loop --interval 5 &
pids+=($!)
"$PY" -m uvicorn incidentfox_web.asgi:application --host "$HOST" --port "$PORT" --no-server-header \
  --workers "${WEB_WORKERS:-2}" --lifespan off --timeout-graceful-shutdown 5 &
pids+=($!)

stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
}
trap 'stop; exit 0' INT TERM
echo "IncidentFox is serving on http://$HOST:$PORT (worker, maintenance loop and web running). Ctrl-C stops them."
wait -n "${pids[@]}"
status=$?
stop
exit "$status"
