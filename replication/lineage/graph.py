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
    replications: Iterable[tuple[str, ReplicationConfig]],
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
