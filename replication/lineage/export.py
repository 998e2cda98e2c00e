"""The graph as documents: the `lineage` command's JSON (dagster-sling keys as lists) and DOT."""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from replication.lineage.graph import DOWNSTREAM, KIND_ORDER, SOURCE, TARGET
from replication.util import paused_gc


def to_data(graph: nx.DiGraph, extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """`{"nodes": [{"key": [...], "kind": ...}], "edges": [[from_key, to_key]]}`, sorted; `extra`:
    node id -> more fields of it (its columns)."""
    nodes = sorted(graph.nodes(data=True), key=lambda item: (KIND_ORDER[item[1]["kind"]], item[0]))
    out_nodes = []
    for node_id, attrs in nodes:
        node = {"key": list(attrs["key"]), "kind": attrs["kind"]}
        for name, value in attrs.items():
            if name not in node and value not in (None, (), ""):
                node[name] = list(value) if isinstance(value, tuple) else value
        node.update((extra or {}).get(node_id, {}))
        out_nodes.append(node)
    # Assets that conflict share a key: their edges are listed once.
    keys = {(graph.nodes[a]["key"], graph.nodes[b]["key"]): None for a, b in sorted(graph.edges())}
    return {"nodes": out_nodes, "edges": [[list(a), list(b)] for a, b in keys]}


def to_json(graph: nx.DiGraph, extra: dict[str, dict[str, Any]] | None = None) -> str:
    # No indent: with one, json falls back to its pure-Python encoder (4x slower).
    with paused_gc():
        return json.dumps(to_data(graph, extra), ensure_ascii=False)


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
