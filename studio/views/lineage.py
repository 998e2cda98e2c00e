"""The lineage page: the asset graph drawn by cytoscape.js, its side panel, search,
paths and exports. Each view reads a selector and renders the page or one partial for
htmx; the graph work is in `replication.lineage`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from replication.lineage.graph import SelectionError
from replication.lineage.view import GROUPINGS, MAX_NODES, unit_name
from studio.errors import NotFound
from studio.selectors import lineage as selectors
from studio.selectors.replications import replication_names

PAGE = "studio/lineage.html"
PANEL = "studio/_lineage_node.html"
FIND_MAX = 50
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
            expand=expand[: selectors.EXPAND_MAX],
        )


def _graph_context(params: Params) -> tuple[dict[str, Any], int]:
    # On an error the canvas is cleared, not left showing another selection.
    context: dict[str, Any] = {"p": params, "data": {"elements": [], "layout": "dagre"}}
    try:
        graph = selectors.lineage_selection(replication=params.replication, selector=params.select)
        view = selectors.lineage_view(graph, group_by=params.group, expand=params.expand)
    except NotFound as exc:
        return {**context, "error": str(exc)}, 404
    except SelectionError as exc:
        return {**context, "error": str(exc)}, 422
    data = {"elements": view.elements(), "layout": "preset" if view.positions else "dagre"}
    return {**context, "view": view, "data": data}, 200


@require_GET
def graph(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    context, status = _graph_context(params)
    if request.htmx:
        return render(request, f"{PAGE}#graph", context, status=status)
    context.update(
        replications=replication_names(),
        groupings=GROUPINGS,
    )
    return render(request, PAGE, context, status=status)


@require_GET
def node(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    try:
        details = selectors.lineage_node(key=request.GET.get("key", ""), replication=params.replication)
    except NotFound as exc:
        return render(request, PANEL, {"error": str(exc), "p": params}, status=404)
    template = PANEL if request.htmx else "studio/lineage_node.html"
    # A column followed from a neighbour's panel: its row is marked.
    column = request.GET.get("column", "")[:500]
    return render(request, template, {"node": details, "p": params, "column": column})


@require_GET
def group(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    unit, by = request.GET.get("unit", "")[:500], request.GET.get("by", "connection")[:100]
    try:
        members = selectors.lineage_unit(
            by=by, unit=unit, replication=params.replication, selector=params.select
        )
    except (NotFound, SelectionError) as exc:
        return render(request, "studio/_lineage_group.html", {"error": str(exc)}, status=422)
    if not members:
        return render(
            request, "studio/_lineage_group.html", {"error": "no such group in this view"}, status=404
        )
    context = {"unit": unit, "name": unit_name(unit), "members": members, "p": params}
    context["opened"] = unit in params.expand
    return render(request, "studio/_lineage_group.html", context)


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    # Whichever box asked: the search, a path end, or the last term of the selector.
    field = next((name for name in ("q", "from", "to", "select") if name in request.GET), "q")
    text = request.GET.get(field, "")[:500]
    head, term = _last_term(text) if field == "select" else ("", text.strip())
    try:
        keys = selectors.lineage_suggest(term, replication=params.replication)
    except NotFound:
        keys = []
    return render(request, "studio/_lineage_suggest.html", {"options": [head + key for key in keys]})


@require_GET
def find(request: HttpRequest) -> HttpResponse:
    """The assets whose key contains the text of the Find box, as a list to pick from."""
    params = Params.of(request)
    text = request.GET.get("q", "").strip()[:500]
    try:
        keys = selectors.lineage_suggest(text, replication=params.replication, limit=FIND_MAX + 1)
    except NotFound as exc:
        return render(request, "studio/_lineage_find.html", {"error": str(exc)}, status=404)
    context = {"q": text, "keys": keys[:FIND_MAX], "more": len(keys) > FIND_MAX}
    return render(request, "studio/_lineage_find.html", context)


def _last_term(selector: str) -> tuple[str, str]:
    """(everything before the key of the selector's last term, that key so far)."""
    before, _, last = selector.rpartition(" ")
    ups = len(last) - len(last.lstrip("0123456789+")) if "+" in last else 0
    prefix = (before + " " if before else "") + last[:ups]
    return prefix, last[ups:].rstrip("+0123456789") if last[ups:].endswith("+") else last[ups:]


@require_GET
def path(request: HttpRequest) -> HttpResponse:
    params = Params.of(request)
    a, b = request.GET.get("from", "").strip()[:500], request.GET.get("to", "").strip()[:500]
    if not a or not b:
        return render(request, "studio/_lineage_path.html", {"error": "name two assets"}, status=422)
    try:
        shortest, between = selectors.lineage_path(a=a, b=b, replication=params.replication)
    except (NotFound, SelectionError) as exc:
        response = render(request, "studio/_lineage_path.html", {"error": str(exc)}, status=422)
        return trigger_client_event(response, "lineagePath", {"keys": []})
    keys = sorted(between) if len(between) <= MAX_NODES else shortest
    try:
        # In a folded view the path's assets are inside group nodes: those are highlighted.
        units = selectors.lineage_folded_units(
            keys,
            replication=params.replication,
            selector=params.select,
            group_by=params.group,
            expand=params.expand,
        )
    except (
        SelectionError
    ):  # the page's selection is wrong: it says so itself; the assets drawn still light up
        units = []
    context = {"shortest": shortest, "count": len(between), "select": " ".join(keys)}
    response = render(request, "studio/_lineage_path.html", context)
    return trigger_client_event(response, "lineagePath", {"keys": keys, "units": units, "shortest": shortest})


@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in EXPORTS:
        raise Http404("export as json or dot")
    params = Params.of(request)
    content_type, ext = EXPORTS[fmt]
    try:
        text = selectors.lineage_document(replication=params.replication, selector=params.select, fmt=fmt)
    except NotFound as exc:
        return HttpResponse(f"error: {exc}\n", status=404, content_type="text/plain; charset=utf-8")
    except SelectionError as exc:
        return HttpResponse(f"error: {exc}\n", status=422, content_type="text/plain; charset=utf-8")
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{params.replication or "lineage"}.{ext}"'
    return response
