"""Several `manage.py worker` processes on one PostgreSQL database, as on several machines:
each queued run is taken by exactly one worker (the task row is claimed with
SELECT ... FOR UPDATE SKIP LOCKED), and a stream's lock holds across processes.

Like tests/commands/test_worker.py, everything runs in processes of its own against a fresh
database on the server of POSTGRES_URL (which `make test` starts), and is read from outside.
"""

from __future__ import annotations

import os
import signal
import socket

import psycopg
import pytest
from run_support import write_csv
from test_worker import Studio, _create_database, _drop_database, wait_for

pytestmark = pytest.mark.sling

REPLICATIONS = 10
STREAMS = ("a", "b", "c")
ROWS = 5

# Run by `manage.py shell` (one process, not 40): the target connection, ten replications of
# three tiny CSV streams each, and one run per stream (30), queued for the workers.
SETUP = """
from studio.services.connections import connection_save
from studio.services.replications import replication_import
from studio.services.runs import run_queue

connection_save(name="TARGET_PG", fields={{"url": "{target}"}})
for r in range({replications}):
    streams = "".join(
        f"  file://{folder}/{{s}}.csv:\\n    object: public.r{{r:02}}_{{s}}\\n" for s in {streams!r}
    )
    replication_import(
        name=f"r{{r:02}}",
        text="source: LOCAL\\ntarget: TARGET_PG\\n"
        "defaults:\\n  mode: full-refresh\\n  source_options: {{format: csv, header: true}}\\n"
        f"streams:\\n{{streams}}",
    )
    for s in {streams!r}:
        run = run_queue(replication=f"r{{r:02}}", streams=[f"file://{folder}/{{s}}.csv"])
        assert run.status == "queued", run.error
"""


@pytest.fixture
def studio(tmp_path):
    server = os.environ.get("POSTGRES_URL")
    if not server:
        if os.environ.get("CI"):
            pytest.fail("POSTGRES_URL is not set: CI must run the tests inside scripts/with-postgres.sh")
        pytest.skip("POSTGRES_URL is not set (make test sets it)")
    url = _create_database(server)
    studio = Studio(tmp_path, url)
    try:
        studio.manage("migrate", "-v0")
        yield studio
    finally:
        studio.stop()
        _drop_database(url)


def query(studio: Studio, sql: str) -> list[tuple]:
    assert studio.database_url is not None
    with psycopg.connect(studio.database_url) as db:
        return db.execute(sql).fetchall()


def test_three_workers_run_each_queued_run_exactly_once(studio):
    folder = studio.folder
    for stream in STREAMS:
        write_csv(folder / f"{stream}.csv", ROWS)
    setup = SETUP.format(
        target=f"{studio.database_url}?sslmode=disable",
        replications=REPLICATIONS,
        streams=STREAMS,
        folder=folder,
    )
    studio.manage("shell", "-c", setup)
    runs = REPLICATIONS * len(STREAMS)
    assert query(studio, "select count(*) from studio_run where status = 'queued'") == [(runs,)]

    # The lock holds in any process: a second run of a queued stream is refused when created.
    again = studio.manage(
        "run_replication", "r00", "--stream", f"file://{folder}/a.csv", "--queue", check=False
    )
    assert again.returncode == 1
    assert again.stderr.strip() == f"error: stream `file://{folder}/a.csv` is already queued in run #1"

    workers = [studio.start_worker() for _ in range(3)]
    wait_for(
        lambda: not query(studio, "select 1 from studio_run where status in ('queued', 'running')"),
        timeout=120,
    )

    rows = query(
        studio,
        "select id, status, error, pid, host from studio_run where id <= 30 order by id",
    )
    outputs = "\n".join(studio.worker_output(i) for i in range(3))
    assert [(r[0], r[1], r[2]) for r in rows] == [(i, "succeeded", "") for i in range(1, runs + 1)], outputs
    # Each run records the worker that executed it (pid, host), and all three shared the work.
    assert {row[3] for row in rows} == {worker.pid for worker in workers}, [row[3] for row in rows]
    assert {row[4] for row in rows} == {socket.gethostname()}
    # One task result per run, claimed by one worker, once.
    tasks = query(
        studio,
        "select (args_kwargs->'args'->>0)::int, status, jsonb_array_length(worker_ids::jsonb)"
        " from django_tasks_database_dbtaskresult order by 1",
    )
    assert tasks == [(i, "SUCCESSFUL", 1) for i in range(1, runs + 1)]
    for run_id in range(1, runs + 1):
        # The log is appended to: a second execution would add a second command line.
        log = (studio.data / "runs" / str(run_id) / "sling.log").read_text()
        assert sum(line.startswith("$ ") for line in log.splitlines()) == 1, log
        assert log.count("--- run succeeded") == 1, log
    assert query(studio, "select count(*), sum(rows) from studio_runstream where status = 'succeeded'") == [
        (runs, runs * ROWS)
    ]
    assert query(studio, "select count(*) from public.r09_c") == [(ROWS,)]

    # SIGTERM: each worker finishes what it runs (nothing now) and exits.
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(timeout=20) == 0
    # The lock went with the run, whichever worker ran it.
    again = studio.manage("run_replication", "r00", "--stream", f"file://{folder}/a.csv", "--queue")
    assert again.stdout.strip() == f"queued run #{runs + 2}"
