#!/usr/bin/env bash
# Load the studio's Dagster export with real dagster and dagster-sling, and compare what they
# see with the studio's lineage (the tests marked `dagster`). Dagster lives in .venv-dagster,
# made here (again only when scripts/dagster-requirements.txt changes), never in .venv.
# Usage: scripts/dagster-check.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-dagster
requirements=scripts/dagster-requirements.txt
stamp="$venv/.installed-$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  echo "dagster-check: installing $(grep -v '^#' "$requirements" | xargs) into $venv" >&2
  start=$(date +%s)
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet -r "$requirements"
  touch "$stamp"
  echo "dagster-check: installed in $(($(date +%s) - start)) s" >&2
fi

DAGSTER_PYTHON="$PWD/$venv/bin/python" exec .venv/bin/python -m pytest -m dagster "$@"
