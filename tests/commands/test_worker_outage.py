"""A worker that stays up (issue 12, problem 2): PostgreSQL stopped for 15 s under a running
worker, mid-run, then again while it is idle.

The worker does not exit: it says once per outage that the database is away and once that it
is back, the run in flight is finished (sling never depended on the database) and recorded when
the database is back, and the runs queued meanwhile are taken. The server is one of this test's
own (initdb, pg_ctl), so it can be stopped; the studio lives in processes of its own, as in
tests/commands/test_worker.py.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from run_support import count_rows, write_csv
from test_worker import ROOT, Studio, wait_for

pytestmark = [pytest.mark.sling, pytest.mark.outage]

UNAVAILABLE = "database unavailable ("
BACK = "database back after "


class Server:
    """A throwaway PostgreSQL server, stopped and started at will (as scripts/with-postgres.sh's)."""

    def __init__(self, folder: Path) -> None:
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        if not bindirs:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not installed: CI must run inside scripts/with-postgres.sh")
            pytest.skip("PostgreSQL is not installed (make test installs it)")
        self.bin = Path(bindirs[-1])
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        # PostgreSQL refuses to run as root.
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if self.as_pg:
            shutil.chown(folder, "postgres")
        self.pg("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self.pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "studio")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/studio"

    def pg(self, tool: str, *args: str, check: bool = True) -> None:
        subprocess.run([*self.as_pg, str(self.bin / tool), *args], check=check, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg(
            "pg_ctl",
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast", check: bool = True) -> None:
        self.pg("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop", check=check)


@pytest.fixture
def server() -> Iterator[Server]:
    # Not under pytest's tmp folder: the postgres user cannot enter root's.
    folder = Path(tempfile.mkdtemp(prefix="studio-pg-outage-"))
    try:
        server = Server(folder)
        yield server
        server.stop("immediate", check=False)  # already stopped when the test failed midway
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def studio(server, tmp_path) -> Iterator[Studio]:
    """Two replications from CSV into SQLite on the server's database: `big` (about 6 s of
    sling) and `small`."""
    studio = Studio(tmp_path, server.url)
    try:
        studio.manage("migrate", "-v0")
        (tmp_path / "env.yaml").write_text(f"connections:\n  TARGET_DB: sqlite://{tmp_path}/target.sqlite\n")
        studio.manage("import_connections", str(tmp_path / "env.yaml"))
        for name in ("big", "small"):
            (tmp_path / f"{name}.yaml").write_text(
                "source: LOCAL\ntarget: TARGET_DB\n"
                "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
                f"streams:\n  file://{tmp_path}/{name}.csv:\n    object: main.{name}\n"
            )
            studio.manage("import_replication", str(tmp_path / f"{name}.yaml"), "--name", name)
        write_csv(tmp_path / "big.csv", 200_000)
        write_csv(tmp_path / "small.csv", 10)
        yield studio
    finally:
        studio.stop()


def start_web(studio: Studio) -> str:
    """The studio's web server (gunicorn, as deployed) on a free port; its address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (studio.folder / "web.log").open("wb")
    studio.workers.append(  # stopped with the workers
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "studio.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
            cwd=ROOT,
            env=studio.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    return f"http://127.0.0.1:{port}"


def readyz(web: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{web}/readyz", timeout=5) as answer:  # noqa: S310 (loopback http)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}  # not listening yet


def test_the_worker_waits_out_a_postgresql_outage_mid_run_and_idle(server, studio):
    worker = studio.start_worker()
    assert studio.manage("run_replication", "big", "--queue").stdout.strip() == "queued run #1"
    assert studio.manage("run_replication", "small", "--queue").stdout.strip() == "queued run #2"
    wait_for(lambda: studio.run(1)["sling_pid"], timeout=60)

    # Mid-run: 15 s without the database.
    server.stop()
    time.sleep(15)
    assert worker.poll() is None, studio.worker_output(0)
    server.start()

    wait_for(lambda: studio.run(2)["status"] in ("succeeded", "failed"), timeout=90)
    assert studio.run(1)["status"] == "succeeded", studio.worker_output(0)
    assert studio.run(2)["status"] == "succeeded", studio.worker_output(0)
    assert count_rows(studio.folder / "target.sqlite", "main.big") == 200_000
    output = studio.worker_output(0)
    assert (output.count(UNAVAILABLE), output.count(BACK)) == (1, 1), output
    assert "Traceback" not in output

    # Idle: the worker waits, then takes what is queued; /readyz says the database is away
    # while it is, and ready again after (a web process of its own, as a load balancer asks it).
    web = start_web(studio)
    wait_for(lambda: readyz(web)[0] == 200, timeout=60)
    server.stop()
    down = readyz(web)
    time.sleep(5)
    assert worker.poll() is None
    server.start()
    wait_for(lambda: studio.worker_output(0).count(BACK) == 2, timeout=30)
    wait_for(lambda: readyz(web)[0] == 200, timeout=30)
    assert down[0] == 503
    assert down[1]["checks"]["database"].startswith("not reachable: OperationalError"), down
    assert studio.manage("run_replication", "small", "--queue").stdout.strip() == "queued run #3"
    wait_for(lambda: studio.run(3)["status"] in ("succeeded", "failed"), timeout=60)

    assert studio.run(3)["status"] == "succeeded", studio.worker_output(0)
    output = studio.worker_output(0)
    assert (output.count(UNAVAILABLE), output.count(BACK)) == (2, 2), output
    assert worker.poll() is None
