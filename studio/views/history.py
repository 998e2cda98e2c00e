"""A replication's history: every saved version, a diff of any two, and restoring one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from studio import models
from studio.roles import role_required
from studio.selectors.editing import Editor
from studio.selectors.impact import revision_impact
from studio.selectors.replications import revision_diff, revisions
from studio.services import replications as service
from studio.views.saving import changed, posted_version, small_int, with_editor


@require_GET
def history(request: HttpRequest, name: str) -> HttpResponse:
    replication = get_object_or_404(models.Replication, name=name)
    context: dict[str, Any] = {"replication": replication, "revisions": revisions(replication)}
    a, b = small_int(request.GET.get("a")), small_int(request.GET.get("b"))
    if a is not None and b is not None:
        context.update(
            compare=True,
            a=a,
            b=b,
            diff=revision_diff(replication, a, b),
            impact=revision_impact(replication, a, b),
        )
    return render(request, "studio/history.html", context)


@require_POST
@role_required("edit")
@with_editor
def revision_restore(request: HttpRequest, editor: Editor, version: int) -> HttpResponse:
    replication = editor.replication
    get_object_or_404(models.Revision, replication=replication, version=version)
    service.revision_restore(
        replication=replication, version=version, user=request.user, base_version=posted_version(request)
    )
    messages.success(request, f"Restored version {version} as a new version.")
    return changed(redirect("editor", replication.name))
