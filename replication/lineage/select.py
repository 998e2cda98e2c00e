"""Choosing assets of the graph: one replication's part of it, dbt/Dagster-style selectors,
and paths between two assets."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

import networkx as nx

from replication.lineage.graph import (
    DOWNSTREAM,
    SOURCE,
    TARGET,
    SelectionError,
    conflicts,
    nodes_of,
    parse_key,
)
from replication.translator import key_to_string

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
    return {node for node in nodes_of(graph, key) if node in graph}


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


def path_between(graph: nx.DiGraph, a: str, b: str) -> tuple[list[str], set[str]]:
    """The shortest path from `a` to `b` (or from `b` to `a`) and every node on any path
    between them. Raises `SelectionError` when a node is unknown or none leads to the other."""
    for node in (a, b):
        if node not in graph:
            raise SelectionError(f"`{node}` is not an asset of this graph")
    for start, end in ((a, b), (b, a)):
        if nx.has_path(graph, start, end):
            shortest = nx.shortest_path(graph, start, end)
            between = (nx.descendants(graph, start) & nx.ancestors(graph, end)) | {start, end}
            return shortest, between
    raise SelectionError(f"no path between `{a}` and `{b}`")


def replication_part(graph: nx.DiGraph, name: str) -> nx.DiGraph:
    """Replication `name`'s part of the joined graph, as a graph of its own.

    Its streams' assets and the sources they read; the assets of other
    replications it reads or that read it (joined), and those that conflict
    with its keys, marked `context`; and the downstream assets that read it,
    directly or through other downstream assets (no others).
    """
    mine = {n for n, a in graph.nodes(data=True) if a.get("kind") == TARGET and a.get("replication") == name}
    keep = set(mine)
    context = set()
    for node in mine:
        for up in graph.predecessors(node):
            (keep if graph.nodes[up].get("kind") == SOURCE else context).add(up)
        context.update(conflicts(graph).get(key_to_string(graph.nodes[node]["key"]), ()))
    frontier = list(mine)
    while frontier:
        node = frontier.pop()
        for down in graph.successors(node):
            kind = graph.nodes[down].get("kind")
            if kind == DOWNSTREAM and down not in keep:
                keep.add(down)
                frontier.append(down)
            elif kind == TARGET and down not in mine:
                context.add(down)
    part = graph.subgraph(keep | context).copy()
    for node in context - keep:
        part.nodes[node]["context"] = True
    part.graph["conflicts"] = {
        key: [n for n in ids if n in part]
        for key, ids in conflicts(graph).items()
        if any(n in part for n in ids)
    }
    return part
