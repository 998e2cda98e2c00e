"""Schedules: a replication, or some of its streams, run on a cron clock.

`schedule_create`, `schedule_update`, `schedule_pause`, `schedule_resume` and
`schedule_delete` keep them; `fire_due`, called by every worker a few times a minute,
fires what is due:

- **Once per due time, across workers.** A schedule's `next_fire` is the due time
  it waits for. The worker whose UPDATE moves it on (naming the value it read and the
  schedule's version) is the one that fires, in the same transaction that records the
  fire and queues the run; any other worker's UPDATE then matches no row. A worker
  that dies before committing fires nothing and the time stays due; one that
  committed moved `next_fire` on for good, so a restart never fires it again. A row
  per (schedule, due time), unique, is the second lock.
- **No storm after downtime.** Of the times that came while no worker looked, the
  latest runs if it is at most `STUDIO_SCHEDULE_GRACE_MINUTES` old; the others are
  recorded as missed, in one row.
- **No pile-up.** A fire whose streams are still queued or running (a run locks its
  streams) is recorded as skipped, with the run that holds them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from replication import cron, sling
from replication.versions import MODES
from studio import models
from studio.errors import Refused
from studio.selectors.runs import range_problem
from studio.services import audit
from studio.services.runs import StreamBusy, run_queue
from studio.services.versions import versioned_update

Fire = models.ScheduleFire
log = logging.getLogger(__name__)


def _checked(
    replication: models.Replication, expression: str, tz: str, streams: Iterable[str], mode: str, span: str
) -> tuple[str, str, list[str], str, str]:
    try:
        expression = cron.check(expression)
    except cron.CronError as exc:
        raise Refused.field("cron", str(exc)) from None
    tz = (tz or "UTC").strip()
    try:
        cron.zone(tz)
    except cron.CronError as exc:
        raise Refused.field("timezone", str(exc)) from None
    names = list(dict.fromkeys(str(s) for s in streams if str(s).strip()))
    config = replication.as_config()
    try:
        chosen = sling.subset(config, names)
    except sling.RunError as exc:
        raise Refused.field("streams", str(exc)) from None
    for stream in chosen.streams if names else ():
        if chosen.effective(stream).get("disabled") is True:
            raise Refused.field("streams", f"stream `{stream}` is disabled; enable it to schedule it")
    mode = (mode or "").strip()
    if mode and mode not in MODES:
        raise Refused.field("mode", f"unknown mode `{mode}`; expected one of: {', '.join(MODES)}")
    span = (span or "").strip()
    if span and (problem := range_problem(span)):
        raise Refused.field("range", problem)
    return expression, tz, names, mode, span


@transaction.atomic
def schedule_create(
    *,
    replication: models.Replication,
    cron_expression: str,
    tz: str = "UTC",
    streams: Iterable[str] = (),
    mode: str = "",
    span: str = "",
    enabled: bool = True,
    user: Any = None,
    now: datetime | None = None,
) -> models.Schedule:
    """A schedule of `replication` (`span`: sling's `--range` for each run, "start,end");
    `Refused` (naming the field) on a bad expression, time zone, stream, mode or range. It
    first fires at the next due time after `now`."""
    expression, tz, names, mode, span = _checked(replication, cron_expression, tz, streams, mode, span)
    now = now or timezone.now()
    schedule = models.Schedule.objects.create(
        replication=replication,
        cron=expression,
        timezone=tz,
        streams=names,
        mode=mode,
        range=span,
        enabled=enabled,
        next_fire=cron.next_after(expression, tz, now) if enabled else None,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    _audit("created", schedule)
    return schedule


@transaction.atomic
def schedule_update(
    *,
    schedule: models.Schedule,
    base_version: int,
    cron_expression: str,
    tz: str,
    streams: Iterable[str],
    mode: str,
    span: str = "",
    now: datetime | None = None,
) -> models.Schedule:
    """Change a schedule edited from `base_version`; `Conflict` when someone changed it
    since, `Refused` on bad input. The next fire is computed anew from `now`."""
    expression, tz, names, mode, span = _checked(
        schedule.replication, cron_expression, tz, streams, mode, span
    )
    now = now or timezone.now()
    versioned_update(schedule, base_version, changed=_described, name=f"schedule #{schedule.pk}")
    fields = {"cron": expression, "timezone": tz, "streams": names, "mode": mode, "range": span}
    before = {name: getattr(schedule, name) for name in fields}
    models.Schedule.objects.filter(pk=schedule.pk).update(
        **fields, next_fire=cron.next_after(expression, tz, now) if schedule.enabled else None
    )
    schedule.refresh_from_db()
    _audit("changed", schedule, fields=audit.field_changes(before, fields))
    return schedule


def _audit(action: str, schedule: models.Schedule, **details: Any) -> None:
    """An entry for `schedule`, named by its replication (its page lists them so)."""
    audit.record(
        action,
        schedule,
        object_name=f"{schedule.replication.name} schedule #{schedule.pk}",
        summary=_described(schedule),
        details={"replication": schedule.replication.name, "version": schedule.version, **details},
    )


def _described(schedule: models.Schedule) -> str:
    """A schedule in a line: what someone else's save made of it."""
    return (
        f"{schedule.cron} ({schedule.timezone}), "
        + (", ".join(schedule.streams) or "all streams")
        + (f", mode {schedule.mode}" if schedule.mode else "")
        + (f", range {schedule.range}" if schedule.range else "")
        + ("" if schedule.enabled else ", paused")
    )


@transaction.atomic
def schedule_pause(*, schedule: models.Schedule) -> models.Schedule:
    """Stop firing; the times that pass while paused are not missed, just not due."""
    models.Schedule.objects.filter(pk=schedule.pk).update(
        enabled=False, next_fire=None, version=F("version") + 1
    )
    schedule.refresh_from_db()
    _audit("paused", schedule)
    return schedule


@transaction.atomic
def schedule_resume(*, schedule: models.Schedule, now: datetime | None = None) -> models.Schedule:
    """Fire again from the next due time after `now`."""
    resumed = 0
    if not schedule.enabled:
        next_fire = cron.next_after(schedule.cron, schedule.timezone, now or timezone.now())
        resumed = models.Schedule.objects.filter(pk=schedule.pk, enabled=False).update(
            enabled=True, next_fire=next_fire, version=F("version") + 1
        )
    schedule.refresh_from_db()
    if resumed:
        _audit("resumed", schedule)
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: models.Schedule) -> None:
    """Delete the schedule and its fires; its runs stay (without it)."""
    _audit("deleted", schedule)
    schedule.delete()


# --- firing -------------------------------------------------------------------------------


def fire_due(*, now: datetime | None = None) -> list[models.ScheduleFire]:
    """Fire every schedule due at `now` (the clock, unless given): what the workers call.
    Returns the fires this call recorded (missed, fired, skipped)."""
    now = now or timezone.now()
    grace = timedelta(minutes=settings.STUDIO_SCHEDULE_GRACE_MINUTES)
    due = models.Schedule.objects.filter(enabled=True, next_fire__lte=now).order_by("next_fire", "pk")
    fires: list[models.ScheduleFire] = []
    for pk, version, next_fire, expression, tz in due.values_list(
        "pk", "version", "next_fire", "cron", "timezone"
    ):
        try:
            plan = cron.plan(expression, tz, due=next_fire, now=now, grace=grace)
            fires += _fire(pk, version, next_fire, plan)
        except Exception:  # one broken schedule must not stop the others
            log.exception("schedule #%s could not fire", pk)
    return fires


@transaction.atomic
def _fire(pk: int, version: int, due: datetime, plan: cron.Plan) -> list[models.ScheduleFire]:
    claimed = models.Schedule.objects.filter(pk=pk, version=version, enabled=True, next_fire=due).update(
        next_fire=plan.next_fire
    )
    if not claimed:
        return []  # another worker fired it, or it was edited since it was read
    schedule = models.Schedule.objects.select_related("replication").get(pk=pk)
    fires = []
    if plan.missed is not None:
        fires.append(_missed(schedule, plan.missed))
    if plan.fire is not None:
        fires.append(_run(schedule, plan.fire))
    return [fire for fire in fires if fire is not None]


def _record(
    schedule: models.Schedule, due: datetime, status: str, **fields: Any
) -> models.ScheduleFire | None:
    """The row of this due time; None when there is one already (the clock went back)."""
    try:
        with transaction.atomic():
            return Fire.objects.create(schedule=schedule, due=due, status=status, **fields)
    except IntegrityError:
        return None


def _missed(schedule: models.Schedule, missed: cron.Missed) -> models.ScheduleFire | None:
    grace = f"{settings.STUDIO_SCHEDULE_GRACE_MINUTES:g} minutes"
    if missed.count == 1:
        reason = f"no worker fired it within {grace} of its time"
    else:
        many = f"at least {missed.count}" if missed.count >= cron.COUNT_MAX else str(missed.count)
        reason = (
            f"{many} due times from {missed.first:%Y-%m-%d %H:%M} to {missed.last:%Y-%m-%d %H:%M} UTC "
            f"passed with no worker to fire them; only one within {grace} runs"
        )
    return _record(
        schedule, missed.first, Fire.Status.MISSED, count=missed.count, last_due=missed.last, reason=reason
    )


def _run(schedule: models.Schedule, due: datetime) -> models.ScheduleFire | None:
    fire = _record(schedule, due, Fire.Status.FIRED)
    if fire is None:
        return None
    try:
        run = run_queue(
            replication=schedule.replication,
            streams=schedule.streams,
            mode=schedule.mode,
            span=schedule.range,
            trigger=models.Run.Trigger.SCHEDULE,
            schedule=schedule,
            refuse_busy=True,
        )
    except StreamBusy as exc:
        fire.status, fire.reason = Fire.Status.SKIPPED, f"{exc}: this time is skipped"
    else:
        fire.run, fire.reason = run, run.error
    fire.save(update_fields=["status", "run", "reason"])
    return fire
