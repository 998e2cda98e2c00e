"""The README's "Deploying" done by scripts/deploy-check.sh: production settings on PostgreSQL,
gunicorn and two workers, a replication run before and after an upgrade (migrate, restart), a run
queued while the workers are stopped taken after. The script makes databases of its own on the
server of POSTGRES_URL, so it runs in the first pass only (marker `deploy`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.sling, pytest.mark.deploy]


def test_the_deploy_script_upgrades_with_two_workers_and_loses_no_run():
    if not os.environ.get("POSTGRES_URL"):
        if os.environ.get("CI"):
            pytest.fail("POSTGRES_URL is not set: CI must run the tests inside scripts/with-postgres.sh")
        pytest.skip("POSTGRES_URL is not set (make test sets it)")
    # A deploy's own environment: none of the test run's settings (the browser tests allow async
    # unsafe calls in this process, which `check --deploy` rightly refuses).
    dropped = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG", "SECRET_KEY")
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    done = subprocess.run(
        ["scripts/deploy-check.sh"],
        cwd=ROOT,
        env={**environment, "PY": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "deploy-check: ok" in done.stdout
    assert "before the upgrade: run #1 succeeded, 40 customers" in done.stderr
    assert "after the upgrade: runs #2 and #3 succeeded, 40 customers" in done.stderr
