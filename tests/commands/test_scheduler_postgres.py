"""Schedules fired by three `manage.py worker` processes on one PostgreSQL database, over a
few real minutes: each due time of each schedule fires exactly once (the claimed
`next_fire`), its run is executed once, and a worker killed and restarted in the middle
fires nothing twice.

Like tests/commands/test_workers_postgres.py, everything runs in processes of its own
against a fresh database on the server of POSTGRES_URL (which `make test` starts), and
is read from outside. It takes two to two and a half minutes: cron has minutes, not seconds.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from run_support import write_csv
from test_worker import wait_for
from test_workers_postgres import query, studio  # noqa: F401 - `studio` is a fixture

pytestmark = pytest.mark.sling

REPLICATIONS = 8
ROWS = 3
REAPED = "worker stopped while the run was running"

# One process: the target connection, eight one-stream replications, each scheduled every minute.
SETUP = """
from studio.services.connections import connection_save
from studio.services.replications import replication_import
from studio.services.schedules import schedule_create

connection_save(name="TARGET_PG", fields={{"url": "{target}"}})
for r in range({replications}):
    replication = replication_import(
        name=f"r{{r}}",
        text="source: LOCAL\\ntarget: TARGET_PG\\n"
        "defaults:\\n  mode: full-refresh\\n  source_options: {{format: csv, header: true}}\\n"
        f"streams:\\n  file://{folder}/items.csv:\\n    object: public.r{{r}}_items\\n",
    )[0]
    schedule_create(replication=replication, cron_expression="* * * * *")
"""


@pytest.fixture(autouse=True)
def once_per_make_test():
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # It never reads the test database: its own is always PostgreSQL. Once per `make test`
        # (in the first pass) is enough for its few minutes.
        pytest.skip("runs in the SQLite pass of make test; it builds its own PostgreSQL database")


def next_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def test_three_workers_fire_each_due_time_of_each_schedule_exactly_once(studio):  # noqa: F811
    write_csv(studio.folder / "items.csv", ROWS)
    # The workers first, each heard from (on a loaded machine starting three takes seconds a due
    # time may not wait for), then the schedules.
    workers = [studio.start_worker("--automation-every", "0.2") for _ in range(3)]
    wait_for(lambda: query(studio, "select count(*) from studio_workerbeat") == [(3,)], timeout=120)
    # Not in the second half of a minute: the schedules are all made before the next one.
    if datetime.now(UTC).second > 30:
        sleep_until(next_minute(datetime.now(UTC)))
    setup = SETUP.format(
        target=f"{studio.database_url}?sslmode=disable", replications=REPLICATIONS, folder=studio.folder
    )
    studio.manage("shell", "-c", setup)
    # The due time the schedules were given (read, not assumed from the clock after the setup).
    [(first,)] = query(studio, "select distinct next_fire from studio_schedule")
    second = first + timedelta(minutes=1)
    # After the first due time: kill one worker outright (no chance to clean up) and start
    # another in its place, while the others keep firing.
    sleep_until(first + timedelta(seconds=2))
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait()
    studio.start_worker("--automation-every", "0.2")
    sleep_until(second + timedelta(seconds=5))
    wait_for(
        lambda: not query(studio, "select 1 from studio_run where status in ('queued', 'running')"),
        timeout=60,
    )
    for worker in studio.workers[1:]:
        worker.send_signal(signal.SIGTERM)
    for worker in studio.workers[1:]:
        assert worker.wait(timeout=30) == 0
    outputs = "\n".join(studio.worker_output(i) for i in range(len(studio.workers)))

    # Each schedule fired at both due times, once each, and never anything else.
    fires = query(
        studio,
        "select s.id, f.due, f.status, f.run_id from studio_schedulefire f"
        " join studio_schedule s on s.id = f.schedule_id order by s.id, f.due",
    )
    schedules = [row[0] for row in query(studio, "select id from studio_schedule order by id")]
    assert [(s, due, status) for s, due, status, _ in fires] == [
        (s, due, "fired") for s in schedules for due in (first, second)
    ], outputs
    # One run per fire, created by the schedule, executed by one worker once.
    runs = query(
        studio,
        "select id, schedule_id, trigger, status, error from studio_run order by schedule_id, id",
    )
    assert len(runs) == 2 * REPLICATIONS
    assert sorted(run_id for *_, run_id in fires) == sorted(r[0] for r in runs)
    assert {(r[1], r[2]) for r in runs} == {(s, "schedule") for s in schedules}
    # A run the killed worker was executing is failed by the reaper; every other one succeeded.
    assert all(r[3] == "succeeded" or (r[3], r[4]) == ("failed", REAPED) for r in runs), runs
    tasks = query(
        studio,
        "select (args_kwargs->'args'->>0)::int, jsonb_array_length(worker_ids::jsonb)"
        " from django_tasks_database_dbtaskresult order by 1",
    )
    assert tasks == [(r[0], 1) for r in sorted(runs)]
    for run_id, _, _, status, _ in runs:
        log = (studio.data / "runs" / str(run_id) / "sling.log").read_text()
        started = sum(line.startswith("$ ") for line in log.splitlines())
        # Sling started once; a run reaped from the killed worker may have been killed before
        # it started sling (on a loaded machine, the claim and the start are seconds apart).
        assert started == 1 or (status == "failed" and started == 0), log
    # And the next due time is the one after: nothing is owed, nothing will fire twice.
    assert {row[0] for row in query(studio, "select next_fire from studio_schedule")} == {
        second + timedelta(minutes=1)
    }
