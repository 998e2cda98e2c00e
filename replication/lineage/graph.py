"""The asset graph: source streams -> target assets -> downstream assets.

Nodes are named by their asset key's user string (`target/public/users`) and
carry the key as a tuple, so the graph lines up with dagster-sling's assets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from replication.config import ReplicationConfig, effective_config
from replication.context import Context
from replication.resolve import Names, resolve_object
from replication.translator import (
    AssetKey,
    DagsterSlingTranslator,
    TranslationError,
    key_to_string,
    stream_definitions,
)
from replication.util import paused_gc

SOURCE, TARGET, DOWNSTREAM = "source", "target", "downstream"
KIND_ORDER = {SOURCE: 0, TARGET: 1, DOWNSTREAM: 2}


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
    replications: Iterable[tuple[str, ReplicationConfig]],
    downstream: Iterable[Downstream] = (),
    *,
    translator: DagsterSlingTranslator | None = None,
    context: Context | None = None,
) -> nx.DiGraph:
    """The lineage of `replications` (name, config) and `downstream` assets.

    A key defined by a target asset is a target wherever else it appears (so
    one replication's target can be another's source); a dep that nothing
    defines becomes a source node. Streams dagster-sling would refuse are left out.

    A key that several assets define (two streams, or a stream and a downstream
    asset) is a conflict, which Dagster refuses: each of them stays a node of
    its own (`conflict_id`), with `conflict` naming the others, and whatever
    reads the key reads each of them. `conflicts(graph)` lists them.
    """
    with paused_gc():
        return _build_graph(
            replications, downstream, translator or DagsterSlingTranslator(), context or Context()
        )


def owner(attrs: Mapping[str, Any]) -> str:
    """Who defines an asset, in words: `replication demo (stream x)` or `downstream asset`."""
    if attrs.get("kind") == TARGET:
        return f"replication {attrs.get('replication')} (stream {attrs.get('stream')})"
    return "a downstream asset"


def conflict_id(key: str, attrs: Mapping[str, Any]) -> str:
    """The node id of one of several assets with the key `key`. Keys have no spaces, so
    these never meet a real key."""
    if attrs.get("kind") == TARGET:
        return f"{key} @ {attrs.get('replication')}: {attrs.get('stream')}"
    return f"{key} @ downstream"


def conflicts(graph: nx.DiGraph) -> dict[str, list[str]]:
    """Key -> the node ids of the assets that define it, for keys more than one asset defines."""
    return graph.graph.get("conflicts", {})


def conflict_owners(graph: nx.DiGraph) -> dict[str, list[str]]:
    """Key -> who defines it (`owner`), for the keys that several assets of `graph` define."""
    found: dict[str, list[str]] = {}
    for attrs in graph.nodes.values():
        if attrs.get("conflict"):
            found.setdefault(key_to_string(attrs["key"]), [owner(attrs), *attrs["conflict"]])
    return dict(sorted(found.items()))


def nodes_of(graph: nx.DiGraph, key: str) -> list[str]:
    """The node ids of key `key`: itself, or each of its conflicting assets."""
    if key in graph:
        return [key]
    return list(conflicts(graph).get(key, ()))


def _build_graph(
    replications: Iterable[tuple[str, ReplicationConfig]],
    downstream: Iterable[Downstream],
    translator: DagsterSlingTranslator,
    context: Context,
) -> nx.DiGraph:
    # Every asset that defines a key, in order: its attributes and the keys it reads.
    defined: dict[str, list[tuple[dict[str, Any], tuple[AssetKey, ...], dict[str, Any]]]] = {}
    for rep_name, rep in replications:
        defaults = rep.defaults if isinstance(rep.defaults, dict) else {}
        names = Names.of(rep, context)
        for definition in stream_definitions(rep):
            name = definition["name"]
            if not isinstance(name, str) or not isinstance(definition["config"], dict | None):
                continue
            try:
                spec = translator.get_asset_spec(definition)
            except TranslationError:
                continue
            effective = effective_config(defaults, rep.streams[name], context.sling)
            tags = effective.get("tags")
            attrs = {
                "key": spec.key,
                "kind": TARGET,
                "replication": rep_name,
                "stream": name,
                "connection": str(rep.target or ""),
                "object": resolve_object(name, effective, names),
                "mode": effective.get("mode") if isinstance(effective.get("mode"), str) else None,
                "group": spec.group_name,
                "description": spec.description,
                "tags": tuple(tags) if isinstance(tags, list) else (),
            }
            source = {"replication": rep_name, "stream": name, "connection": str(rep.source or "")}
            defined.setdefault(key_to_string(spec.key), []).append((attrs, tuple(spec.deps), source))
    for asset in downstream:
        attrs = {
            "key": asset.key,
            "kind": DOWNSTREAM,
            "group": asset.group,
            "description": asset.description,
            "tags": asset.tags,
        }
        defined.setdefault(key_to_string(asset.key), []).append((attrs, asset.deps, {"connection": None}))
    graph = nx.DiGraph()
    graph.graph["conflicts"] = {}
    ids: dict[str, list[str]] = {}
    for key, assets in defined.items():
        if len(assets) == 1:
            graph.add_node(key, **assets[0][0])
            ids[key] = [key]
            continue
        ids[key] = [conflict_id(key, attrs) for attrs, _, _ in assets]
        graph.graph["conflicts"][key] = ids[key]
        for node, (attrs, _, _) in zip(ids[key], assets, strict=True):
            others = [owner(other) for other, _, _ in assets if other is not attrs]
            graph.add_node(node, **attrs, conflict=tuple(others))
    for key, assets in defined.items():
        for node, (_, deps, source) in zip(ids[key], assets, strict=True):
            for dep in deps:
                dep_id = key_to_string(dep)
                if dep_id not in ids:
                    graph.add_node(dep_id, key=dep, kind=SOURCE, group=None, tags=(), **source)
                    ids[dep_id] = [dep_id]
                for reads in ids[dep_id]:
                    graph.add_edge(reads, node)
    return graph
