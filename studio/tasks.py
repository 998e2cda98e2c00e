"""Background tasks, executed by `manage.py worker` (Django's tasks framework, database backend)."""

from __future__ import annotations

from django_tasks import task

from studio import models
from studio.services import parallel
from studio.services.columns import columns_refresh_stale
from studio.services.executor import run_execute


@task()
def execute_run(run_id: int) -> str:
    """Execute a queued run (its streams side by side when it may); returns the status it
    ended with here ("running" while other workers run the rest of its streams)."""
    run = models.Run.objects.filter(pk=run_id).first()
    if run is None:
        return "deleted"
    if parallel.fans_out(run):
        return parallel.run_parallel(run).status
    return run_execute(run).status


@task()
def execute_run_part(run_id: int, part: int) -> str:
    """Part `part` of a run whose streams run side by side: batches of its pending streams."""
    run = models.Run.objects.filter(pk=run_id).first()
    if run is None:
        return "deleted"
    parallel.run_part(run, part)
    run.refresh_from_db()
    return run.status


@task()
def refresh_columns(connection: str, streams: list[str]) -> int:
    """Read again the columns of `streams` on `connection` that are older than the setting (a
    stream's panel asks for it when it shows old ones); how many were read."""
    return columns_refresh_stale(connection=connection, streams=streams)
