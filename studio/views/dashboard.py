"""The home page: what is failing now, the last 24 hours, what runs next, what is stale."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio import configured
from studio.selectors.monitoring import dashboard as board


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The whole page, or (htmx, every 30 s) its board."""
    template = "studio/dashboard.html#board" if request.htmx else "studio/dashboard.html"
    return render(request, template, {**board(), "sandbox_problem": configured.sandbox_problem()})
