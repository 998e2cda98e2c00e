"""A replication's "Schedules & alerts" page: its cron schedules (with the next fire times
and the expression in words as you type), the retry and freshness policy, and the alert
channels. Changing any of it needs the operator role: schedules start runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from studio import models
from studio.errors import Conflict, Refused
from studio.forms.schedules import ChannelForm, PolicyForm, ScheduleForm
from studio.roles import role_required
from studio.selectors import schedules as selectors
from studio.services import alerts as alert_service
from studio.services import retries as retry_service
from studio.services import schedules as service
from studio.views.saving import refusal_into

PAGE = "studio/schedules.html"


def _replication(name: str) -> models.Replication:
    return get_object_or_404(models.Replication, name=name)


def _schedule(name: str, pk: int) -> models.Schedule:
    return get_object_or_404(
        models.Schedule.objects.select_related("replication"), replication__name=name, pk=pk
    )


def _page(
    request: HttpRequest,
    replication: models.Replication,
    *,
    status: int = 200,
    editing: models.Schedule | None = None,
    schedule_form: ScheduleForm | None = None,
    policy_form: PolicyForm | None = None,
    channel_form: ChannelForm | None = None,
) -> HttpResponse:
    """The page, with the forms given (bound, with their errors) or fresh ones."""
    context = selectors.automation(replication)
    if schedule_form is None:
        schedule_form = ScheduleForm(initial=_initial(editing) if editing else None)
    context.update(
        replication=replication,
        editing=editing,
        schedule_form=schedule_form,
        policy_form=policy_form or PolicyForm(initial=_policy(context["policy"])),
        channel_form=channel_form or ChannelForm(),
        alert_links=settings.STUDIO_BASE_URL,
    )
    return render(request, PAGE, context, status=status)


def _initial(schedule: models.Schedule) -> dict[str, Any]:
    return {
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "streams": "\n".join(schedule.streams),
        "mode": schedule.mode,
        "range": schedule.range,
        "version": schedule.version,
    }


def _policy(policy: models.RunPolicy) -> dict[str, Any]:
    return {
        "retries": policy.retries,
        "retry_backoff": policy.retry_backoff,
        "freshness_minutes": policy.freshness_minutes,
        "schema_changes": policy.schema_changes,
        "version": policy.version,
    }


@require_GET
def schedules(request: HttpRequest, name: str) -> HttpResponse:
    """The page; `?edit=ID` puts that schedule in the form."""
    replication = _replication(name)
    edit = request.GET.get("edit", "")
    editing = _schedule(name, int(edit)) if edit.isdigit() else None
    return _page(request, replication, editing=editing)


@require_GET
def schedule_preview(request: HttpRequest, name: str) -> HttpResponse:
    """The expression in words and its next five times, as you type (unsaved)."""
    preview = selectors.schedule_preview(request.GET.get("cron", ""), request.GET.get("timezone", "UTC"))
    return render(request, f"{PAGE}#preview", {"preview": preview})


@require_POST
@role_required("run")
def schedule_save(request: HttpRequest, name: str, pk: int | None = None) -> HttpResponse:
    """Add a schedule, or (`pk`) change one as edited from the version the form names."""
    replication = _replication(name)
    editing = _schedule(name, pk) if pk is not None else None
    form = ScheduleForm(request.POST)
    if form.is_valid():
        fields = {
            "cron_expression": form.cleaned_data["cron"],
            "tz": form.cleaned_data["timezone"],
            "streams": form.stream_names(),
            "mode": form.cleaned_data["mode"],
            "span": form.cleaned_data["range"],
        }
        try:
            if editing is None:
                saved = service.schedule_create(replication=replication, user=request.user, **fields)
            else:
                saved = service.schedule_update(
                    schedule=editing, base_version=form.cleaned_data["version"] or 0, **fields
                )
        except (Refused, Conflict) as exc:
            refusal_into(form, exc)
        else:
            messages.success(request, f"Saved schedule #{saved.pk}.")
            return redirect("schedules", name)
    return _page(request, replication, status=422, editing=editing, schedule_form=form)


@require_POST
@role_required("run")
def schedule_state(request: HttpRequest, name: str, pk: int, action: str) -> HttpResponse:
    """Pause, resume or delete a schedule."""
    schedule = _schedule(name, pk)
    if action == "delete":
        service.schedule_delete(schedule=schedule)
        messages.success(request, f"Deleted schedule #{pk}.")
    elif action == "pause":
        service.schedule_pause(schedule=schedule)
        messages.success(request, f"Paused schedule #{pk}.")
    else:
        service.schedule_resume(schedule=schedule)
        messages.success(request, f"Schedule #{pk} fires again from {schedule.next_fire:%Y-%m-%d %H:%M} UTC.")
    return redirect("schedules", name)


@require_POST
@role_required("run")
def policy_save(request: HttpRequest, name: str) -> HttpResponse:
    replication = _replication(name)
    form = PolicyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            retry_service.policy_save(
                replication=replication,
                base_version=data["version"],
                retries=data["retries"],
                retry_backoff=data["retry_backoff"],
                freshness_minutes=data["freshness_minutes"],
                schema_changes=data["schema_changes"] or None,
            )
        except (Refused, Conflict) as exc:
            refusal_into(form, exc)
        else:
            messages.success(request, "Saved the retries and freshness.")
            return redirect("schedules", name)
    return _page(request, replication, status=422, policy_form=form)


@require_POST
@role_required("run")
def channel_add(request: HttpRequest, name: str) -> HttpResponse:
    replication = _replication(name)
    form = ChannelForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            added = alert_service.channel_create(
                replication=replication if data["scope"] == "replication" else None,
                webhook=data["webhook"],
                email=data["email"],
                events=data["events"],
                base_url=request.build_absolute_uri("/"),
            )
        except Refused as exc:
            refusal_into(form, exc)
        else:
            messages.success(request, "Added " + ", ".join(str(c) for c in added) + ".")
            return redirect("schedules", name)
    return _page(request, replication, status=422, channel_form=form)


@require_POST
@role_required("run")
def channel_state(request: HttpRequest, name: str, pk: int, action: str) -> HttpResponse:
    """Pause, enable or delete a channel (of this replication, or one for every replication)."""
    channel = get_object_or_404(
        models.AlertChannel.objects.filter(replication__name=name)
        | models.AlertChannel.objects.filter(replication=None),
        pk=pk,
    )
    if action == "delete":
        alert_service.channel_delete(channel=channel)
        messages.success(request, f"Deleted the alert channel {channel}.")
    else:
        alert_service.channel_set_enabled(channel=channel, enabled=action == "enable")
    return redirect("schedules", name)
