"""Workers saying they are alive: one row per worker process, its last beat."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.utils import timezone

from studio import models

# How often a worker beats, and after how long without a beat it counts as gone.
BEAT_SECONDS = 5.0
SILENT_AFTER_SECONDS = 30.0


def worker_beat(*, worker_id: str, started: datetime) -> None:
    models.WorkerBeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": started,
            "last_seen": timezone.now(),
        },
    )


def workers_forget(*, older_than_seconds: float = 86400.0) -> int:
    """Forget workers not heard from for a day (a restarted worker is a new row)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    deleted, _ = models.WorkerBeat.objects.filter(last_seen__lt=cutoff).delete()
    return deleted
