"""The hand-off to Dagster: a replication's code location as a zip (no secrets in it,
so every signed-in user may download it, as they may its YAML)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from replication.dagster.location import KeyConflict, zip_bytes
from replication.problems import ERROR, Problem
from studio import models
from studio.services.dagster import dagster_location


@require_GET
def export(request: HttpRequest, name: str) -> HttpResponse:
    replication = get_object_or_404(models.Replication, name=name)
    try:
        files = dagster_location(names=[replication.name])
    except KeyConflict as exc:
        problems = [Problem((), None, ERROR, str(exc))]
        context = {"problems": problems, "replication": replication, "title": "Not exported"}
        return render(request, "studio/refused.html", context, status=422)
    folder = f"{replication.name}-dagster"
    response = HttpResponse(zip_bytes(files, folder), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, f"{folder}.zip")
    return response
