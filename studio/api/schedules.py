"""A replication's schedules, its retry and freshness policy, and the alert channels: what its
"Schedules & alerts" page keeps. Changing any needs the operator role (schedules start runs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Schema, Status
from pydantic import Field

from replication import cron
from studio import models
from studio.api.api import api
from studio.api.auth import RUN
from studio.api.http import edited_version, with_etag
from studio.api.schemas import CHANGE_ERRORS, READ_ERRORS, VERSIONED_ERRORS
from studio.selectors import schedules as selectors
from studio.selectors.replications import replication_get
from studio.services import alerts as alert_service
from studio.services import retries as retry_service
from studio.services import schedules as service

TAGS = ["schedules and alerts"]


class ScheduleOut(Schema):
    id: int
    cron: str
    words: str = Field(description="the expression in words")
    timezone: str
    streams: list[str] = Field(description="[]: the whole replication")
    mode: str
    range: str = Field(description="sling's --range for each run (start,end); empty: none")
    enabled: bool
    next_fire: datetime | None
    version: int


class ScheduleIn(Schema):
    cron: str = Field(max_length=200, description="5 fields: minute hour day-of-month month day-of-week")
    timezone: str = Field("UTC", max_length=64, description="an IANA time zone")
    streams: list[str] = Field(default=[], description="[]: the whole replication")
    mode: str = Field("", max_length=40)
    range: str = Field("", max_length=200, description="sling's --range for backfill mode: start,end")


class ScheduleChange(ScheduleIn):
    version: int | None = Field(None, ge=0, description='the version read (or send If-Match: "N")')


class PolicyOut(Schema):
    retries: int = Field(description="new attempts after a failed run")
    retry_backoff: int = Field(description="seconds before the first retry, doubled for each next one")
    freshness_minutes: int | None
    schema_changes: str = Field(
        description="warn, or refuse: a run whose streams would no longer send a column of their table, "
        "or change its type (by the columns last read)"
    )
    version: int = Field(description="0 until someone saves it")


class PolicyIn(Schema):
    version: int | None = Field(None, ge=0, description='the version read (or send If-Match: "N")')
    retries: int = Field(ge=0, le=2**31)
    retry_backoff: int = Field(ge=0, le=2**31)
    freshness_minutes: int | None = Field(None, ge=0, le=2**31)
    schema_changes: Literal["warn", "refuse"] | None = Field(None, description="left as it is when not sent")


class ChannelOut(Schema):
    id: int
    kind: str
    target: str = Field(description="an email address, or a webhook's host only (its path is often a token)")
    events: list[str]
    enabled: bool
    every_replication: bool


class ChannelIn(Schema):
    webhook: str = Field("", max_length=2000)
    email: str = Field("", max_length=254)
    events: list[str] = Field(description="failure, recovery, stale, or always", min_length=1)
    every_replication: bool = Field(False, description="for every replication, not only this one")


def _schedule_out(schedule: models.Schedule) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "cron": schedule.cron,
        "words": cron.describe(schedule.cron),
        "timezone": schedule.timezone,
        "streams": schedule.streams,
        "mode": schedule.mode,
        "range": schedule.range,
        "enabled": schedule.enabled,
        "next_fire": schedule.next_fire,
        "version": schedule.version,
    }


def _channel_out(channel: models.AlertChannel) -> dict[str, Any]:
    return {
        "id": channel.pk,
        "kind": channel.kind,
        "target": channel.label,
        "events": channel.events,
        "enabled": channel.enabled,
        "every_replication": channel.replication_id is None,
    }


@api.get("/replications/{name}/schedules/", response={200: list[ScheduleOut], **READ_ERRORS}, tags=TAGS)
def schedule_list(request: HttpRequest, name: str) -> Any:
    replication_get(name)
    return [_schedule_out(s) for s in selectors.schedule_list(replication=name)]


@api.post(
    "/replications/{name}/schedules/", response={201: ScheduleOut, **CHANGE_ERRORS}, tags=TAGS, auth=RUN
)
def schedule_create(request: HttpRequest, name: str, body: ScheduleIn, response: HttpResponse) -> Any:
    """A cron schedule of the replication (or of some streams), fired once per due time."""
    schedule = service.schedule_create(
        replication=replication_get(name),
        cron_expression=body.cron,
        tz=body.timezone,
        streams=body.streams,
        mode=body.mode,
        span=body.range,
        user=request.user,
    )
    with_etag(response, schedule.version)
    return Status(201, _schedule_out(schedule))


@api.get("/replications/{name}/schedules/{int:pk}/", response={200: ScheduleOut, **READ_ERRORS}, tags=TAGS)
def schedule_read(request: HttpRequest, name: str, pk: int, response: HttpResponse) -> Any:
    schedule = selectors.schedule_get(pk, replication=name)
    with_etag(response, schedule.version)
    return _schedule_out(schedule)


@api.put(
    "/replications/{name}/schedules/{int:pk}/",
    response={200: ScheduleOut, **VERSIONED_ERRORS},
    tags=TAGS,
    auth=RUN,
)
def schedule_change(
    request: HttpRequest, name: str, pk: int, body: ScheduleChange, response: HttpResponse
) -> Any:
    schedule = service.schedule_update(
        schedule=selectors.schedule_get(pk, replication=name),
        base_version=edited_version(request, body.version),
        cron_expression=body.cron,
        tz=body.timezone,
        streams=body.streams,
        mode=body.mode,
        span=body.range,
    )
    with_etag(response, schedule.version)
    return _schedule_out(schedule)


@api.post(
    "/replications/{name}/schedules/{int:pk}/pause/",
    response={200: ScheduleOut, **CHANGE_ERRORS},
    tags=TAGS,
    auth=RUN,
)
def schedule_pause(request: HttpRequest, name: str, pk: int) -> Any:
    return _schedule_out(service.schedule_pause(schedule=selectors.schedule_get(pk, replication=name)))


@api.post(
    "/replications/{name}/schedules/{int:pk}/resume/",
    response={200: ScheduleOut, **CHANGE_ERRORS},
    tags=TAGS,
    auth=RUN,
)
def schedule_resume(request: HttpRequest, name: str, pk: int) -> Any:
    return _schedule_out(service.schedule_resume(schedule=selectors.schedule_get(pk, replication=name)))


@api.delete(
    "/replications/{name}/schedules/{int:pk}/", response={204: None, **CHANGE_ERRORS}, tags=TAGS, auth=RUN
)
def schedule_delete(request: HttpRequest, name: str, pk: int) -> Any:
    service.schedule_delete(schedule=selectors.schedule_get(pk, replication=name))
    return Status(204, None)


@api.get("/replications/{name}/policy/", response={200: PolicyOut, **READ_ERRORS}, tags=TAGS)
def policy_read(request: HttpRequest, name: str, response: HttpResponse) -> Any:
    """How failed runs are retried and how fresh the streams should be."""
    policy = selectors.policy_of(replication_get(name))
    with_etag(response, policy.version)
    return policy


@api.put("/replications/{name}/policy/", response={200: PolicyOut, **VERSIONED_ERRORS}, tags=TAGS, auth=RUN)
def policy_change(request: HttpRequest, name: str, body: PolicyIn, response: HttpResponse) -> Any:
    policy = retry_service.policy_save(
        replication=replication_get(name),
        base_version=edited_version(request, body.version),
        retries=body.retries,
        retry_backoff=body.retry_backoff,
        freshness_minutes=body.freshness_minutes,
        schema_changes=body.schema_changes,
    )
    with_etag(response, policy.version)
    return policy


@api.get("/replications/{name}/alerts/", response={200: list[ChannelOut], **READ_ERRORS}, tags=TAGS)
def channel_list(request: HttpRequest, name: str) -> Any:
    """The replication's alert channels and those for every replication."""
    replication_get(name)
    return [_channel_out(c) for c in selectors.channel_list(replication=name)]


@api.post(
    "/replications/{name}/alerts/", response={201: list[ChannelOut], **CHANGE_ERRORS}, tags=TAGS, auth=RUN
)
def channel_create(request: HttpRequest, name: str, body: ChannelIn) -> Any:
    """A channel for the webhook and one for the email given, told of `events`."""
    replication = replication_get(name)
    added = alert_service.channel_create(
        replication=None if body.every_replication else replication,
        webhook=body.webhook,
        email=body.email,
        events=body.events,
    )
    return Status(201, [_channel_out(c) for c in added])


def _channel(name: str, pk: int) -> models.AlertChannel:
    replication_get(name)
    return get_object_or_404(selectors.channel_list(replication=name), pk=pk)


@api.post(
    "/replications/{name}/alerts/{int:pk}/enable/",
    response={200: ChannelOut, **CHANGE_ERRORS},
    tags=TAGS,
    auth=RUN,
)
def channel_enable(request: HttpRequest, name: str, pk: int) -> Any:
    return _channel_out(alert_service.channel_set_enabled(channel=_channel(name, pk), enabled=True))


@api.post(
    "/replications/{name}/alerts/{int:pk}/pause/",
    response={200: ChannelOut, **CHANGE_ERRORS},
    tags=TAGS,
    auth=RUN,
)
def channel_pause(request: HttpRequest, name: str, pk: int) -> Any:
    return _channel_out(alert_service.channel_set_enabled(channel=_channel(name, pk), enabled=False))


@api.delete(
    "/replications/{name}/alerts/{int:pk}/", response={204: None, **CHANGE_ERRORS}, tags=TAGS, auth=RUN
)
def channel_delete(request: HttpRequest, name: str, pk: int) -> Any:
    alert_service.channel_delete(channel=_channel(name, pk))
    return Status(204, None)
