"""Upgrading sling, before doing it: what a newer release changes in every replication."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from replication.versions import Sling
from studio import configured
from studio.selectors.upgrade import newer_releases, studio_upgrade


@require_GET
def upgrade(request: HttpRequest) -> HttpResponse:
    releases = newer_releases()
    chosen = request.GET.get("to") or (releases[0] if releases else "")
    context = {"now": configured.rules().version, "releases": releases, "chosen": chosen}
    if chosen in releases:
        context["upgrades"] = studio_upgrade(Sling(chosen))
    elif chosen:
        context["unknown"] = chosen
    return render(request, "studio/upgrade.html", context)
