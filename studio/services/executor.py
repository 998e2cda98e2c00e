"""Executing a run: sling started on the run's replication, its log kept line by line
(secrets masked) in the database and a local copy, each stream's outcome saved as sling
reports it; and the reaper, which fails the runs whose process died.

`run_execute` runs in the worker's task and in `run_replication`; `end_run`
records how any run ended and releases its stream locks. A database that goes away
while a run executes does not stop it: sling goes on, what it reports waits, and
the outcome is recorded when the database is back (`retrying`, said once per outage).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from replication import sling
from studio import models
from studio.launcher import Launcher, stored_secrets

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
# The log goes to the database a chunk at a time: at most this old, or this big.
LOG_CHUNK_SECONDS = 1.0
LOG_CHUNK_BYTES = 64 * 1024
# While the database is away: the first wait before trying again, doubled up to the last.
BACKOFF_SECONDS = (0.5, 5.0)
# What a database that stopped, restarted or cannot be reached raises (not a query's mistake).
DATABASE_DOWN = (OperationalError, InterfaceError)

logger = logging.getLogger("studio.worker")
T = TypeVar("T")


class Outage:
    """The database being away: said once when it goes, once when it is back."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.lock = threading.Lock()

    def down(self, exc: BaseException) -> None:
        with self.lock:
            first, self.since = self.since is None, self.since or time.monotonic()
        if first:
            reason = (str(exc).strip().splitlines() or [""])[0][:200]
            logger.warning(
                "database unavailable (%s: %s); retrying until it is back", type(exc).__name__, reason
            )
        with contextlib.suppress(Exception):
            connection.close()  # this thread's next query connects again

    def check(self) -> None:
        """Ask the database; DATABASE_DOWN while it is away."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def up(self) -> None:
        """Called after work that may not have needed the database: it says so when it answers."""
        if self.since is None:
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DATABASE_DOWN:
            with contextlib.suppress(Exception):
                connection.close()
            return
        with self.lock:
            since, self.since = self.since, None
        if since is not None:
            logger.warning("database back after %.1f s", time.monotonic() - since)


OUTAGE = Outage()


def retrying(action: Callable[[], T]) -> T:
    """`action()`, tried again while the database is away, waiting longer each time."""
    wait, longest = BACKOFF_SECONDS
    while True:
        try:
            result = action()
        except DATABASE_DOWN as exc:
            OUTAGE.down(exc)
            time.sleep(wait)
            wait = min(wait * 2, longest)
            continue
        OUTAGE.up()
        return result


def tolerant(action: Callable[[], Any]) -> bool:
    """`action()` once; False when the database is away (noted; the caller tries again later)."""
    try:
        action()
    except DATABASE_DOWN as exc:
        OUTAGE.down(exc)
        return False
    OUTAGE.up()
    return True


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
    claimed = retrying(lambda: _claim(run))
    retrying(run.refresh_from_db)
    if not claimed:
        return run
    try:
        _execute(run, on_line or (lambda line: None), cancel)
    except sling.RunError as exc:
        refused = str(exc)
        retrying(lambda: end_run(run, Status.FAILED, error=refused))
    except DATABASE_DOWN as exc:
        # Before sling started (once it has, nothing it reports raises): failed, when we can say so.
        OUTAGE.down(exc)
        away = f"the database was unavailable: {type(exc).__name__}"
        retrying(lambda: end_run(run, Status.FAILED, error=away))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            status, error = Status.CANCELLED, "interrupted"
        elif isinstance(exc, SystemExit):
            status, error = Status.FAILED, REAPED
        else:
            status, error = Status.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        # Record what we can; if the database is gone too, the reaper will.
        with contextlib.suppress(Exception):
            error = sling.mask(error, stored_secrets())
        with contextlib.suppress(Exception):
            end_run(run, status, error=error)
        raise
    retrying(run.refresh_from_db)
    return run


def _claim(run: models.Run) -> int:
    now = timezone.now()
    return models.Run.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started=now,
        heartbeat=now,
        pid=os.getpid(),
        host=socket.gethostname(),
        log_path=f"runs/{run.pk}/sling.log",
    )


def _execute(run: models.Run, on_line: Callable[[str], None], cancel: threading.Event | None) -> None:
    if run.replication is None:
        raise sling.RunError(f"replication `{run.replication_name}` was deleted")
    config = run.replication.as_config()
    launch = Launcher.here().run(
        config.with_range(run.range) if run.range else config,
        streams=run.streams or None,
        mode=run.mode or None,
        workdir=settings.DATA_DIR / "runs" / str(run.pk),
    )
    progress = _Progress(run)
    assert run.log_file is not None
    run.log_file.parent.mkdir(parents=True, exist_ok=True)
    with run.log_file.open("a", encoding="utf-8", buffering=1) as copy:  # line-buffered: tails see each line
        log = _Log(run, copy)

        def line(text: str) -> None:
            log(text)
            on_line(text)

        watch = _Watch(run, cancel, log)
        line("$ " + shlex.join(launch.prepared.argv))
        result = launch.execute(
            on_line=line, on_progress=progress, should_cancel=watch, on_start=watch.started
        )
        error = sling.mask(result.error, launch.secrets)
        line(
            f"--- run {result.status} (sling exit code {result.exit_code}){': ' + error if error else ''} ---"
        )
        retrying(log.flush)
    retrying(
        lambda: end_run(
            run,
            result.status,
            error=error,
            exit_code=result.exit_code,
            results=result.streams,
            progress=progress,
        )
    )


class _Log:
    """The run's log: each line to the local copy at once, and to the database a chunk at a time
    (every LOG_CHUNK_SECONDS, or LOG_CHUNK_BYTES), kept while the database is away."""

    def __init__(self, run: models.Run, copy: Any) -> None:
        self.run, self.copy = run, copy
        self.pending: list[str] = []
        self.size = 0
        self.seq = retrying(lambda: _last_chunk(run))
        self.flushed = time.monotonic()

    def __call__(self, text: str) -> None:
        self.copy.write(text + "\n")
        self.pending.append(text)
        self.size += len(text) + 1
        self.tick()

    def tick(self) -> None:
        """Write the pending lines when they are due (also called while sling is quiet)."""
        if self.pending and (
            self.size >= LOG_CHUNK_BYTES or time.monotonic() - self.flushed >= LOG_CHUNK_SECONDS
        ):
            tolerant(self.flush)

    def flush(self) -> None:
        if self.pending:
            # No chunk is bigger than LOG_CHUNK_BYTES, a long line's included: the run page reads
            # the log a page of chunks at a time.
            text = "\n".join(self.pending) + "\n"
            pieces = range(0, len(text), LOG_CHUNK_BYTES)
            chunks = [
                models.RunLogChunk(run=self.run, seq=self.seq + n, text=text[at : at + LOG_CHUNK_BYTES])
                for n, at in enumerate(pieces, 1)
            ]
            # A retry of a chunk the database took before it went away is no second chunk.
            models.RunLogChunk.objects.bulk_create(chunks, ignore_conflicts=True)
            self.seq += len(chunks)
            self.pending, self.size = [], 0
        self.flushed = time.monotonic()


def _last_chunk(run: models.Run) -> int:
    return max(run.log_chunks.values_list("seq", flat=True), default=0)


class _Progress:
    """Saves the RunStream rows whose outcome changed since the last call; while the database is
    away it saves nothing and tries again at the next call (`end_run` makes the last one)."""

    def __init__(self, run: models.Run) -> None:
        self.run = run
        self.rows = retrying(lambda: {row.name: row for row in run.run_streams.all()})
        self.saved: dict[str, tuple[Any, ...]] = {}

    def __call__(self, results: list[sling.StreamResult]) -> None:
        tolerant(lambda: self._save(results))

    def _save(self, results: list[sling.StreamResult]) -> None:
        for result in results:
            duration = None if result.duration is None else round(result.duration, 3)
            progress = asdict(result.progress) if result.progress else {}
            state = (
                result.status,
                result.rows,
                result.target or "",
                result.error,
                duration,
                progress,
                _moment(result.started),
                _moment(result.ended),
            )
            if self.saved.get(result.name) == state:
                continue
            row = self.rows.get(result.name)
            if row is None:
                # A wildcard stream expands to streams the run did not list.
                row = models.RunStream.objects.create(
                    run=self.run,
                    position=len(self.rows),
                    name=result.name,
                    expanded_from=result.expanded_from or "",
                )
                self.rows[result.name] = row
            fields = ["status", "rows", "target", "error", "duration", "progress", "started_at", "ended_at"]
            if tuple(getattr(row, f) for f in fields) != state:
                for field, value in zip(fields, state, strict=True):
                    setattr(row, field, value)
                row.save(update_fields=fields)
            self.saved[result.name] = state


def _moment(seconds: float | None) -> datetime | None:
    """A time of sling's log (`time.time()` when the line was read) as the database keeps it."""
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


class _Watch:
    """`should_cancel` for the runner: reads `cancel_requested` at most once a second, writes the
    heartbeat (and sling's pid) every few seconds and the log's pending lines when due (it is
    called at least twice a second). While the database is away it only waits."""

    def __init__(self, run: models.Run, event: threading.Event | None, log: _Log) -> None:
        self.run_id, self.event, self.log = run.pk, event, log
        self.polled = self.beat = time.monotonic()
        self.sling_pid: int | None = None
        self.cancelled = False

    def started(self, pid: int) -> None:
        self.sling_pid = pid
        tolerant(lambda: models.Run.objects.filter(pk=self.run_id).update(sling_pid=pid))

    def __call__(self) -> bool:
        if self.event is not None and self.event.is_set():
            return True
        now = time.monotonic()
        if now - self.polled < CANCEL_POLL_SECONDS:
            return False
        self.polled = now
        self.log.tick()
        tolerant(self._poll)
        return self.cancelled

    def _poll(self) -> None:
        if time.monotonic() - self.beat >= HEARTBEAT_SECONDS:
            fields = {"heartbeat": timezone.now(), "sling_pid": self.sling_pid}
            models.Run.objects.filter(pk=self.run_id).update(**fields)
            self.beat = time.monotonic()
        self.cancelled = models.Run.objects.filter(pk=self.run_id, cancel_requested=True).exists()


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
    text = f"--- run failed: {REAPED} ---\n"
    models.RunLogChunk.objects.create(run=run, seq=_last_chunk(run) + 1, text=text)
    if run.log_file is not None and run.log_file.parent.is_dir():
        with run.log_file.open("a", encoding="utf-8") as log:
            log.write(text)
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
