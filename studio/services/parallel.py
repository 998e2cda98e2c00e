"""A run's streams side by side, on every worker that shares the queue.

A queued run whose `parallel` is above 1 becomes that many tasks ("parts", fewer when it has
fewer streams). Each part takes a batch of the streams still pending (`replication.parallel.batch`)
and runs them in one sling process of its own (confined by the launcher, with the environment of
the run's connections only), then takes the next batch, until none is left. Taking a batch is one
transaction that counts the `RunSlot` rows of the run's connections against their limits (the
database decides, across workers and machines: PostgreSQL locks the connections' rows, SQLite
takes its write lock first), so a SQLite file never has two writers. A run that cannot take a
stream says why (`Run.waiting`). The last part to end ends the run: failed when a stream failed,
the others' rows kept, as sling keeps them.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from replication import sling
from replication.parallel import batch, default_limit, one_process_reason
from studio import models
from studio.launcher import Launcher
from studio.services.executor import (
    HEARTBEAT_SECONDS,
    LOG_CHUNK_BYTES,
    REAPED,
    _claim,
    _last_chunk,
    _Log,
    _Progress,
    _Watch,
    end_run,
    retrying,
    tolerant,
)
from studio.services.workers import SILENT_AFTER_SECONDS

Status = models.Run.Status
StreamStatus = models.RunStream.Status
# How often a part that waits for a connection asks again.
WAIT_SECONDS = 0.5


def fans_out(run: models.Run) -> bool:
    """Whether the queued `run` runs side by side; when its replication must stay one process
    (replication-level hooks, state across streams), its log says so and it does not."""
    if run.parallel <= 1 or run.replication is None or run.status != Status.QUEUED:
        return False
    if run.run_streams.count() <= 1:
        return False
    reason = one_process_reason(run.replication.as_config())
    if reason:
        text = f"--- one sling process for every stream: {reason} ---\n"
        models.RunLogChunk.objects.create(run=run, seq=_last_chunk(run) + 1, text=text)
        return False
    return True


def run_parallel(run: models.Run) -> models.Run:
    """Take the queued `run`, queue its other parts for any free worker, run part 1 here."""
    if not retrying(lambda: _claim(run)):
        return run  # cancelled, or taken by another worker
    # Its processes are its slots (the reaper reads those); the run lives while any part beats.
    models.Run.objects.filter(pk=run.pk).update(pid=None)
    retrying(run.refresh_from_db)
    from studio import tasks  # the tasks framework: only a worker runs this

    parts = min(run.parallel, run.run_streams.count())
    for part in range(2, parts + 1):
        tasks.execute_run_part.enqueue(run.pk, part)
    run_part(run, 1)
    run.refresh_from_db()
    return run


def run_part(run: models.Run, part: int) -> None:
    """Part `part` of the running `run`: batches of its pending streams until none is left."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{run.pk}.{part}"
    assert run.log_file is not None
    run.log_file.parent.mkdir(parents=True, exist_ok=True)
    with run.log_file.open("a", encoding="utf-8", buffering=1) as copy:
        log = _SharedLog(run, copy, label=f"[{part}] ")
        try:
            while True:
                taken = retrying(lambda: _take(run, holder))
                if taken is None:
                    break
                if isinstance(taken, str):
                    log.tick()
                    time.sleep(WAIT_SECONDS)
                    continue
                _run_batch(run, holder, part, taken, log)
        finally:
            retrying(log.flush)
            retrying(lambda: _finish(run, holder))


@transaction.atomic
def _take(run: models.Run, holder: str) -> list[str] | str | None:
    """The next batch of `run`'s pending streams, its slots taken; a `str` saying why it must wait;
    None when there is nothing (more) for this part to do."""
    locked = models.Run.objects.select_for_update().filter(pk=run.pk).first()
    if locked is None or locked.status != Status.RUNNING or locked.cancel_requested:
        return None
    streams = models.RunStream.objects.filter(run=run)
    pending = list(streams.filter(status=StreamStatus.PENDING, holder="").order_by("position"))
    if not pending:
        return None
    others = set(
        models.RunSlot.objects.filter(run=run).exclude(holder=holder).values_list("holder", flat=True)
    )
    if len(others) >= locked.parallel:
        return None  # the run's limit: the parts holding slots take the rest
    # Two streams writing one object (a table, a file path) never run side by side.
    busy = set(
        streams.exclude(holder__in=("", holder))
        .filter(status__in=(StreamStatus.PENDING, StreamStatus.RUNNING))
        .values_list("object", flat=True)
    )
    free = [s for s in pending if not s.object or s.object not in busy]
    if not free:
        return _wait(locked, f"waiting for `{pending[0].object}`: another stream of this run writes it")
    assert locked.replication is not None
    config = locked.replication.as_config()
    names = sorted({n.upper() for n in (config.source, config.target) if n})
    stored = {c.name: c for c in models.Connection.objects.select_for_update().filter(name__in=names)}
    processes = _processes(locked)
    for name in names:
        found = stored.get(name)
        limit = (found.max_streams or default_limit(found.type)) if found else default_limit("local")
        if limit is None:
            continue
        used = models.RunSlot.objects.filter(connection=name).exclude(holder=holder).count()
        if used >= limit:
            return _wait(locked, f"waiting for `{name}`: {used} of {limit} in use")
        processes = min(processes, limit)  # one writer at a time: one process takes them all
    chosen = free[: batch(len(pending), processes)]
    streams.filter(pk__in=[s.pk for s in chosen]).update(holder=holder)
    now = timezone.now()
    host, pid = socket.gethostname(), os.getpid()
    models.RunSlot.objects.bulk_create(
        models.RunSlot(run=run, holder=holder, connection=name, host=host, pid=pid, heartbeat=now)
        for name in names
    )
    if locked.waiting:
        models.Run.objects.filter(pk=run.pk).update(waiting="")
    return [s.name for s in chosen]


def _processes(run: models.Run) -> int:
    """How many processes can really run the run's streams at once: its limit, or fewer when
    fewer workers beat (one worker: one process takes them all, as `sling run -r` would)."""
    since = timezone.now() - timedelta(seconds=SILENT_AFTER_SECONDS)
    workers = models.WorkerBeat.objects.filter(last_seen__gte=since).count()
    return min(run.parallel, workers) if workers else run.parallel


def _wait(run: models.Run, why: str) -> str:
    if run.waiting != why:
        models.Run.objects.filter(pk=run.pk).update(waiting=why, heartbeat=timezone.now())
    elif run.heartbeat is None or (timezone.now() - run.heartbeat).total_seconds() >= HEARTBEAT_SECONDS:
        models.Run.objects.filter(pk=run.pk).update(heartbeat=timezone.now())
    return why


def _run_batch(run: models.Run, holder: str, part: int, names: list[str], log: _SharedLog) -> None:
    """`names` in one sling process; their outcomes recorded, the slots given back."""
    assert run.replication is not None
    config = run.replication.as_config()
    progress = _Progress(run)
    try:
        launch = Launcher.here().run(
            config.with_range(run.range) if run.range else config,
            streams=names,
            mode=run.mode or None,
            workdir=settings.DATA_DIR / "runs" / str(run.pk) / f"part-{part}",
        )
    except sling.RunError as exc:
        refused = str(exc)
        log(f"--- refused: {refused} ---")
        rows = models.RunStream.objects.filter(run=run, holder=holder, status=StreamStatus.PENDING)
        retrying(lambda: rows.update(status=StreamStatus.FAILED, error=refused[:2000]))
    else:
        watch = _SlotWatch(run, holder, log)
        log("$ " + shlex.join(launch.prepared.argv))
        result = launch.execute(
            on_line=log, on_progress=progress, should_cancel=watch, on_start=watch.started
        )
        retrying(lambda: progress._save(result.streams))
        log(f"--- {len(names)} stream(s) {result.status} (sling exit code {result.exit_code}) ---")
    retrying(log.flush)
    retrying(lambda: models.RunSlot.objects.filter(run=run, holder=holder).delete())


class _SharedLog(_Log):
    """The run's log written by several processes: each line labelled with its part, each chunk
    numbered after the last one written by any part (the run's row locked meanwhile)."""

    def __init__(self, run: models.Run, copy: Any, *, label: str) -> None:
        super().__init__(run, copy)
        self.label = label

    def __call__(self, text: str) -> None:
        super().__call__(self.label + text)

    @transaction.atomic
    def flush(self) -> None:
        if self.pending:
            models.Run.objects.select_for_update().filter(pk=self.run.pk).first()
            self.seq = _last_chunk(self.run)
            text = "\n".join(self.pending) + "\n"
            models.RunLogChunk.objects.bulk_create(
                models.RunLogChunk(run=self.run, seq=self.seq + n, text=text[at : at + LOG_CHUNK_BYTES])
                for n, at in enumerate(range(0, len(text), LOG_CHUNK_BYTES), 1)
            )
            self.pending, self.size = [], 0
        self.flushed = time.monotonic()


class _SlotWatch(_Watch):
    """`_Watch`, also keeping this part's slots alive (their heartbeat) for the reaper."""

    def __init__(self, run: models.Run, holder: str, log: _Log) -> None:
        super().__init__(run, None, log)
        self.holder = holder

    def started(self, pid: int) -> None:
        super().started(pid)
        slots = models.RunSlot.objects.filter(run_id=self.run_id, holder=self.holder)
        tolerant(lambda: slots.update(sling_pid=pid))

    def _poll(self) -> None:
        if time.monotonic() - self.beat >= HEARTBEAT_SECONDS:
            slots = models.RunSlot.objects.filter(run_id=self.run_id, holder=self.holder)
            slots.update(heartbeat=timezone.now())
        super()._poll()


@transaction.atomic
def _finish(run: models.Run, holder: str) -> None:
    """This part is done: when it was the last one, end the run as sling would have."""
    locked = models.Run.objects.select_for_update().filter(pk=run.pk).first()
    models.RunSlot.objects.filter(run=run, holder=holder).delete()
    if locked is None or locked.status != Status.RUNNING or models.RunSlot.objects.filter(run=run).exists():
        return
    streams = models.RunStream.objects.filter(run=run)
    if not locked.cancel_requested and streams.filter(status=StreamStatus.PENDING, holder="").exists():
        return  # a part between batches takes them
    failed = list(streams.filter(status=StreamStatus.FAILED, expanded_from="").values_list("name", flat=True))
    if locked.cancel_requested:
        status, error = Status.CANCELLED, "cancelled by request"
    elif failed:
        status, error = Status.FAILED, f"{len(failed)} stream(s) failed: " + ", ".join(failed[:5])
    else:
        status, error = Status.SUCCEEDED, ""
    line = f"--- run {status}{': ' + error if error else ''} ---\n"
    models.RunLogChunk.objects.create(run=run, seq=_last_chunk(run) + 1, text=line)
    models.Run.objects.filter(pk=run.pk).update(waiting="")
    end_run(locked, status, error=error, exit_code=1 if failed else 0)


def reap_parts() -> list[models.Run]:
    """Free the slots of parts whose process died (on this host: its pid is gone; anywhere: no
    heartbeat for a while): their running streams fail, the streams they had taken but not
    started go back to pending, and a new part takes them. Returns the runs it touched."""
    from studio.services.executor import STALE_AFTER, _alive

    host, stale = socket.gethostname(), timezone.now() - STALE_AFTER
    dead: dict[str, models.RunSlot] = {}
    for slot in models.RunSlot.objects.select_related("run"):
        if (slot.host == host and not _alive(slot.pid)) or slot.heartbeat < stale:
            dead.setdefault(slot.holder, slot)
    touched = []
    for holder, slot in dead.items():
        _reap_part(slot.run, holder)
        if slot.host == host:
            _stop_orphan(slot)
        touched.append(slot.run)
    return touched


def _stop_orphan(slot: models.RunSlot) -> None:
    """SIGTERM the sling a dead part left running, if that pid is still its sling."""
    if not slot.sling_pid:
        return
    part = slot.holder.rpartition(".")[2]
    config = settings.DATA_DIR / "runs" / str(slot.run_id) / f"part-{part}" / "replication.yaml"
    try:
        cmdline = Path(f"/proc/{slot.sling_pid}/cmdline").read_bytes()
    except OSError:
        return
    if os.fsencode(str(config)) in cmdline.split(b"\0"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(slot.sling_pid, signal.SIGTERM)


def _reap_part(run: models.Run, holder: str) -> None:
    with transaction.atomic():
        models.Run.objects.select_for_update().filter(pk=run.pk).first()
        streams = models.RunStream.objects.filter(run=run, holder=holder)
        streams.filter(status=StreamStatus.RUNNING).update(status=StreamStatus.FAILED, error=REAPED)
        streams.filter(status=StreamStatus.PENDING).update(holder="")
        models.RunSlot.objects.filter(run=run, holder=holder).delete()
        text = f"--- part {holder.rpartition('.')[2]} failed: {REAPED} ---\n"
        models.RunLogChunk.objects.create(run=run, seq=_last_chunk(run) + 1, text=text)
        others = models.RunSlot.objects.filter(run=run).exists()
        pending = models.RunStream.objects.filter(run=run, status=StreamStatus.PENDING, holder="").exists()
    if others:
        return
    if pending and run.status == Status.RUNNING and not run.cancel_requested:
        from studio import tasks

        tasks.execute_run_part.enqueue(run.pk, int(holder.rpartition(".")[2]))
    else:
        _finish(run, holder)
