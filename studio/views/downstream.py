"""Downstream assets (dbt models, reports) added, edited and removed from the lineage page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from studio import models
from studio.errors import Conflict, Refused
from studio.forms.downstream import DownstreamAssetForm
from studio.roles import role_required
from studio.selectors.lineage import lineage_node
from studio.services import downstream as service
from studio.views.lineage import PANEL, Params
from studio.views.saving import base_state, conflict, edit_base, posted_version, refusal_into

FORM = "studio/_lineage_downstream_form.html"
# The graph partial listens for this and fetches itself again.
CHANGED = "graphChanged"


def _form_response(
    request: HttpRequest,
    form: DownstreamAssetForm,
    asset: models.DownstreamAsset | None,
    exc: Conflict | None = None,
) -> HttpResponse:
    version, base = edit_base(request, asset)
    context = {"form": form, "asset": asset, "version": version, "base": base}
    template = FORM if request.htmx else "studio/lineage_downstream.html"
    if exc is not None and asset is not None:
        return conflict(request, template, context, exc, reverse("lineage-downstream-edit", args=[asset.pk]))
    return render(request, template, context, status=422 if form.is_bound else 200)


def _saved(request: HttpRequest, key: str) -> HttpResponse:
    if not request.htmx:
        return redirect(f"{reverse('lineage')}?{urlencode({'select': key})}")
    details = lineage_node(key=key)
    response = render(request, PANEL, {"node": details, "saved": True, "p": Params.of(request)})
    return trigger_client_event(response, CHANGED)


def _downstream_submit(request: HttpRequest, asset: models.DownstreamAsset | None) -> HttpResponse:
    """Save the posted form (the edit of the version it names), then show the saved asset."""
    form = DownstreamAssetForm(request.POST)
    if not form.is_valid():
        return _form_response(request, form, asset)
    try:
        saved = service.downstream_save(
            **form.cleaned_data,
            instance=asset,
            base_version=posted_version(request) if asset is not None else None,
            base=base_state(request.POST.get("base", "")),
        )
    except Refused as exc:
        refusal_into(form, exc)
        return _form_response(request, form, asset)
    except Conflict as exc:
        return _form_response(request, form, asset, exc)
    return _saved(request, saved.key)


@require_http_methods(["GET", "POST"])
@role_required("edit")
def downstream_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"deps": request.GET.get("dep", "")[:500]}
        return _form_response(request, DownstreamAssetForm(initial=initial), None)
    return _downstream_submit(request, None)


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
        return _form_response(request, DownstreamAssetForm(initial=initial), asset)
    return _downstream_submit(request, asset)


@require_POST
@role_required("edit")
def downstream_delete(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_object_or_404(models.DownstreamAsset, pk=pk)
    service.downstream_delete(instance=asset)
    if not request.htmx:
        return redirect("lineage")
    response = render(request, PANEL, {"deleted": asset.key})
    return trigger_client_event(response, CHANGED)
