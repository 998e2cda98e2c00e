"""A run's streams side by side on several `manage.py worker` processes (issue 23): each stream
runs once, no connection ever has more sling processes than its limit (each stream records when
it started and ended; the test checks the overlaps), a stream that fails leaves the others' rows,
cancel stops every running stream and starts no more, and a worker killed mid-stream fails that
stream while the run goes on.

Like tests/commands/test_worker.py, everything runs in processes of its own (a SQLite file, or on
the PostgreSQL pass a fresh database) and is read from outside; every wait is for a condition.
"""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from run_support import count_rows, write_csv
from test_worker import REAPED, Studio, _alive, _create_database, _drop_database, wait_for

pytestmark = pytest.mark.sling

# Run by `manage.py shell`: the connections (OUT: files, written by at most `limit` processes at
# once; TARGET_DB: a SQLite file, one writer), a replication of the CSV files, one run queued.
SETUP = """
from studio import models
from studio.services.connections import connection_save
from studio.services.replications import replication_import
from studio.services.runs import run_queue

connection_save(name="OUT", fields={{"type": "file"}})
models.Connection.objects.filter(name="OUT").update(max_streams={limit})
connection_save(name="TARGET_DB", fields={{"type": "sqlite", "url": "sqlite://{folder}/target.sqlite"}})
streams = "".join(f"  file://{folder}/{{name}}:\\n    object: {{obj}}\\n" for name, obj in {streams!r})
replication_import(
    name="shop",
    text="source: LOCAL\\ntarget: {target}\\n"
    "defaults:\\n  mode: full-refresh\\n  source_options: {{format: csv, header: true}}\\n"
    f"streams:\\n{{streams}}",
)
run = run_queue(replication="shop", parallel={parallel})
assert run.status == "queued", run.error
print(run.pk)
"""


@pytest.fixture
def studio(tmp_path):
    url = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url = _create_database(os.environ["DATABASE_URL"])
    studio = Studio(tmp_path, url)
    try:
        studio.manage("migrate", "-v0")
        yield studio
    finally:
        studio.stop()
        if url:
            _drop_database(url)


def query(studio: Studio, sql: str) -> list[tuple[Any, ...]]:
    if studio.database_url:
        import psycopg

        with psycopg.connect(studio.database_url) as db:
            return db.execute(sql).fetchall()
    import sqlite3

    with sqlite3.connect(studio.data / "studio.sqlite3") as db:
        return db.execute(sql).fetchall()


def queue(studio: Studio, files: dict[str, int], *, target: str, limit: int = 2, parallel: int = 4) -> int:
    """CSV files (name -> rows; a negative count: the file is missing) queued as one run."""
    streams = []
    for name, rows in files.items():
        if rows >= 0:
            write_csv(studio.folder / name, rows)
        stem = Path(name).stem
        obj = f"file://{studio.folder}/out/{stem}.csv" if target == "OUT" else f"main.{stem}"
        streams.append((name, obj))
    setup = SETUP.format(folder=studio.folder, streams=streams, target=target, limit=limit, parallel=parallel)
    return int(studio.manage("shell", "-c", setup).stdout.split()[-1])


def start_workers(studio: Studio, count: int, *args: str) -> list[Any]:
    """`count` workers, up: each has said it is alive (a part's batch counts the workers beating)."""
    workers = [studio.start_worker(*args) for _ in range(count)]
    wait_for(lambda: query(studio, "select count(*) from studio_workerbeat") == [(count,)], timeout=60)
    return workers


def status(studio: Studio, run_id: int) -> str:
    return query(studio, f"select status from studio_run where id = {run_id}")[0][0]  # noqa: S608


def streams(studio: Studio, run_id: int) -> dict[str, dict[str, Any]]:
    columns = "name, status, rows, error, started_at, ended_at, holder"
    sql = f"select {columns} from studio_runstream where run_id = {int(run_id)} order by position"  # noqa: S608
    keys = ("status", "rows", "error", "started_at", "ended_at", "holder")
    return {Path(row[0]).name: dict(zip(keys, row[1:], strict=True)) for row in query(studio, sql)}


def log(studio: Studio, run_id: int) -> str:
    sql = f"select text from studio_runlogchunk where run_id = {run_id} order by seq"  # noqa: S608
    return "".join(row[0] for row in query(studio, sql))


def moment(value: Any) -> datetime:
    """A time as either database gives it (SQLite: text in UTC without its zone), in UTC."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def most_at_once(rows: dict[str, dict[str, Any]]) -> int:
    """The most streams that ran at the same moment (each from its start to its end)."""
    events = []
    for row in rows.values():
        if row["started_at"] is not None:
            events += [(moment(row["started_at"]), 1), (moment(row["ended_at"]), -1)]
    running = most = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start at one moment
        running += step
        most = max(most, running)
    return most


def ended(studio: Studio, run_id: int, timeout: float = 120) -> str:
    wait_for(lambda: status(studio, run_id) not in ("queued", "running"), timeout=timeout)
    return status(studio, run_id)


def test_each_stream_runs_once_within_the_connection_s_limit_and_a_failure_keeps_the_others(studio):
    files = {f"s{n}.csv": 20_000 for n in range(7)} | {"missing.csv": -1}
    start_workers(studio, 3)
    run_id = queue(studio, files, target="OUT", limit=2)

    assert ended(studio, run_id) == "failed", studio.worker_output(0)

    rows = streams(studio, run_id)
    assert rows["missing.csv"]["status"] == "failed"
    for name in files:
        if name != "missing.csv":
            assert (rows[name]["status"], rows[name]["rows"]) == ("succeeded", 20_000), name
            # Its file, whole, beside the failed stream's nothing.
            assert (studio.folder / "out" / name).read_text().count("\n") == 20_001
    # Each stream was taken by one part, and sling ran it once.
    assert all(row["holder"] for row in rows.values())
    text = log(studio, run_id)
    for name in files:
        path = f"file://{studio.folder}/{name}"
        # Sling's line for the start of a stream: in a file of several, or of one.
        started = [
            line for line in text.splitlines() if line.endswith((f"running stream {path}", f"| {path}"))
        ]
        assert len(started) == 1, (name, text)
    assert most_at_once(rows) <= 2
    assert query(studio, "select count(*) from studio_runslot") == [(0,)]
    for worker in range(3):  # no part of the run failed in its worker
        assert "Traceback" not in studio.worker_output(worker), studio.worker_output(worker)
    assert text.endswith("--- run failed: 1 stream(s) failed: " + f"file://{studio.folder}/missing.csv ---\n")


def test_a_sqlite_target_takes_one_writer_at_a_time_and_every_row_lands(studio):
    files = {f"s{n}.csv": 5_000 for n in range(6)}
    start_workers(studio, 2)
    run_id = queue(studio, files, target="TARGET_DB", parallel=4)

    assert ended(studio, run_id) == "succeeded", log(studio, run_id)

    rows = streams(studio, run_id)
    assert most_at_once(rows) == 1
    assert "database is locked" not in log(studio, run_id)
    for name in files:
        assert count_rows(studio.folder / "target.sqlite", f"main.{Path(name).stem}") == 5_000


def test_cancel_stops_every_running_stream_and_starts_no_more(studio):
    files = {f"s{n}.csv": 300_000 for n in range(6)}
    start_workers(studio, 2)
    run_id = queue(studio, files, target="OUT", limit=2)
    wait_for(lambda: any(r["status"] == "running" for r in streams(studio, run_id).values()), timeout=60)

    studio.manage(
        "shell",
        "-c",
        "from studio import models\nfrom studio.services.runs import run_cancel\n"
        f"run_cancel(run=models.Run.objects.get(pk={run_id}))",
    )

    assert ended(studio, run_id) == "cancelled"
    rows = streams(studio, run_id)
    assert {row["status"] for row in rows.values()} <= {"succeeded", "cancelled"}
    assert any(row["status"] == "cancelled" and row["started_at"] for row in rows.values())  # stopped
    # No part started a sling after it was told to stop (each says so when it stops its sling).
    lines = log(studio, run_id).splitlines()
    for stop, line in enumerate(lines):
        if line.endswith("--- cancel requested: sling was sent SIGTERM ---"):
            part = line.split("]")[0] + "]"
            assert not [later for later in lines[stop:] if later.startswith(f"{part} $ ")], lines
    assert query(studio, "select count(*) from studio_runslot") == [(0,)]


def test_a_worker_killed_mid_stream_fails_that_stream_and_the_run_goes_on(studio):
    files = {f"s{n}.csv": 200_000 for n in range(4)}
    workers = start_workers(studio, 2, "--reap-every", "0.5")
    run_id = queue(studio, files, target="OUT", limit=2, parallel=2)

    def running_slot() -> tuple[int, int] | None:
        """A worker's pid and its sling's, while sling writes a stream."""
        found = query(
            studio,
            "select slot.pid, slot.sling_pid from studio_runslot slot join studio_runstream stream "
            "on stream.holder = slot.holder where stream.status = 'running' and slot.sling_pid is not null",
        )
        return found[0] if found else None

    pid, sling_pid = wait_for(running_slot, timeout=60)
    victim = next(w for w in workers if w.pid == pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    assert ended(studio, run_id) == "failed"
    rows = streams(studio, run_id)
    failed = [name for name, row in rows.items() if row["status"] == "failed"]
    assert len(failed) == 1 and rows[failed[0]]["error"] == REAPED, json.dumps(rows, default=str)
    assert all(row["status"] == "succeeded" for name, row in rows.items() if name not in failed)
    # The sling the dead worker left behind was stopped.
    wait_for(lambda: not _alive(sling_pid), timeout=10)
