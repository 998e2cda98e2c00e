"""A run of 8 streams on 2 workers, watched in the browser (issue 23): the run page shows two
streams running at once, then all of them done; "Run the failed streams again" queues only the
one that failed. The workers are two threads of this process, each taking a part of the run as
`manage.py worker` would (tests/commands/test_parallel_workers.py runs real worker processes)."""

from __future__ import annotations

import threading

import pytest
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect
from run_support import write_csv

from studio import models
from studio.services.connections import connection_save
from studio.services.replications import replication_import
from studio.tasks import execute_run, execute_run_part

pytestmark = [pytest.mark.browser, pytest.mark.sling, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _threads_may_write_at_once(settings):
    # The SQLite test database is in memory, shared between the threads in one cache, where a
    # second writer is refused at once ("database table is locked") instead of waiting: two
    # workers as threads beside the live server cannot share it. On SQLite, the parts run as
    # real worker processes on a file in tests/commands/test_parallel_workers.py.
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("two worker threads need a database that lets them write at once (the PostgreSQL pass)")


def test_two_workers_run_streams_side_by_side_and_the_failed_one_runs_again(page, tmp_path, settings):
    settings.STUDIO_RUN_PARALLEL = 2
    names = [f"s{n}.csv" for n in range(7)] + ["missing.csv"]
    for name in names[:-1]:
        write_csv(tmp_path / name, 300_000)  # a few seconds each: long enough to be seen running
    connection_save(name="OUT", fields={"type": "file"})
    streams = "".join(f"  file://{tmp_path}/{n}:\n    object: file://{tmp_path}/out/{n}\n" for n in names)
    replication_import(
        name="eight",
        text="source: LOCAL\ntarget: OUT\n"
        "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
        f"streams:\n{streams}",
    )

    page.goto(f"{page.base}/r/eight/")
    page.click("button:has-text('Run replication')")
    page.wait_for_url("**/runs/*/")
    run = models.Run.objects.get(status="queued")
    first = threading.Thread(target=execute_run.call, args=(run.pk,))
    first.start()

    def second_worker() -> None:
        # The part the first worker queued for any free worker: this one takes it.
        while not (task := DBTaskResult.objects.filter(task_path__endswith="execute_run_part").first()):
            threading.Event().wait(0.05)
        execute_run_part.call(*task.args_kwargs["args"])

    second = threading.Thread(target=second_worker)
    second.start()
    try:
        running = page.locator("#run-status tbody .status.running")
        expect(running).to_have_count(2, timeout=60_000)
        page.locator("#run-status h1 .status.failed").wait_for(timeout=120_000)
    finally:
        models.Run.objects.filter(pk=run.pk, status="running").update(cancel_requested=True)
        first.join()
        second.join()

    page.reload()
    statuses = page.locator("#run-status tbody tr td:nth-child(2)").all_inner_texts()
    outcomes = list(models.RunStream.objects.filter(run=run).values_list("name", "status", "error"))
    assert sorted(statuses) == ["failed"] + ["succeeded"] * 7, outcomes
    page.click("button:has-text('Run the failed streams again')")
    page.wait_for_url("**/runs/*/")
    again = models.Run.objects.exclude(pk=run.pk).get()
    assert again.streams == [f"file://{tmp_path}/missing.csv"]
    assert page.locator("#run-status tbody tr").count() == 1
