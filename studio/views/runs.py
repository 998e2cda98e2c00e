"""Runs in the browser: start (queue for the worker), watch, cancel, re-run, history."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from studio import models, validation
from studio.errors import Refused
from studio.roles import role_required
from studio.selectors import runs as selectors
from studio.selectors.columns import run_schema
from studio.selectors.monitoring import alerts_of_run, history
from studio.selectors.replications import replication_names
from studio.services import runs as service
from studio.views.errors import error_page
from studio.views.saving import small_int

RUN = "studio/run.html"


def _run(pk: int) -> models.Run:
    return get_object_or_404(selectors.runs_with_details(), pk=pk)


def _started(request: HttpRequest, run: models.Run) -> HttpResponse:
    """Go to the run's page; a refused run says why where the button was."""
    if run.status == models.Run.Status.FAILED:
        messages.error(request, f"Run #{run.pk} not started: {run.error}")
    url = reverse("run", args=[run.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@role_required("run")
def run_start(request: HttpRequest, name: str) -> HttpResponse:
    """Run the whole replication, or the streams ticked in the editor (`stream` ids), with a
    `mode` for all of them and sling's `range` when given ("Run with options")."""
    replication = get_object_or_404(models.Replication, name=name)
    posted = request.POST.getlist("streams")
    ids = [small_int(pk) for pk in posted]
    if None in ids:
        bad = next(pk for pk, i in zip(posted, ids, strict=True) if i is None)
        return error_page(request, 400, f"`{bad[:100]}` is not a stream id: tick the streams to run")
    names = selectors.stream_names(replication, ids) if ids else []
    if ids and not names:
        messages.error(request, "None of the ticked streams exist any more; reload the page.")
        return redirect("editor", name)
    run = service.run_queue(
        replication=replication,
        streams=names,
        mode=request.POST.get("mode", ""),
        span=request.POST.get("range", "").strip(),
        user=request.user,
    )
    return _started(request, run)


@require_POST
@role_required("run")
def stream_run(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    stream = get_object_or_404(models.Stream, replication__name=name, pk=pk)
    run = service.run_queue(replication=stream.replication, streams=[stream.name], user=request.user)
    return _started(request, run)


def _alerts(run: models.Run) -> dict[str, Any]:
    """The part under the run's head: its retry and its alerts."""
    alerts = list(alerts_of_run(run))
    retry = selectors.next_attempt(run) if run.status == models.Run.Status.FAILED else None
    # Still to come: the worker's pass queues a retry and records alerts after the run ends, then
    # sends them; a queued retry's page link follows it.
    open_ = (
        run.is_active
        or not run.followed_up
        or any(a.status == "pending" for a in alerts)
        or bool(retry and retry.is_active)
    )
    return {"run": run, "alerts": alerts, "retry": retry, "alerts_open": open_}


def _status(request: HttpRequest, run: models.Run) -> dict[str, Any]:
    """The run's head and streams (`#status`, the whole page's and the poll's: one context).
    `?show=failed`: only its failed streams. A refused run says whether running it again
    would be refused too, rather than offering a Run again that cannot start."""
    return {
        "run": run,
        "refusal": selectors.run_refusal(run) if run.refused else None,
        **selectors.run_streams_shown(run, failed_only=request.GET.get("show") == "failed"),
    }


@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The run, its streams (live while it runs), its alerts, and the end of its log."""
    run = _run(pk)
    log = selectors.run_log_tail(run=run)
    context = {**_alerts(run), **_status(request, run), "log": log, "offset": log.last}
    context["schema_policy"], context["schema_changes"] = run_schema(run, validation.context())
    return render(request, RUN, context)


@require_GET
def run_log_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole log (secrets masked when written), as a text file."""
    run = _run(pk)
    if not run.log_chunks.exists():
        raise Http404("this run has no log")
    response = StreamingHttpResponse(
        selectors.run_log_pieces(run=run), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="run-{pk}.log"'
    return response


@require_GET
def run_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The header and per-stream table; polled while the run is active."""
    run = _run(pk)
    response = render(request, f"{RUN}#status", _status(request, run))
    if run.is_active:
        return response
    stopped = HttpResponseStopPolling(response.content)
    return stopped


@require_GET
def run_alerts(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's alerts and how their delivery went; polled until they are settled (the
    answer then has no poller)."""
    return render(request, f"{RUN}#alerts", _alerts(_run(pk)))


@require_GET
def run_log(request: HttpRequest, pk: int) -> HttpResponse:
    """A page of the log after chunk `offset` (appended to the page), and the poller for the next."""
    run = _run(pk)
    offset = small_int(request.GET.get("offset", "0"))
    if offset is None:
        return error_page(request, 400, "`offset` is the number of the last log chunk shown: 0 or more")
    page = selectors.run_log(run=run, after=offset)
    context = {"run": run, "lines": page.text, "offset": page.last, "more": run.is_active or bool(page.text)}
    return render(request, f"{RUN}#log-poller", context)


@require_GET
def run_log_earlier(request: HttpRequest, pk: int) -> HttpResponse:
    """The page of the log before chunk `before` (put above the lines shown), and the button for
    the page before that."""
    run = _run(pk)
    before = small_int(request.GET.get("before", ""))
    if before is None:
        return error_page(request, 400, "`before` is the number of the first log chunk shown: 1 or more")
    log = selectors.run_log_tail(run=run, before=before)
    return render(request, f"{RUN}#log-earlier", {"run": run, "log": log, "prepend": True})


@require_POST
@role_required("run")
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = service.run_cancel(run=_run(pk))
    # While sling stops, the run's own status part says so (it is polled): a flash message
    # would stay on the page after the run ended.
    if run.status == models.Run.Status.CANCELLED:
        messages.success(request, f"Run #{run.pk} cancelled.")
    return redirect("run", run.pk)


@require_POST
@role_required("run")
def run_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Run it again: the same streams, or (`failed=1`) only those that failed in it."""
    old = _run(pk)
    try:
        run = service.run_again(run=old, user=request.user, failed_only=request.POST.get("failed") == "1")
    except Refused as exc:
        messages.error(request, exc.problems[0].message)
        return redirect("run", pk)
    return _started(request, run)


@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """Run history: all runs, or one replication's (`?replication=`), or one stream's (`&stream=`),
    of one status (`&status=`) or trigger (`&trigger=`): all in the address, to share it."""
    get = request.GET
    name, stream = get.get("replication", ""), get.get("stream", "")
    status, trigger = get.get("status", ""), get.get("trigger", "")
    try:
        runs = selectors.run_list(replication=name, stream=stream, status=status, trigger=trigger)
    except Refused as exc:
        return error_page(request, 400, exc.problems[0].message)
    page = Paginator(runs, 50).get_page(get.get("page"))
    filters = {"replication": name, "stream": stream, "status": status, "trigger": trigger}
    context = {
        "page": page,
        "replication_name": name,
        "stream": stream,
        "filters": filters,
        "filter_query": urlencode({k: v for k, v in filters.items() if v}),
        "replications": replication_names(),
        "statuses": models.Run.Status.values,
        "triggers": models.Run.Trigger.values,
    }
    if name and page.number == 1 and not (status or trigger):
        context["history"] = history(replication=name, stream=stream)
    return render(request, "studio/runs.html", context)
