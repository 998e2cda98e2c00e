"""The lineage page: the asset graph drawn by cytoscape.js, its side panel, search,
paths, exports and the downstream assets. Each view reads or calls a service and
renders the page or one partial for htmx; the graph work is in `replication.lineage`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from replication import lineage
from studio import forms, models, services
from studio.roles import role_required
from studio.selectors import stream_runs

PAGE = "studio/lineage.html"
PANEL = "studio/_lineage_node.html"
FORM = "studio/_lineage_downstream_form.html"
# The graph partial listens for this and fetches itself again.
CHANGED = "graphChanged"
EXPORTS = {"json": ("application/json", "json"), "dot": ("text/vnd.graphviz", "dot")}


@dataclass(frozen=True)
class Params:
    """The state of the page, all in its query string (so a view can be bookmarked)."""

    replication: str | None
    select: str
    group: str | None
    expand: list[str]

    @classmethod
    def of(cls, request: HttpRequest) -> Params:
        get = request.GET

        def text(name: str, limit: int) -> str:
            # NUL bytes reach no database (PostgreSQL refuses them in text).
            return get.get(name, "").replace("\x00", "").strip()[:limit]

        expand = [e.replace("\x00", "")[:500] for e in get.getlist("expand") if e.strip()]
        return cls(
            replication=text("replication", 200) or None,
            select=" ".join(text("select", 2000).split()),
            group=text("group", 40) or None,
            expand=expand[: services.LINEAGE_EXPAND_MAX],
        )


def _graph_context(params: Params) -> tuple[dict[str, Any], int]:
    # On an error the canvas is cleared, not left showing another selection.
    context: dict[str, Any] = {"p": params, "data": {"elements": [], "layout": "dagre"}}
    try:
        graph = services.lineage_selection(replication=params.replication, selector=params.select)
        view = services.lineage_view(graph, group_by=params.group, expand=params.expand)
    except services.NotFound as exc:
        return {**context, "error": str(exc)}, 404
    except lineage.SelectionError as exc:
        return {**context, "error": str(exc)}, 422
    data = {"elements": view.elements(), "layout": "preset" if view.positions else "dagre"}
    return {**context, "view": view, "data": data}, 200


@require_GET
@login_required
def graph(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    context, status = _graph_context(params)
    if request.htmx:
        return render(request, f"{PAGE}#graph", context, status=status)
    context.update(
        replications=models.Replication.objects.values_list("name", flat=True),
        groupings=lineage.GROUPINGS,
    )
    return render(request, PAGE, context, status=status)


@require_GET
@login_required
def node(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    try:
        details = services.lineage_node(key=request.GET.get("key", ""), replication=params.replication)
    except services.NotFound as exc:
        return render(request, PANEL, {"error": str(exc), "p": params}, status=404)
    template = PANEL if request.htmx else "studio/lineage_node.html"
    if details.get("stream_pk"):
        details["runs"] = stream_runs(details["replication"], details["stream"])
    return render(request, template, {"node": details, "p": params})


@require_GET
@login_required
def group(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    unit, by = request.GET.get("unit", "")[:500], request.GET.get("by", "connection")[:100]
    try:
        members = services.lineage_unit(
            by=by, unit=unit, replication=params.replication, selector=params.select
        )
    except (services.NotFound, lineage.SelectionError) as exc:
        return render(request, "studio/_lineage_group.html", {"error": str(exc)}, status=422)
    if not members:
        return render(
            request, "studio/_lineage_group.html", {"error": "no such group in this view"}, status=404
        )
    context = {"unit": unit, "name": lineage.unit_name(unit), "members": members, "p": params}
    context["opened"] = unit in params.expand
    return render(request, "studio/_lineage_group.html", context)


@require_GET
@login_required
def suggest(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    # Whichever box asked: the search, a path end, or the last term of the selector.
    field = next((name for name in ("q", "from", "to", "select") if name in request.GET), "q")
    text = request.GET.get(field, "")[:500]
    head, term = _last_term(text) if field == "select" else ("", text.strip())
    try:
        keys = services.lineage_suggest(term, replication=params.replication)
    except services.NotFound:
        keys = []
    return render(request, "studio/_lineage_suggest.html", {"options": [head + key for key in keys]})


def _last_term(selector: str) -> tuple[str, str]:
    """(everything before the key of the selector's last term, that key so far)."""
    before, _, last = selector.rpartition(" ")
    ups = len(last) - len(last.lstrip("0123456789+")) if "+" in last else 0
    prefix = (before + " " if before else "") + last[:ups]
    return prefix, last[ups:].rstrip("+0123456789") if last[ups:].endswith("+") else last[ups:]


@require_GET
@login_required
def path(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    a, b = request.GET.get("from", "").strip()[:500], request.GET.get("to", "").strip()[:500]
    if not a or not b:
        return render(request, "studio/_lineage_path.html", {"error": "name two assets"}, status=422)
    try:
        shortest, between = services.lineage_path(a=a, b=b, replication=params.replication)
    except (services.NotFound, lineage.SelectionError) as exc:
        response = render(request, "studio/_lineage_path.html", {"error": str(exc)}, status=422)
        return trigger_client_event(response, "lineagePath", {"keys": []})
    keys = sorted(between) if len(between) <= lineage.MAX_NODES else shortest
    context = {"shortest": shortest, "count": len(between), "select": " ".join(keys)}
    response = render(request, "studio/_lineage_path.html", context)
    return trigger_client_event(response, "lineagePath", {"keys": keys, "shortest": shortest})


@require_GET
@login_required
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in EXPORTS:
        raise Http404("export as json or dot")
    params = Params.of(request)
    content_type, ext = EXPORTS[fmt]
    try:
        text = services.lineage_document(replication=params.replication, selector=params.select, fmt=fmt)
    except services.NotFound as exc:
        return HttpResponse(f"error: {exc}\n", status=404, content_type="text/plain; charset=utf-8")
    except lineage.SelectionError as exc:
        return HttpResponse(f"error: {exc}\n", status=422, content_type="text/plain; charset=utf-8")
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{params.replication or "lineage"}.{ext}"'
    return response


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
    details = services.lineage_node(key=key)
    response = render(request, PANEL, {"node": details, "saved": True, "p": Params.of(request)})
    return trigger_client_event(response, CHANGED)


def _downstream_submit(
    request: HttpRequest, asset: models.DownstreamAsset | None
) -> tuple[forms.DownstreamAssetForm, str | None]:
    form = forms.DownstreamAssetForm(request.POST)
    if not form.is_valid():
        return form, None
    try:
        saved = services.downstream_save(**form.cleaned_data, instance=asset)
    except services.Refused as exc:
        for problem in exc.problems:
            form.add_error(problem.path[0] if problem.path else None, problem.message)
        return form, None
    return form, saved.key


@require_http_methods(["GET", "POST"])
@login_required
@role_required("edit")
def downstream_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"deps": request.GET.get("dep", "")[:500]}
        return _form_response(request, forms.DownstreamAssetForm(initial=initial), None)
    form, key = _downstream_submit(request, None)
    return _saved(request, key) if key else _form_response(request, form, None)


@require_http_methods(["GET", "POST"])
@login_required
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
@login_required
@role_required("edit")
def downstream_delete(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_object_or_404(models.DownstreamAsset, pk=pk)
    services.downstream_delete(instance=asset)
    if not request.htmx:
        return redirect("lineage")
    response = render(request, PANEL, {"deleted": asset.key})
    return trigger_client_event(response, CHANGED)
