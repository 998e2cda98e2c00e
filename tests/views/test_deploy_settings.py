"""Production settings: `check --deploy` passes and the security headers are sent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deploy_checks_pass_with_production_settings(tmp_path):
    done = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="a-long-random-production-key-" + "x7Yq2" * 10,
        ALLOWED_HOSTS="studio.example.com",
        STUDIO_DATA_DIR=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    done = manage("check", DEBUG="false", STUDIO_DATA_DIR=str(tmp_path))
    assert done.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off" in done.stderr
    assert "Traceback" not in done.stderr.splitlines()[-1]


@pytest.mark.django_db
def test_pages_send_a_content_security_policy(client):
    response = client.get("/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
