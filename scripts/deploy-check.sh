#!/usr/bin/env bash
# The README's "Deploying", done in order on PostgreSQL: production settings, a release
# (migrate, collectstatic, check --deploy), gunicorn and two workers, a replication run;
# then an upgrade (workers stopped with SIGTERM, a run queued while they are away, migrate,
# web and workers started again) and the replication run again, the queued run included.
#
# Run it beside a PostgreSQL server: `scripts/with-postgres.sh scripts/deploy-check.sh`
# (POSTGRES_URL is a superuser's URL; the script makes two databases of its own in it).
# tests/commands/test_deploy_check.py runs it in `make test`.
#
# The release before the upgrade is this same code: no older release is packaged here, so
# the upgrade's `migrate` applies nothing; what it checks is the order and that nothing queued
# or stored is lost across the restart.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${POSTGRES_URL:?run under scripts/with-postgres.sh (POSTGRES_URL)}"
PY=${PY:-.venv/bin/python}

work=$(mktemp -d /tmp/studio-deploy.XXXXXX)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
finish() {
  status=$?
  stop_all
  if [ "$status" != 0 ]; then
    for log in "$work"/*.log; do echo "---- $log" >&2; tail -n 40 "$log" >&2; done
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT
say() { echo "deploy-check: $*" >&2; }

# Two databases of the server: the studio's and a warehouse the replication loads into.
create_database() {
  "$PY" - "$POSTGRES_URL" "$1" <<'EOF'
import sys, psycopg
url, name = sys.argv[1], sys.argv[2]
with psycopg.connect(url, autocommit=True) as db:
    db.execute(f'create database "{name}"')
print(url.rsplit("/", 1)[0] + "/" + name)
EOF
}
studio_url=$(create_database "deploy_studio_$$")
warehouse_url=$(create_database "deploy_warehouse_$$")

# 1. Settings, the same in every process (README: Deploying, 1).
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="$studio_url" DEBUG=false ALLOWED_HOSTS=127.0.0.1
export SECRET_KEY="deploy-check-$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')"
export STUDIO_ENCRYPTION_KEYS="$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export STUDIO_DATA_DIR="$work/data" STUDIO_FILE_ROOTS="$PWD/demo/data"
unset DJANGO_SETTINGS_MODULE

manage() { "$PY" manage.py "$@"; }

release() {
  say "release: migrate, collectstatic, check --deploy"
  manage migrate --noinput >"$work/migrate.log"
  manage collectstatic --noinput >"$work/collectstatic.log"
  manage check --deploy --fail-level WARNING >"$work/check.log"
}

start() {
  say "start: gunicorn on 127.0.0.1:$port and two workers"
  "$PY" -m gunicorn studio.wsgi --bind "127.0.0.1:$port" --workers 2 >>"$work/web.log" 2>&1 &
  pids+=($!)
  local workers=()
  for n in 1 2; do
    "$PY" manage.py worker --interval 0.2 >>"$work/worker-$n.log" 2>&1 &
    pids+=($!)
    workers+=($!)
  done
  # Ready when /readyz answers 200 (database, migrations, binary, sandbox, a worker's beat)
  # and /metrics has a heartbeat of each of the two workers just started.
  "$PY" - "http://127.0.0.1:$port" "${workers[@]}" <<'EOF'
import sys, time, urllib.error, urllib.request
from prometheus_client.parser import text_string_to_metric_families
base, pids = sys.argv[1], set(sys.argv[2:])
deadline = time.monotonic() + 90
answer = "no answer"
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(base + "/readyz", timeout=5).close()
        with urllib.request.urlopen(base + "/metrics", timeout=5) as response:
            families = text_string_to_metric_families(response.read().decode())
        beating = {s.labels["pid"] for f in families if f.name == "studio_worker_last_heartbeat_seconds"
                   for s in f.samples}
        if pids <= beating:
            sys.exit(0)
        answer = f"workers {sorted(pids - beating)} not heard from yet"
    except urllib.error.HTTPError as error:
        answer = error.read().decode()
    except OSError as error:
        answer = str(error)
    time.sleep(0.5)
sys.exit(f"not ready in 90 s: {answer}")
EOF
}

# Wait for the workers to finish run ID (queued by `run_replication deploy --queue`).
wait_for_run() {
  "$PY" - "$1" <<'EOF'
import json, subprocess, sys, time
run_id = int(sys.argv[1])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    runs = json.loads(subprocess.run([sys.executable, "manage.py", "runs", "deploy", "--json", "--limit", "50"],
                                     check=True, capture_output=True, text=True).stdout)
    run = next(r for r in runs if r["id"] == run_id)
    if run["status"] == "succeeded":
        sys.exit(0)
    if run["status"] in ("failed", "cancelled"):
        sys.exit(f"run #{run_id} {run['status']}: {run.get('error')}")
    time.sleep(0.5)
sys.exit(f"run #{run_id} did not finish in 120 s")
EOF
}

# Queue a run of the replication; prints its id.
queue() {
  local queued
  queued=$(manage run_replication deploy --queue)
  echo "${queued##*#}"
}

rows() {
  "$PY" - "$warehouse_url" <<'EOF'
import sys, psycopg
with psycopg.connect(sys.argv[1]) as db:
    print(db.execute("select count(*) from public.customers").fetchone()[0])
EOF
}

release
cat >"$work/env.yaml" <<EOF
connections:
  WAREHOUSE:
    type: postgres
    url: "$warehouse_url?sslmode=disable"
EOF
manage import_connections "$work/env.yaml" >/dev/null
cat >"$work/replication.yaml" <<'EOF'
source: LOCAL
target: WAREHOUSE
defaults:
  mode: full-refresh
  source_options: {format: csv, header: true}
streams:
  file://demo/data/customers.csv:
    object: public.customers
  file://demo/data/orders.csv:
    object: public.orders
EOF
manage import_replication "$work/replication.yaml" --name deploy >/dev/null
start
before=$(queue)
wait_for_run "$before"
say "before the upgrade: run #$before succeeded, $(rows) customers in the warehouse"

say "upgrade: workers and web stopped with SIGTERM (each finishes what it holds)"
stop_all
queued=$(queue)
say "run #$queued queued while no worker runs"
release
start
wait_for_run "$queued"
after=$(queue)
wait_for_run "$after"
say "after the upgrade: runs #$queued and #$after succeeded, $(rows) customers in the warehouse"
echo "deploy-check: ok"
