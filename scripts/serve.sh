#!/usr/bin/env bash
# Serves the web app (ASGI, uvicorn) and the background worker together; Ctrl-C (or SIGTERM) stops both.
set -uo pipefail
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}

if [ "${TASKS_BACKEND:-database}" = "rq" ]; then
  worker=("$PY" manage.py rqworker default --with-scheduler)
else
  worker=("$PY" manage.py db_worker --queue-name default)
fi

"${worker[@]}" &
worker_pid=$!
"$PY" -m uvicorn incidentfox_web.asgi:application --host "$HOST" --port "$PORT" --no-server-header \
  --timeout-graceful-shutdown 5 &
web_pid=$!

stop() {
  trap - INT TERM
  kill -TERM "$web_pid" "$worker_pid" 2>/dev/null
  wait "$web_pid" "$worker_pid" 2>/dev/null
  exit 0
}
trap stop INT TERM
echo "IncidentFox is serving on http://$HOST:$PORT (web pid $web_pid, worker pid $worker_pid). Ctrl-C stops both."
# If either process exits on its own, stop the other one too.
wait -n "$web_pid" "$worker_pid"
status=$?
stop_status=$status
kill -TERM "$web_pid" "$worker_pid" 2>/dev/null
wait 2>/dev/null
exit "$stop_status"
