"""The asset graph: source streams -> target assets -> downstream assets.

Nodes are named by their asset key's user string (`target/public/users`) and
carry the key as a tuple, so the graph lines up with dagster-sling's assets.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from replication.model import Replication, effective_config
from replication.resolve import resolve_object
from replication.translator import (
    AssetKey,
    DagsterSlingTranslator,
    TranslationError,
    key_to_string,
    stream_definitions,
)
from replication.util import paused_gc

SOURCE, TARGET, DOWNSTREAM = "source", "target", "downstream"
_KIND_ORDER = {SOURCE: 0, TARGET: 1, DOWNSTREAM: 2}


class SelectionError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Downstream:
    """An asset that reads Sling's tables: a dbt model, a report, another job."""

    key: AssetKey
    deps: tuple[AssetKey, ...] = ()
    description: str = ""
    group: str | None = None
    tags: tuple[str, ...] = ()


def parse_key(text: str) -> AssetKey:
    """`a/b/c` -> ("a", "b", "c"); surrounding spaces and empty parts are dropped."""
    return tuple(part for part in (p.strip() for p in text.strip().split("/")) if part)


def build_graph(
    replications: Iterable[tuple[str, Replication]],
    downstream: Iterable[Downstream] = (),
    *,
    translator: DagsterSlingTranslator | None = None,
    target_schemas: Mapping[str, str] | None = None,
) -> nx.DiGraph:
    """The lineage of `replications` (name, config) and `downstream` assets.

    A key defined by a target asset is a target wherever else it appears (so
    one replication's target can be another's source); a dep that nothing
    defines becomes a source node. Streams dagster-sling would refuse are left out.
    """
    with paused_gc():
        return _build_graph(
            replications, downstream, translator or DagsterSlingTranslator(), target_schemas or {}
        )


def _build_graph(
    replications: Iterable[tuple[str, Replication]],
    downstream: Iterable[Downstream],
    translator: DagsterSlingTranslator,
    target_schemas: Mapping[str, str],
) -> nx.DiGraph:
    graph = nx.DiGraph()
    pending_sources: list[tuple[AssetKey, AssetKey, dict[str, Any]]] = []
    for rep_name, rep in replications:
        defaults = rep.defaults if isinstance(rep.defaults, dict) else {}
        context = {
            "source_name": str(rep.source or ""),
            "target_name": str(rep.target or ""),
            "target_schema": target_schemas.get(str(rep.target or "").upper()),
            "env": rep.env if isinstance(rep.env, dict) else {},
        }
        for definition in stream_definitions(rep):
            name = definition["name"]
            if not isinstance(name, str) or not isinstance(definition["config"], dict | None):
                continue
            try:
                spec = translator.get_asset_spec(definition)
            except TranslationError:
                continue
            effective = effective_config(defaults, rep.streams[name])
            tags = effective.get("tags")
            graph.add_node(
                key_to_string(spec.key),
                key=spec.key,
                kind=TARGET,
                replication=rep_name,
                stream=name,
                connection=context["target_name"],
                object=resolve_object(name, effective, **context),
                mode=effective.get("mode") if isinstance(effective.get("mode"), str) else None,
                group=spec.group_name,
                description=spec.description,
                tags=tuple(tags) if isinstance(tags, list) else (),
            )
            source_attrs = {"replication": rep_name, "stream": name, "connection": context["source_name"]}
            pending_sources.extend((dep, spec.key, source_attrs) for dep in spec.deps)
    for asset in downstream:
        graph.add_node(
            key_to_string(asset.key),
            key=asset.key,
            kind=DOWNSTREAM,
            group=asset.group,
            description=asset.description,
            tags=asset.tags,
        )
    for dep, key, attrs in pending_sources:
        _add_dep(graph, dep, key, attrs)
    for asset in downstream:
        for dep in asset.deps:
            _add_dep(graph, dep, asset.key, {"connection": None})
    return graph


def _add_dep(graph: nx.DiGraph, dep: AssetKey, key: AssetKey, attrs: dict[str, Any]) -> None:
    dep_id = key_to_string(dep)
    if dep_id not in graph:
        graph.add_node(dep_id, key=dep, kind=SOURCE, group=None, tags=(), **attrs)
    graph.add_edge(dep_id, key_to_string(key))


_TOKEN = re.compile(r"^(?:(?P<up>\d*)\+)?(?P<base>.+?)(?:\+(?P<down>\d*))?$")


def select(graph: nx.DiGraph, selector: str) -> set[str]:
    """Node ids matched by a dbt/Dagster-style selector.

    Space-separated terms are unioned. A term is a key (`target/public/users`,
    globs allowed), `group:NAME`, `tag:NAME` or `kind:source|target|downstream`,
    with `+` before it for all upstream nodes, `N+` for N levels up, and `+` or
    `+N` after it for downstream. Raises `SelectionError` for a term that
    matches nothing.
    """
    chosen: set[str] = set()
    for term in selector.split():
        match = _TOKEN.match(term)
        if not match:
            raise SelectionError(f"cannot read selector term `{term}`")
        roots = _match_base(graph, match["base"])
        if not roots:
            raise SelectionError(f"`{term}` matches no asset")
        chosen |= roots
        if match["up"] is not None:
            chosen |= _walk(graph.pred, roots, _depth(match["up"]))
        if match["down"] is not None:
            chosen |= _walk(graph.succ, roots, _depth(match["down"]))
    return chosen


def _depth(text: str) -> int | None:
    return int(text) if text else None


def _match_base(graph: nx.DiGraph, base: str) -> set[str]:
    field, sep, value = base.partition(":")
    if sep and field in ("group", "tag", "kind"):
        if field == "group":
            return {n for n, g in graph.nodes(data="group") if g == value}
        if field == "kind":
            return {n for n, k in graph.nodes(data="kind") if k == value}
        return {n for n, tags in graph.nodes(data="tags") if tags and value in tags}
    key = key_to_string(parse_key(base))
    if any(ch in key for ch in "*?["):
        return set(fnmatch.filter(graph.nodes, key))
    return {key} if key in graph else set()


def _walk(adjacency: Mapping[str, Any], roots: set[str], depth: int | None) -> set[str]:
    seen = set(roots)
    frontier = set(roots)
    level = 0
    while frontier and (depth is None or level < depth):
        frontier = {n for node in frontier for n in adjacency[node] if n not in seen}
        seen |= frontier
        level += 1
    return seen


def subgraph(graph: nx.DiGraph, selector: str | None) -> nx.DiGraph:
    if not selector or not selector.strip():
        return graph
    return graph.subgraph(select(graph, selector))


def to_data(graph: nx.DiGraph) -> dict[str, Any]:
    """`{"nodes": [{"key": [...], "kind": ...}], "edges": [[from_key, to_key]]}`, sorted."""
    nodes = sorted(graph.nodes(data=True), key=lambda item: (_KIND_ORDER[item[1]["kind"]], item[0]))
    out_nodes = []
    for _, attrs in nodes:
        node = {"key": list(attrs["key"]), "kind": attrs["kind"]}
        for name, value in attrs.items():
            if name not in node and value not in (None, (), ""):
                node[name] = list(value) if isinstance(value, tuple) else value
        out_nodes.append(node)
    edges = sorted(graph.edges())
    return {
        "nodes": out_nodes,
        "edges": [[list(graph.nodes[a]["key"]), list(graph.nodes[b]["key"])] for a, b in edges],
    }


def to_json(graph: nx.DiGraph) -> str:
    # No indent: with one, json falls back to its pure-Python encoder (4x slower).
    with paused_gc():
        return json.dumps(to_data(graph), ensure_ascii=False)


def to_dot(graph: nx.DiGraph) -> str:
    shapes = {SOURCE: "ellipse", TARGET: "box", DOWNSTREAM: "component"}
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node_id, attrs in sorted(graph.nodes(data=True)):
        lines.append(f"  {_dot_id(node_id)} [shape={shapes[attrs['kind']]}, label={_dot_id(node_id)}];")
    for a, b in sorted(graph.edges()):
        lines.append(f"  {_dot_id(a)} -> {_dot_id(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
