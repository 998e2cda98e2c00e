"""Reads of schedules, run policies and alert channels: a replication's, all of them,
the next fire times of an expression, and a schedule's fires."""

from __future__ import annotations

from datetime import datetime, timedelta
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
    what is wrong with it (nothing for no expression): what the schedule form shows as you type."""
    if not expression.strip():
        return {}
    try:
        expression = cron.check(expression)
        times = cron.next_times(expression, tz or "UTC", after=now or timezone.now(), count=count)
    except cron.CronError as exc:
        return {"error": str(exc)}
    return {"cron": expression, "words": cron.describe(expression), "times": times, "timezone": tz or "UTC"}


def policy_of(replication: models.Replication) -> models.RunPolicy:
    """The replication's policy (the defaults, version 0, until someone saves it)."""
    policy = models.RunPolicy.objects.filter(replication=replication).first()
    return policy or models.RunPolicy(replication=replication, version=0)


def automation(replication: models.Replication, *, now: datetime | None = None) -> dict[str, Any]:
    """What the replication's "Schedules & alerts" page shows: each schedule in words with
    its next fire times and last fires, the latest fires, the run policy and the channels."""
    now = now or timezone.now()
    schedules = list(schedule_list(replication=replication.name))
    for schedule in schedules:
        schedule.words = cron.describe(schedule.cron)
        after = max(now, schedule.next_fire - timedelta(seconds=1)) if schedule.next_fire else now
        schedule.upcoming = (
            cron.next_times(schedule.cron, schedule.timezone, after=after, count=3)
            if schedule.enabled
            else []
        )
        schedule.last_fires = list(schedule.fires.select_related("run")[:12])
    fires = models.ScheduleFire.objects.filter(schedule__replication=replication).select_related(
        "run", "schedule"
    )
    return {
        "schedules": schedules,
        "fires": list(fires[:20]),
        "policy": policy_of(replication),
        "channels": list(channel_list(replication=replication.name)),
        "timezones": cron.zone_names(),
    }


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
