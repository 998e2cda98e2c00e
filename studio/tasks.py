"""Background tasks, executed by `manage.py worker` (Django's tasks framework, database backend)."""

from __future__ import annotations

from django_tasks import task

from studio import models
from studio.services.columns import columns_refresh_stale
from studio.services.executor import run_execute


@task()
def execute_run(run_id: int) -> str:
    """Execute a queued run; returns the status it ended with."""
    run = models.Run.objects.filter(pk=run_id).first()
    if run is None:
        return "deleted"
    return run_execute(run).status


@task()
def refresh_columns(connection: str, streams: list[str]) -> int:
    """Read again the columns of `streams` on `connection` that are older than the setting (a
    stream's panel asks for it when it shows old ones); how many were read."""
    return columns_refresh_stale(connection=connection, streams=streams)
