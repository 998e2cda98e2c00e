"""Runs: a replication, or some of its streams, to be executed by the `sling` binary.

`run_create` checks and records a run and locks its streams; `run_enqueue`
hands it to the worker; `run_queue` does both (the browser's run buttons);
`run_cancel` asks it to stop. Executing is `studio.services.executor`'s job.

Each stream of a run is locked by a `StreamLock` row (unique per replication
and stream), inserted in the transaction that creates the run and deleted when
it ends, so a second run of the same stream is refused in any process.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from replication import sling
from studio import models, validation
from studio.errors import Refused
from studio.selectors.columns import breaking_changes, schema_policy, schema_refusal
from studio.selectors.runs import run_check, stream_objects
from studio.services import audit
from studio.services.executor import end_run, run_reap

Status = models.Run.Status
Trigger = models.Run.Trigger


class StreamBusy(sling.RunError):
    """A stream of the run is queued or running in another run."""


@transaction.atomic
def run_create(
    *,
    replication: models.Replication | str,
    streams: Iterable[str] = (),
    mode: str = "",
    span: str = "",
    user: Any = None,
    trigger: str = Trigger.MANUAL,
    schedule: models.Schedule | None = None,
    retry_of: models.Run | None = None,
    refuse_busy: bool = False,
    parallel: int = 1,
) -> models.Run:
    """Record a run of `replication` (its `streams`, or all of it) and lock those streams.

    Returns the run `queued`, or `failed` with a one-line `error` when it cannot
    start: unknown replication or stream, a disabled stream, an unknown mode, a `span`
    (`start,end`: sling's `--range`) that is not one, a connection or the sling binary
    missing, a stream already queued or running.
    With `refuse_busy`, that last one raises `StreamBusy` instead and records nothing.
    `parallel`: how many sling processes may run its streams at once (a worker's run).
    `trigger` says what started it: a person (`user`), a `schedule`, or a retry of `retry_of`.
    """
    chosen_names = list(dict.fromkeys(str(s) for s in streams))
    if isinstance(replication, str):
        name = replication
        found = models.Replication.objects.filter(name=name).first()
    else:
        name, found = replication.name, replication
    run = models.Run.objects.create(
        replication=found,
        replication_name=name,
        streams=chosen_names,
        mode=mode or "",
        range=span or "",
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        trigger=trigger,
        schedule=schedule,
        retry_of=retry_of,
        attempt=retry_of.attempt + 1 if retry_of is not None else 1,
        parallel=max(1, parallel),
    )
    try:
        if found is None:
            raise sling.RunError(f"no replication named `{name}`")
        config = found.as_config()
        chosen = run_check(config, chosen_names, mode, span)
        if schema_policy(found) == "refuse" and (changes := breaking_changes(chosen, validation.context())):
            raise sling.RunError(schema_refusal(changes))
        _lock(run, found, [str(s) for s in chosen.streams])
    except sling.RunError as exc:
        if refuse_busy and isinstance(exc, StreamBusy):
            raise
        end_run(run, Status.FAILED, error=str(exc))
        _record_start(run, "refused", str(exc))
        return run
    listed = [
        str(s)
        for s in chosen.streams
        # A whole run skips disabled streams, as sling does; chosen ones are never disabled.
        if chosen_names or chosen.effective(s).get("disabled") is not True
    ]
    objects = stream_objects(config, listed)
    models.RunStream.objects.bulk_create(
        models.RunStream(run=run, position=i, name=stream, object=objects[stream])
        for i, stream in enumerate(listed)
    )
    _record_start(
        run, "started", ", ".join(listed[:20]) + (f" and {len(listed) - 20} more" if len(listed) > 20 else "")
    )
    return run


def _record_start(run: models.Run, action: str, summary: str) -> None:
    details = {"trigger": run.trigger, "streams": run.streams, "mode": run.mode}
    if run.schedule_id:
        details["schedule"] = run.schedule_id
    if run.retry_of_id:
        details["retry of"] = run.retry_of_id
    audit.record(action, run, summary=summary, details=details)


def _lock(run: models.Run, replication: models.Replication, streams: list[str], *, reap: bool = True) -> None:
    locks = [models.StreamLock(replication=replication, stream=stream, run=run) for stream in streams]
    try:
        with transaction.atomic():
            models.StreamLock.objects.bulk_create(locks)
    except IntegrityError:
        if reap and run_reap():
            # A holder may have been a run whose process died (run_replication killed, no worker since).
            return _lock(run, replication, streams, reap=False)
        wanted = set(streams)
        held = models.StreamLock.objects.filter(replication=replication).exclude(run=run)
        for lock in held.select_related("run").order_by("run_id", "pk"):
            if lock.stream in wanted:
                raise StreamBusy(
                    f"stream `{lock.stream}` is already {lock.run.status} in run #{lock.run_id}"
                ) from None
        raise StreamBusy("a stream of this run is already queued or running") from None


def run_enqueue(*, run: models.Run, after: datetime | None = None) -> None:
    """Hand a queued run to the worker (`manage.py worker`), to start at once or `after` then.

    The task row is written in the caller's transaction, so a worker never sees
    a task whose run is not committed.
    """
    if run.status != Status.QUEUED:
        raise ValueError(f"run #{run.pk} is {run.status}, not queued")
    from studio import tasks  # the tasks framework: a run in the foreground starts without it

    task = tasks.execute_run if after is None else tasks.execute_run.using(run_after=after)
    task.enqueue(run.pk)


@transaction.atomic
def run_queue(
    *,
    replication: models.Replication | str,
    streams: Iterable[str] = (),
    mode: str = "",
    user: Any = None,
    after: datetime | None = None,
    **how: Any,
) -> models.Run:
    """`run_create` (`how`: its range, trigger and the rest), then `run_enqueue` when the run
    may start: what the browser's run buttons, the schedules and the retries do. A worker runs
    its streams side by side, `STUDIO_RUN_PARALLEL` processes at most (unless `how` says)."""
    how.setdefault("parallel", settings.STUDIO_RUN_PARALLEL)
    run = run_create(replication=replication, streams=streams, mode=mode, user=user, **how)
    if run.status == Status.QUEUED:
        run_enqueue(run=run, after=after)
        if after is not None:
            run.not_before = after
            run.save(update_fields=["not_before"])
    return run


@transaction.atomic
def run_cancel(*, run: models.Run) -> models.Run:
    """Cancel a queued run now, or ask a running one to stop (sling gets SIGTERM within a second)."""
    queued = models.Run.objects.filter(pk=run.pk, status=Status.QUEUED)
    if queued.update(cancel_requested=True):
        end_run(run, Status.CANCELLED, error="cancelled before it started")
        audit.record("cancelled", run, summary="before it started")
    elif models.Run.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True):
        audit.record("cancelled", run, summary="asked to stop while running")
    run.refresh_from_db()
    return run


def failed_streams(run: models.Run) -> list[str]:
    """The streams that failed in `run`, in its order (a wildcard whose match failed: whole)."""
    failed = run.run_streams.filter(status=models.RunStream.Status.FAILED, expanded_from="")
    return list(failed.order_by("position").values_list("name", flat=True))


def run_again(*, run: models.Run, user: Any = None, failed_only: bool = False) -> models.Run:
    """Queue `run` again: its streams, mode and range; with `failed_only`, only the streams that
    failed in it (a wildcard whose match failed runs whole again). `Refused` when it has none."""
    streams = run.streams
    if failed_only:
        streams = failed_streams(run)
        if not streams:
            raise Refused.field("failed", f"run #{run.pk} has no failed stream to run again")
    return run_queue(
        replication=run.replication or run.replication_name,
        streams=streams,
        mode=run.mode,
        span=run.range,
        user=user,
    )
