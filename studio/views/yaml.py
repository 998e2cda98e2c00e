"""A replication's YAML: download, live preview, and import over it (diff first, then confirm)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from studio.errors import Refused
from studio.forms.yaml import ImportForm
from studio.roles import role_required
from studio.selectors.editing import Editor
from studio.selectors.impact import change_impact
from studio.selectors.replications import replication_yaml
from studio.services import replications as service
from studio.views.saving import changed, posted_version, with_editor


@require_GET
@with_editor
def yaml_download(request: HttpRequest, editor: Editor) -> HttpResponse:
    name = editor.replication.name
    response = HttpResponse(replication_yaml(name=name), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
    return response


@require_GET
@with_editor
def yaml_preview(request: HttpRequest, editor: Editor) -> HttpResponse:
    return render(
        request, "studio/_yaml_preview.html", {"yaml": replication_yaml(name=editor.replication.name)}
    )


@require_http_methods(["GET", "POST"])
@role_required("edit")
@with_editor
def import_yaml(request: HttpRequest, editor: Editor) -> HttpResponse:
    replication = editor.replication
    context: dict[str, Any] = {"replication": replication, "form": ImportForm()}
    # A body over the studio's limit never gets here (ErrorPagesMiddleware says so).
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = context["form"] = ImportForm(data, files)
    if not form.is_valid():
        return render(request, "studio/import.html", context, status=422 if form.is_bound else 200)
    text = form.cleaned_data["text"]
    try:
        document, problems, diff = service.replication_import_preview(replication=replication, text=text)
    except Refused as exc:
        return render(request, "studio/import.html", {**context, "problems": exc.problems}, status=422)
    if request.POST.get("confirm") != "yes":
        impact = change_impact(editor.config, document.replication, editor.context)
        context.update(
            problems=problems, diff=diff, impact=impact, confirm=True, exact=ImportForm.carry(document.text)
        )
        return render(request, "studio/import.html", context)
    service.replication_commit(
        name=replication.name,
        config=document.replication,
        summary="imported YAML",
        text=document.text,
        user=request.user,
        base_version=posted_version(request),
    )
    messages.success(request, f"Replaced `{replication.name}` with the imported YAML.")
    return changed(redirect("editor", replication.name))
