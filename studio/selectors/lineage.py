"""Reads of the lineage: the joined asset graph (cached until its data changes), what
the page draws of it, one asset's panel, suggestions, paths and the exported document."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import networkx as nx
from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Max, Sum

from replication.config import effective_config
from replication.lineage import export
from replication.lineage.graph import (
    DOWNSTREAM,
    SOURCE,
    TARGET,
    Downstream,
    SelectionError,
    build_graph,
    parse_key,
)
from replication.lineage.join import join_replications
from replication.lineage.select import path_between, replication_part, subgraph
from replication.lineage.view import GROUPINGS, View, build_view, unit_members
from replication.util import paused_gc
from replication.yamlio import dump, emit_streams
from studio import configured, models, validation
from studio.errors import NotFound
from studio.selectors.columns import lineage_columns
from studio.selectors.connections import default_schemas
from studio.selectors.monitoring import stale_keys
from studio.selectors.runs import last_stream_runs, stream_runs

# At most this many `expand` ids are honoured per view (each is a group to open).
EXPAND_MAX = 50
# The Django cache that keeps built graphs (settings.CACHES), keyed by a generation of their data.
CACHE = "lineage"


def lineage_graph() -> nx.DiGraph:
    """The asset graph of every replication and the downstream assets, not yet joined."""
    replications = list(models.Replication.objects.all())
    # Plain tuples, not model instances: 10,000 streams load in a third of the time.
    streams: dict[int, dict[str, Any]] = {r.pk: {} for r in replications}
    rows = models.Stream.objects.order_by("replication", "position")
    with paused_gc():
        for replication_id, name, config in rows.values_list("replication_id", "name", "config"):
            streams[replication_id][name] = config
    downstream = [
        Downstream(
            key=parse_key(asset.key),
            deps=tuple(parse_key(dep) for dep in asset.deps),
            description=asset.description,
            group=asset.group or None,
            tags=tuple(asset.tags),
        )
        for asset in models.DownstreamAsset.objects.all()
    ]
    configs = [(r.name, r.as_config(streams[r.pk])) for r in replications]
    return build_graph(configs, downstream, translator=configured.translator(), context=validation.context())


def _generation() -> str:
    """Changes whenever anything the graph is built from changes (checked per request, a few
    ms), in any process and through any door (the admin too)."""
    parts = [
        models.Replication.objects.aggregate(n=Count("id"), v=Sum("version"), u=Max("updated")),
        models.Stream.objects.aggregate(n=Count("id"), m=Max("id")),
        models.Connection.objects.aggregate(n=Count("id"), u=Max("updated")),
        list(models.DownstreamAsset.objects.values_list("id", "key", "deps", "description", "group", "tags")),
        settings.SLING_STUDIO_TRANSLATOR,
    ]
    stamp = json.dumps(parts, default=str, sort_keys=True)
    return "graph:" + hashlib.sha256(stamp.encode()).hexdigest()


def lineage_joined(replication: str | None = None) -> nx.DiGraph:
    """The asset graph with replications joined where one reads the table another writes;
    with `replication`, that replication's part of it (`replication_part`: the assets of
    others it meets drawn as context). Built once per generation of the data and kept
    (read-only). Raises `NotFound` for an unknown replication."""
    generation = _generation()
    cache = caches[CACHE]
    graph = cache.get(generation)
    if graph is None:
        graph = lineage_graph()
        sources = dict(models.Replication.objects.values_list("name", "source"))
        join_replications(graph, sources, default_schemas())
        cache.set(generation, graph)
    if replication is None:
        return graph
    if not models.Replication.objects.filter(name=replication).exists():
        raise NotFound(f"no replication named `{replication}`")
    key = f"{generation}:" + hashlib.sha256(replication.encode()).hexdigest()
    part = cache.get(key)
    if part is None:
        part = replication_part(graph, replication)
        cache.set(key, part)
    return part


def lineage_selection(*, replication: str | None = None, selector: str | None = None) -> nx.DiGraph:
    """The joined graph of one replication (all when None), narrowed by a selector.
    Raises `NotFound` or `SelectionError`."""
    graph = lineage_joined(replication)
    return subgraph(graph, selector)


def lineage_document(
    *, replication: str | None = None, selector: str | None = None, fmt: str = "json", columns: bool = False
) -> str:
    """The graph as the `lineage` command prints it (JSON or DOT); the page's export is the same
    text. With `columns`, each target node of the JSON has its columns (`lineage_columns_of`)."""
    graph = lineage_selection(replication=replication, selector=selector)
    if fmt != "json":
        return export.to_dot(graph)
    return export.to_json(graph, extra=lineage_columns_of(graph) if columns else None) + "\n"


def lineage_view(graph: nx.DiGraph, *, group_by: str | None = None, expand: Iterable[str] = ()) -> View:
    """What the page draws of `graph`, with the last run status of the streams drawn."""
    expand = list(expand)[:EXPAND_MAX]
    view = build_view(graph, group_by=group_by, expand=expand)
    pairs = {}
    for data in view.nodes:
        attrs = graph.nodes[data["key"]] if "key" in data else {}
        if attrs.get("kind") == TARGET:
            pairs[attrs.get("replication"), attrs.get("stream")] = data
    for (rep, stream), status in lineage_stream_status(list(pairs)).items():
        pairs[rep, stream]["status"] = status
    for pair in stale_keys(list(pairs)):
        pairs[pair]["stale"] = True
    return view


def lineage_stream_status(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The last finished or running status of each (replication, stream), where runs are recorded."""
    return {pair: row.status for pair, row in last_stream_runs(pairs, settled=True).items()}


def lineage_suggest(q: str, *, replication: str | None = None, limit: int = 20) -> list[str]:
    """Asset keys containing `q` (case-insensitive), those starting with it first."""
    needle = q.strip().lower()
    if not needle:
        return []
    graph = lineage_joined(replication)
    hits = [node for node in graph if needle in node.lower()]
    hits.sort(key=lambda node: (not node.lower().startswith(needle), len(node), node))
    return hits[:limit]


def lineage_node(*, key: str, replication: str | None = None) -> dict[str, Any]:
    """What the side panel shows of one asset: its facts, neighbours and, for a target,
    the stream's effective config, YAML, last status and runs. Raises `NotFound`."""
    graph = lineage_joined(replication)
    if key not in graph:
        raise NotFound(f"no asset `{key}` in this graph")
    attrs = graph.nodes[key]
    node: dict[str, Any] = {"id": key, **attrs, "key_list": list(attrs["key"])}
    node["upstream"] = [(n, graph.nodes[n]["kind"]) for n in sorted(graph.predecessors(key))]
    node["downstream"] = [(n, graph.nodes[n]["kind"]) for n in sorted(graph.successors(key))]
    node["neighbour_lists"] = [("Reads", node["upstream"]), ("Read by", node["downstream"])]
    if attrs["kind"] == TARGET:
        row = (
            models.Stream.objects.filter(replication__name=attrs["replication"], name=attrs["stream"])
            .select_related("replication")
            .first()
        )
        if row is not None:
            effective = effective_config(row.replication.defaults, row.config, configured.rules())
            node.update(
                stream_pk=row.pk,
                effective_yaml=dump(effective) if effective else "",
                stream_yaml=emit_streams({row.name: row.config}),
                source_connection=row.replication.source,
                runs=stream_runs(attrs["replication"], attrs["stream"]),
            )
        pair = (attrs["replication"], attrs["stream"])
        node["last_status"] = next(iter(lineage_stream_status([pair]).values()), None)
        node["stale"] = pair in stale_keys([pair])
    elif attrs["kind"] == DOWNSTREAM:
        node["asset"] = models.DownstreamAsset.objects.filter(key=key).first()
    if attrs["kind"] in (TARGET, SOURCE) and attrs.get("replication"):
        node["columns"], node["columns_unknown"] = _stream_columns(attrs["replication"], attrs["stream"])
        if attrs["kind"] == SOURCE:
            # A source column leads to the target columns it lands as (excluded: to none).
            node["targets"] = [n for n in sorted(graph.successors(key)) if graph.nodes[n]["kind"] == TARGET]
    return node


def _stream_columns(replication: str, stream: str) -> tuple[list[dict[str, Any]], str]:
    """The column lineage of one stream (`lineage_columns`), its replication read with only it."""
    row = models.Stream.objects.filter(replication__name=replication, name=stream).select_related(
        "replication"
    )
    found = row.first()
    if found is None:
        return [], ""
    config = found.replication.as_config({found.name: found.config})
    return lineage_columns(config, validation.context(), found.name)


def lineage_columns_of(graph: nx.DiGraph) -> dict[str, dict[str, Any]]:
    """Target node -> its columns for the `lineage --columns` JSON: each with the source column
    it comes from and how, or, where the studio cannot know, why (`columns_unknown`)."""
    targets = [(n, a) for n, a in graph.nodes(data=True) if a["kind"] == TARGET and a.get("replication")]
    wanted: dict[str, set[str]] = {}
    for _, attrs in targets:
        wanted.setdefault(attrs["replication"], set()).add(attrs["stream"])
    context = validation.context()
    configs: dict[str, Any] = {}
    rows = models.Stream.objects.filter(replication__name__in=wanted).select_related("replication")
    for row in rows:
        if row.name in wanted[row.replication.name]:
            configs.setdefault(row.replication.name, (row.replication, {}))[1][row.name] = row.config
    found = {}
    for node, attrs in targets:
        if attrs["replication"] not in configs:
            continue
        replication, streams = configs[attrs["replication"]]
        columns, unknown = lineage_columns(replication.as_config(streams), context, attrs["stream"])
        found[node] = {"columns": columns} if not unknown else {"columns": None, "columns_unknown": unknown}
    return found


def lineage_unit(
    *, by: str, unit: str, replication: str | None = None, selector: str | None = None
) -> list[str]:
    """The assets a collapsed group node of the view stands for."""
    levels = by.split(",")
    if any(level not in (*GROUPINGS, "kind") for level in levels):
        raise SelectionError(f"cannot group by `{by}`")
    graph = lineage_selection(replication=replication, selector=selector)
    return unit_members(graph, levels, unit)


def lineage_folded_units(
    keys: Iterable[str],
    *,
    replication: str | None = None,
    selector: str | None = None,
    group_by: str | None = None,
    expand: Iterable[str] = (),
) -> list[str]:
    """The closed group nodes of the page's view (its selection, grouping and open groups) that
    `keys` are drawn in: a path through a folded view is highlighted on them."""
    graph = lineage_selection(replication=replication, selector=selector)
    folded = build_view(graph, group_by=group_by, expand=list(expand)[:EXPAND_MAX]).folded_into
    return sorted({folded[key] for key in keys if key in folded})


def lineage_path(*, a: str, b: str, replication: str | None = None) -> tuple[list[str], set[str]]:
    """The shortest path between two assets and every asset on a path between them."""
    return path_between(lineage_joined(replication), a, b)
