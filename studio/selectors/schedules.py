"""Reads of schedules, run policies and alert channels: a replication's, all of them,
the next fire times of an expression, and a schedule's fires."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from replication import cron
from studio import models
from studio.errors import NotFound


def schedule_list(*, replication: str | None = None) -> QuerySet[models.Schedule]:
    schedules = models.Schedule.objects.select_related("replication").order_by("replication__name", "pk")
    return schedules.filter(replication__name=replication) if replication else schedules


def schedule_get(pk: int, *, replication: str | None = None) -> models.Schedule:
    try:
        return schedule_list(replication=replication).get(pk=pk)
    except models.Schedule.DoesNotExist:
        raise NotFound(f"no schedule #{pk}" + (f" of `{replication}`" if replication else "")) from None


def schedule_preview(
    expression: str, tz: str, *, now: datetime | None = None, count: int = 5
) -> dict[str, Any]:
    """The expression in words and its next `count` times in `tz`, or the error that says
    what is wrong with it: what the schedule form shows as you type."""
    try:
        expression = cron.check(expression)
        times = cron.next_times(expression, tz or "UTC", after=now or timezone.now(), count=count)
    except cron.CronError as exc:
        return {"error": str(exc)}
    return {"cron": expression, "words": cron.describe(expression), "times": times, "timezone": tz or "UTC"}


def schedule_words(schedule: models.Schedule) -> str:
    return cron.describe(schedule.cron)


def fires_of(schedules: list[models.Schedule], *, limit: int = 10) -> dict[int, list[models.ScheduleFire]]:
    """The latest fires of each schedule, newest first."""
    fires: dict[int, list[models.ScheduleFire]] = {s.pk: [] for s in schedules}
    for schedule in schedules:
        fires[schedule.pk] = list(schedule.fires.select_related("run")[:limit])
    return fires


def channel_list(*, replication: str | None = None, default: bool = False) -> QuerySet[models.AlertChannel]:
    """Alert channels: a replication's and those for every replication (`replication`), the
    default ones only (`default`), or all."""
    channels = models.AlertChannel.objects.select_related("replication").order_by("replication__name", "pk")
    if default:
        return channels.filter(replication__isnull=True)
    if replication:
        return channels.filter(Q(replication__name=replication) | Q(replication__isnull=True))
    return channels


def channel_get(pk: int) -> models.AlertChannel:
    try:
        return models.AlertChannel.objects.select_related("replication").get(pk=pk)
    except models.AlertChannel.DoesNotExist:
        raise NotFound(f"no alert channel #{pk}") from None
