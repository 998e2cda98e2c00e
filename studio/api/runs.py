"""Runs: start one (whole, some streams, a mode, a range) and get its id; the list with the
runs page's filters; one with its streams' rows and timing; its log from an offset; cancel;
run it, or only its failed streams, again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Schema, Status
from pydantic import Field

from studio import models
from studio.api.api import api
from studio.api.auth import RUN
from studio.api.http import PER_PAGE, paged
from studio.api.problems import RUN_REFUSED, problem
from studio.api.schemas import CHANGE_ERRORS, READ_ERRORS
from studio.selectors import runs as selectors
from studio.services import runs as service

TAGS = ["runs"]
Run = models.Run


class RunStreamOut(Schema):
    name: str
    status: str
    rows: int | None
    seconds: float | None
    target: str
    error: str
    expanded_from: str | None = Field(description="the wildcard stream sling expanded it from")
    progress: dict[str, Any] = Field(description="while it runs: rows, rows per second, elapsed")


class RunSummary(Schema):
    id: int
    replication: str
    streams: list[str] = Field(description="the streams chosen ([]: the whole replication)")
    mode: str
    range: str
    status: str
    trigger: str
    requested_by: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    seconds: float | None
    rows: int | None
    error: str


class RunOut(RunSummary):
    attempt: int
    retry_of: int | None
    schedule: int | None
    exit_code: int | None
    cancel_requested: bool
    stream_rows: list[RunStreamOut] = Field(description="each stream, wildcards followed by their matches")


class RunPage(Schema):
    count: int
    page: int
    pages: int
    items: list[RunSummary]


class RunStart(Schema):
    replication: str = Field(max_length=200)
    streams: list[str] = Field(default=[], description="stream names ([]: the whole replication)")
    mode: str = Field("", max_length=40, description="every chosen stream in this mode")
    range: str = Field(
        "", max_length=200, description='"start,end": what backfill mode loads (sling --range)'
    )


class LogOut(Schema):
    text: str
    offset: int = Field(description="the last chunk given: ask with ?offset= for what follows")
    more: bool = Field(description="the run is active or more text may follow")


class AgainIn(Schema):
    failed: bool = Field(False, description="only the streams that failed in it")


def _summary(run: models.Run) -> dict[str, Any]:
    return {
        "id": run.pk,
        "replication": run.replication_name,
        "streams": run.streams,
        "mode": run.mode,
        "range": run.range,
        "status": run.status,
        "trigger": run.trigger,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "created": run.created,
        "started": run.started,
        "finished": run.finished,
        "seconds": run.duration,
        "rows": getattr(run, "rows_total", None),
        "error": run.error,
    }


def _out(run: models.Run) -> dict[str, Any]:
    rows = selectors.run_stream_rows(run)
    streams = [
        {
            "name": r.name,
            "status": r.status,
            "rows": r.rows,
            "seconds": r.duration,
            "target": r.target,
            "error": r.error,
            "expanded_from": r.expanded_from or None,
            "progress": r.progress or {},
        }
        for r in rows
    ]
    return {
        **_summary(run),
        "rows": sum(counted)
        if (counted := [r.rows for r in rows if r.rows is not None and not r.expanded_from])
        else None,
        "attempt": run.attempt,
        "retry_of": run.retry_of_id,
        "schedule": run.schedule_id,
        "exit_code": run.exit_code,
        "cancel_requested": run.cancel_requested,
        "stream_rows": streams,
    }


def _started(request: HttpRequest, run: models.Run) -> Any:
    """201 with the queued run; a run refused before it started is recorded (failed) and
    answered 422 with why, and its id."""
    if run.status == Run.Status.FAILED:
        return problem(request, 422, f"Run #{run.pk} not started: {run.error}", type=RUN_REFUSED, run=run.pk)
    return Status(201, _out(run))


def _run(pk: int) -> models.Run:
    return get_object_or_404(selectors.runs_with_details(), pk=pk)


@api.post("/runs/", response={201: RunOut, **CHANGE_ERRORS}, tags=TAGS, auth=RUN)
def run_start(request: HttpRequest, body: RunStart) -> Any:
    """Queue a run for the workers: the whole replication, or its `streams`, in their mode or
    `mode`, over `range`. Poll GET /runs/{id}/ until `status` is succeeded, failed or cancelled."""
    replication = get_object_or_404(models.Replication, name=body.replication)
    run = service.run_queue(
        replication=replication,
        streams=body.streams,
        mode=body.mode,
        span=body.range.strip(),
        user=request.user,
    )
    return _started(request, run)


@api.get("/runs/", response={200: RunPage, **READ_ERRORS}, tags=TAGS)
def run_list(
    request: HttpRequest,
    replication: str = Query("", max_length=200),
    stream: str = "",
    status: str = "",
    trigger: str = "",
    page: int = Query(1, ge=1),
    per_page: int = Query(PER_PAGE, ge=1),
) -> Any:
    """Runs newest first, filtered as the runs page filters them."""
    runs = selectors.run_list(replication=replication, stream=stream, status=status, trigger=trigger)
    return paged(runs, page, per_page, _summary)


@api.get("/runs/{int:pk}/", response={200: RunOut, **READ_ERRORS}, tags=TAGS)
def run_read(request: HttpRequest, pk: int) -> Any:
    """The run's status, timing and each stream's rows, status and error (live while it runs)."""
    return _out(_run(pk))


@api.get("/runs/{int:pk}/log/", response={200: LogOut, **READ_ERRORS}, tags=TAGS)
def run_log(request: HttpRequest, pk: int, offset: int = Query(0, ge=0, le=2**31)) -> Any:
    """The log (secrets masked) after chunk `offset`: follow a run by asking again from the
    `offset` answered."""
    run = _run(pk)
    page = selectors.run_log(run=run, after=offset)
    return {"text": page.text, "offset": page.last, "more": run.is_active or bool(page.text)}


@api.post("/runs/{int:pk}/cancel/", response={200: RunOut, **CHANGE_ERRORS}, tags=TAGS, auth=RUN)
def run_cancel(request: HttpRequest, pk: int) -> Any:
    """Cancel a queued run now, or ask a running one to stop (sling is stopped within seconds)."""
    return _out(service.run_cancel(run=_run(pk)))


@api.post("/runs/{int:pk}/again/", response={201: RunOut, **CHANGE_ERRORS}, tags=TAGS, auth=RUN)
def run_again(request: HttpRequest, pk: int, body: AgainIn) -> Any:
    """A new run of the same streams, mode and range; `failed`: only the streams that failed."""
    return _started(request, service.run_again(run=_run(pk), user=request.user, failed_only=body.failed))
