#!/usr/bin/env bash
# `make run`: the worker that executes queued runs, in the background, beside the web server.
# When the server stops (Ctrl-C), the worker stops too: a first SIGTERM lets it exit when idle,
# a second one stops a run in progress (sling is stopped and the run is recorded as failed).
set -euo pipefail
py=${1:-.venv/bin/python}
host=${2:-127.0.0.1:8000}

"$py" manage.py worker &
worker=$!
stop_worker() {
  kill -TERM "$worker" 2>/dev/null || return 0
  sleep 1
  kill -TERM "$worker" 2>/dev/null || true
  wait "$worker" 2>/dev/null || true
}
trap stop_worker EXIT

"$py" manage.py runserver "$host"
