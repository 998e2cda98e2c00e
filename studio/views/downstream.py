"""Downstream assets (dbt models, reports) added, edited and removed from the lineage page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from studio import forms, models
from studio.errors import Refused
from studio.roles import role_required
from studio.selectors.lineage import lineage_node
from studio.services import downstream as service
from studio.views.lineage import PANEL, Params

FORM = "studio/_lineage_downstream_form.html"
# The graph partial listens for this and fetches itself again.
CHANGED = "graphChanged"


def _form_response(
    request: HttpRequest, form: forms.DownstreamAssetForm, asset: models.DownstreamAsset | None
) -> HttpResponse:
    status = 422 if form.is_bound else 200
    context = {"form": form, "asset": asset}
    template = FORM if request.htmx else "studio/lineage_downstream.html"
    return render(request, template, context, status=status)


def _saved(request: HttpRequest, key: str) -> HttpResponse:
    if not request.htmx:
        return redirect(f"{reverse('lineage')}?{urlencode({'select': key})}")
    details = lineage_node(key=key)
    response = render(request, PANEL, {"node": details, "saved": True, "p": Params.of(request)})
    return trigger_client_event(response, CHANGED)


def _downstream_submit(
    request: HttpRequest, asset: models.DownstreamAsset | None
) -> tuple[forms.DownstreamAssetForm, str | None]:
    form = forms.DownstreamAssetForm(request.POST)
    if not form.is_valid():
        return form, None
    try:
        saved = service.downstream_save(**form.cleaned_data, instance=asset)
    except Refused as exc:
        for problem in exc.problems:
            form.add_error(problem.path[0] if problem.path else None, problem.message)
        return form, None
    return form, saved.key


@require_http_methods(["GET", "POST"])
@role_required("edit")
def downstream_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"deps": request.GET.get("dep", "")[:500]}
        return _form_response(request, forms.DownstreamAssetForm(initial=initial), None)
    form, key = _downstream_submit(request, None)
    return _saved(request, key) if key else _form_response(request, form, None)


@require_http_methods(["GET", "POST"])
@role_required("edit")
def downstream_edit(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_object_or_404(models.DownstreamAsset, pk=pk)
    if request.method == "GET":
        initial = {
            "key": asset.key,
            "deps": "\n".join(map(str, asset.deps)),
            "description": asset.description,
            "group": asset.group,
            "tags": asset.tags,
        }
        return _form_response(request, forms.DownstreamAssetForm(initial=initial), asset)
    form, key = _downstream_submit(request, asset)
    return _saved(request, key) if key else _form_response(request, form, asset)


@require_POST
@role_required("edit")
def downstream_delete(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_object_or_404(models.DownstreamAsset, pk=pk)
    service.downstream_delete(instance=asset)
    if not request.htmx:
        return redirect("lineage")
    response = render(request, PANEL, {"deleted": asset.key})
    return trigger_client_event(response, CHANGED)
