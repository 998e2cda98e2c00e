"""Executing a run: sling started on the run's replication, its log kept line by line
(secrets masked), each stream's outcome saved as sling reports it; and the reaper,
which fails the runs whose process died.

`run_execute` runs in the worker's task and in `run_replication`; `end_run`
records how any run ended and releases its stream locks.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from replication import sling
from studio import models

Status = models.Run.Status
StreamStatus = models.RunStream.Status

REAPED = "worker stopped while the run was running"
# The executing process writes `Run.heartbeat` this often; the reaper fails a
# run whose heartbeat is older than STALE_AFTER, whatever host it ran on.
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(minutes=2)
# How often a running run reads `cancel_requested` from the database.
CANCEL_POLL_SECONDS = 1.0
ERROR_LENGTH = 500


def run_execute(
    run: models.Run,
    *,
    on_line: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> models.Run:
    """Execute a queued run in this process, to its end; returns it refreshed.

    `on_line` gets each log line (secrets masked) as sling prints it. Setting
    `cancel` stops sling as `run_cancel` does. A run that is no longer queued
    (cancelled, or taken by another process) is returned untouched.
    """
    now = timezone.now()
    claimed = models.Run.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started=now,
        heartbeat=now,
        pid=os.getpid(),
        host=socket.gethostname(),
        log_path=f"runs/{run.pk}/sling.log",
    )
    run.refresh_from_db()
    if not claimed:
        return run
    try:
        _execute(run, on_line or (lambda line: None), cancel)
    except sling.RunError as exc:
        end_run(run, Status.FAILED, error=str(exc))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            status, error = Status.CANCELLED, "interrupted"
        elif isinstance(exc, SystemExit):
            status, error = Status.FAILED, REAPED
        else:
            status, error = Status.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        # Record what we can; if the database is gone too, the reaper will.
        with contextlib.suppress(Exception):
            error = sling.mask(error, _secrets())
        with contextlib.suppress(Exception):
            end_run(run, status, error=error)
        raise
    run.refresh_from_db()
    return run


def _execute(run: models.Run, on_line: Callable[[str], None], cancel: threading.Event | None) -> None:
    if run.replication is None:
        raise sling.RunError(f"replication `{run.replication_name}` was deleted")
    config = run.replication.as_config()
    binary = sling.find_binary(settings.SLING_BINARY or None)
    connections = list(models.Connection.objects.all())
    secrets = _secrets(connections)
    env = sling.environment({c.name: c.sling_env() for c in connections}, home=settings.SLING_HOME_DIR)
    workdir = settings.DATA_DIR / "runs" / str(run.pk)
    prepared = sling.prepare(
        config, binary=binary, workdir=workdir, streams=run.streams or None, mode=run.mode or None
    )
    progress = _Progress(run)
    assert run.log_file is not None
    with run.log_file.open("a", encoding="utf-8", buffering=1) as log:  # line-buffered: tails see each line

        def line(text: str) -> None:
            log.write(text + "\n")
            on_line(text)

        line("$ " + shlex.join(prepared.argv))
        result = sling.execute(
            prepared,
            env=env,
            cwd=settings.BASE_DIR,
            secrets=secrets,
            on_line=line,
            on_progress=progress,
            should_cancel=_Watch(run, cancel),
            on_start=lambda pid: models.Run.objects.filter(pk=run.pk).update(sling_pid=pid),
        )
        error = sling.mask(result.error, secrets)
        line(
            f"--- run {result.status} (sling exit code {result.exit_code}){': ' + error if error else ''} ---"
        )
    end_run(
        run, result.status, error=error, exit_code=result.exit_code, results=result.streams, progress=progress
    )


def _secrets(connections: Iterable[models.Connection] | None = None) -> list[str]:
    if connections is None:
        connections = models.Connection.objects.all()
    return [value for c in connections for value in c.secret_values()]


class _Progress:
    """Saves the RunStream rows whose outcome changed since the last call."""

    def __init__(self, run: models.Run) -> None:
        self.run = run
        self.rows = {row.name: row for row in run.run_streams.all()}
        self.saved: dict[str, tuple[Any, ...]] = {}

    def __call__(self, results: list[sling.StreamResult]) -> None:
        for result in results:
            duration = None if result.duration is None else round(result.duration, 3)
            progress = asdict(result.progress) if result.progress else {}
            state = (result.status, result.rows, result.target or "", result.error, duration, progress)
            if self.saved.get(result.name) == state:
                continue
            self.saved[result.name] = state
            row = self.rows.get(result.name)
            if row is None:
                # A wildcard stream expands to streams the run did not list.
                row = models.RunStream.objects.create(run=self.run, position=len(self.rows), name=result.name)
                self.rows[result.name] = row
            if (row.status, row.rows, row.target, row.error, row.duration, row.progress) == state:
                continue
            row.status, row.rows, row.target, row.error, row.duration, row.progress = state
            row.save(update_fields=["status", "rows", "target", "error", "duration", "progress"])


class _Watch:
    """`should_cancel` for the runner: reads `cancel_requested` at most once a second and
    writes the heartbeat every few seconds (it is called at least twice a second)."""

    def __init__(self, run: models.Run, event: threading.Event | None) -> None:
        self.run_id, self.event = run.pk, event
        self.polled = self.beat = time.monotonic()

    def __call__(self) -> bool:
        if self.event is not None and self.event.is_set():
            return True
        now = time.monotonic()
        if now - self.polled < CANCEL_POLL_SECONDS:
            return False
        self.polled = now
        if now - self.beat >= HEARTBEAT_SECONDS:
            self.beat = now
            models.Run.objects.filter(pk=self.run_id).update(heartbeat=timezone.now())
        return models.Run.objects.filter(pk=self.run_id, cancel_requested=True).exists()


@transaction.atomic
def end_run(
    run: models.Run,
    status: str,
    *,
    error: str = "",
    exit_code: int | None = None,
    results: list[sling.StreamResult] | None = None,
    progress: _Progress | None = None,
) -> None:
    """Record how a run ended, settle its streams and release its locks."""
    if results is not None and progress is not None:
        progress(results)
    streams = models.RunStream.objects.filter(run=run)
    left = StreamStatus.CANCELLED if status == Status.CANCELLED else StreamStatus.FAILED
    streams.filter(status=StreamStatus.RUNNING).update(status=left)
    streams.filter(status=StreamStatus.PENDING).update(
        status=StreamStatus.CANCELLED if status == Status.CANCELLED else StreamStatus.SKIPPED
    )
    now = timezone.now()
    lines = error.strip().splitlines()
    models.Run.objects.filter(pk=run.pk).update(
        status=status,
        finished=now,
        heartbeat=now,
        error=lines[0][:ERROR_LENGTH] if lines else "",
        exit_code=exit_code,
    )
    models.StreamLock.objects.filter(run=run).delete()
    run.refresh_from_db()


# --- reap -----------------------------------------------------------------------------


def run_reap() -> list[models.Run]:
    """Fail the running runs whose process is gone, releasing their locks; returns them.

    Gone: on this host, its pid is not alive; on any host, no heartbeat for
    STALE_AFTER. A sling left behind by a killed process is stopped too.
    """
    host, stale = socket.gethostname(), timezone.now() - STALE_AFTER
    reaped = []
    for run in models.Run.objects.filter(status=Status.RUNNING):
        beat = run.heartbeat or run.started or run.created
        dead = run.host == host and run.pid is not None and not _alive(run.pid)
        if (dead or beat < stale) and _reap(run):
            reaped.append(run)
    return reaped


@transaction.atomic
def _reap(run: models.Run) -> bool:
    if not models.Run.objects.filter(pk=run.pk, status=Status.RUNNING).update(status=Status.FAILED):
        return False  # it ended meanwhile
    models.RunStream.objects.filter(run=run, status=StreamStatus.RUNNING).update(
        status=StreamStatus.FAILED, error=REAPED
    )
    end_run(run, Status.FAILED, error=REAPED, exit_code=run.exit_code)
    if run.host == socket.gethostname():
        _stop_orphan(run)
    if run.log_file is not None and run.log_file.parent.is_dir():
        with run.log_file.open("a", encoding="utf-8") as log:
            log.write(f"--- run failed: {REAPED} ---\n")
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        # A zombie has exited; only its parent has not collected it yet.
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    return True


def _stop_orphan(run: models.Run) -> None:
    """SIGTERM the sling a killed process left running, if that pid is still this run's sling."""
    if not run.sling_pid:
        return
    config = settings.DATA_DIR / "runs" / str(run.pk) / "replication.yaml"
    try:
        cmdline = Path(f"/proc/{run.sling_pid}/cmdline").read_bytes()
    except OSError:
        return  # gone (or no /proc here: leave it)
    if os.fsencode(str(config)) in cmdline.split(b"\0"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.sling_pid, signal.SIGTERM)
