"""`manage.py worker` end to end: separate processes sharing one database, as in production.

The test database of pytest-django is invisible to other processes, so each test
builds a studio of its own with `manage.py` (migrate, import) in a temporary
folder: a SQLite file, or on the PostgreSQL pass (DATABASE_URL set) a fresh
PostgreSQL database. Everything is driven and read from outside.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from run_support import count_rows, write_csv

pytestmark = pytest.mark.sling

ROOT = Path(__file__).resolve().parents[2]
REAPED = "worker stopped while the run was running"


class Studio:
    def __init__(self, folder: Path, database_url: str | None) -> None:
        self.folder = folder
        self.database_url = database_url
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        # The data folder beside the test's files, not among them (the kernel could not keep sling out).
        self.data = folder.parent / f"{folder.name}-data"
        self.env["STUDIO_DATA_DIR"] = str(self.data)
        self.env["STUDIO_FILE_ROOTS"] = f"{folder}:rw"  # the test's files are open to sling
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.workers: list[subprocess.Popen[bytes]] = []

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done

    def start_worker(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"worker-{len(self.workers)}.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)
        return worker

    def worker_output(self, index: int) -> str:
        return (self.folder / f"worker-{index}.log").read_text()

    def run(self, run_id: int) -> dict[str, Any]:
        columns = ["status", "error", "pid", "sling_pid", "exit_code"]
        sql = f"select {', '.join(columns)} from studio_run where id = {int(run_id)}"  # noqa: S608
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as db:
                row = db.execute(sql).fetchone()
        else:
            import sqlite3

            with sqlite3.connect(self.data / "studio.sqlite3") as db:
                row = db.execute(sql).fetchone()
        return dict(zip(columns, row, strict=True)) if row else {}

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()


@pytest.fixture
def studio(tmp_path) -> Iterator[Studio]:
    """A migrated studio with a replication `shop`: a CSV file (rows chosen per test) into SQLite."""
    url = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url = _create_database(os.environ["DATABASE_URL"])
    studio = Studio(tmp_path, url)
    try:
        studio.manage("migrate", "-v0")
        (tmp_path / "env.yaml").write_text(f"connections:\n  TARGET_DB: sqlite://{tmp_path}/target.sqlite\n")
        studio.manage("import_connections", str(tmp_path / "env.yaml"))
        (tmp_path / "shop.yaml").write_text(
            "source: LOCAL\ntarget: TARGET_DB\n"
            "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
            f"streams:\n  file://{tmp_path}/items.csv:\n    object: main.items\n"
        )
        studio.manage("import_replication", str(tmp_path / "shop.yaml"), "--name", "shop")
        yield studio
    finally:
        studio.stop()
        if url:
            _drop_database(url)


def test_the_worker_executes_a_queued_run(studio):
    write_csv(studio.folder / "items.csv", 500)
    studio.start_worker()

    queued = studio.manage("run_replication", "shop", "--queue")

    assert queued.stdout.strip() == "queued run #1"
    wait_for(lambda: studio.run(1)["status"] in ("succeeded", "failed"), timeout=30)
    assert studio.run(1)["status"] == "succeeded", studio.worker_output(0)
    assert studio.run(1)["exit_code"] == 0
    assert count_rows(studio.folder / "target.sqlite", "main.items") == 500
    # The worker stops when told to (SIGTERM), between runs.
    studio.workers[0].send_signal(signal.SIGTERM)
    assert studio.workers[0].wait(timeout=10) == 0


def test_a_killed_worker_leaves_no_run_stuck_running(studio):
    # About 6 s of work for sling: the worker dies in the middle of it.
    write_csv(studio.folder / "items.csv", 200_000)
    worker = studio.start_worker()
    studio.manage("run_replication", "shop", "--queue")
    wait_for(lambda: studio.run(1)["sling_pid"], timeout=30)
    sling_pid = studio.run(1)["sling_pid"]

    # The lock holds across processes: the same stream cannot start elsewhere meanwhile.
    second = studio.manage("run_replication", "shop", check=False)
    assert second.returncode == 1
    assert (
        second.stderr.strip()
        == f"error: stream `file://{studio.folder}/items.csv` is already running in run #1"
    )

    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert studio.run(1)["status"] == "running"  # stuck, until a worker starts

    restarted = studio.start_worker("--batch")
    assert restarted.wait(timeout=30) == 0

    assert studio.run(1)["status"] == "failed"
    assert studio.run(1)["error"] == REAPED
    assert f"run #1 of shop: failed ({REAPED})" in studio.worker_output(1)
    # The sling the dead worker left behind was stopped, not left to finish.
    wait_for(lambda: not _alive(sling_pid), timeout=5)
    # And the stream may run again.
    assert studio.manage("run_replication", "shop", "--queue").stdout.strip() == "queued run #3"


def wait_for(condition: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        # A zombie has exited; no one collected it yet.
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _create_database(server_url: str) -> str:
    import psycopg

    name = f"studio_worker_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute(f"create database {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
        db.execute(f"drop database if exists {name} with (force)")


def test_an_idle_worker_takes_each_run_queued_later_and_says_it_started_once(studio):
    write_csv(studio.folder / "items.csv", 10)
    studio.start_worker()

    for run_id in (1, 2):  # the second comes after the worker went back to waiting
        studio.manage("run_replication", "shop", "--queue")
        wait_for(lambda run_id=run_id: studio.run(run_id)["status"] in ("succeeded", "failed"), timeout=30)
        assert studio.run(run_id)["status"] == "succeeded", studio.worker_output(0)

    output = studio.worker_output(0)
    assert output.count("Starting worker") == 1, output
    assert "No more tasks to run" not in output
