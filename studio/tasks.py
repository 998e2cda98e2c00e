"""Background tasks, executed by `manage.py worker` (Django's tasks framework, database backend)."""

from __future__ import annotations

from django_tasks import task

from studio import models
from studio.services.executor import run_execute


@task()
def execute_run(run_id: int) -> str:
    """Execute a queued run; returns the status it ended with."""
    run = models.Run.objects.filter(pk=run_id).first()
    if run is None:
        return "deleted"
    return run_execute(run).status
