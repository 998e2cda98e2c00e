"""Cross-replication lineage: where one replication reads the table another writes."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Mapping
from typing import Any

import networkx as nx

from replication.context import DEFAULT_SCHEMAS, default_schema  # noqa: F401 (part of this module's face)
from replication.lineage.graph import SOURCE, TARGET
from replication.resolve import is_file_stream, split_table_name, unresolved
from replication.util import paused_gc

_PLAIN_TABLE = re.compile(r"[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,2}\Z")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+]*)://(.*)$", re.S)


def table_identity(connection: Any, name: Any, schema: str | None = None) -> tuple[str, str] | None:
    """What a stream reads or an object names, comparable across replications:
    (CONNECTION, `schema.table`) with names lower-cased, quotes stripped and the
    connection's default `schema` filled in; (CONNECTION, `file:path`) for files,
    the path normalised but its case kept (file systems are case-sensitive).
    None when it cannot be known before a run (an unresolved `{variable}`).
    """
    if not isinstance(connection, str) or not isinstance(name, str) or not connection or not name.strip():
        return None
    name = name.strip()
    conn = connection.strip().upper()
    if _PLAIN_TABLE.match(name):  # the common case, without the slower checks below
        table_schema, _, table = name.rpartition(".")
        table_schema = table_schema.rpartition(".")[2] or schema or ""
        return conn, f"{table_schema.lower()}.{table.lower()}"
    if unresolved(name):
        return None
    if is_file_stream(name):
        return conn, "file:" + normalise_path(name)
    table_schema, table = split_table_name(name)
    if not table:
        return None
    table_schema = table_schema or schema or ""
    return conn, f"{table_schema.lower()}.{table.lower()}"


def normalise_path(name: str) -> str:
    match = _SCHEME.match(name.replace("\\", "/"))
    scheme, path = (match[1].lower(), match[2]) if match else ("file", name.replace("\\", "/"))
    path = posixpath.normpath(path) if path else path
    return path if scheme == "file" else f"{scheme}://{path}"


def join_replications(
    graph: nx.DiGraph,
    sources: Mapping[str, Any],
    schemas: Mapping[str, str | None] | None = None,
) -> list[tuple[str, str]]:
    """Join replications whose target table is another's source stream, in place.

    `sources` maps each replication name to its source connection; `schemas`
    maps connection names (upper case) to their default schema. When stream S
    of replication B reads, from connection C, the table that replication A
    writes to C, A's target asset gets an edge to B's target asset, and B's
    source node for S is merged into it: its edge to B's target goes, and the
    node goes too once nothing else reads it. Wildcard streams (`main.*`) join
    every table they match. Returns the edges added.
    """
    with paused_gc():
        return _join(graph, sources, schemas)


def _join(
    graph: nx.DiGraph, sources: Mapping[str, Any], schemas: Mapping[str, str | None] | None
) -> list[tuple[str, str]]:
    schemas = {str(k).upper(): v for k, v in (schemas or {}).items()}
    written: dict[tuple[str, str], list[str]] = {}
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") == TARGET:
            conn = attrs.get("connection")
            ident = table_identity(conn, attrs.get("object"), schemas.get(str(conn).upper()))
            if ident:
                written.setdefault(ident, []).append(node)
    if not written:
        return []
    by_connection: dict[str, list[tuple[str, str]]] = {}
    for ident in written:
        by_connection.setdefault(ident[0], []).append(ident)
    added: list[tuple[str, str]] = []
    for node, attrs in list(graph.nodes(data=True)):
        if attrs.get("kind") != TARGET or not isinstance(attrs.get("stream"), str):
            continue
        conn = sources.get(attrs.get("replication"))
        if not isinstance(conn, str) or conn.strip().upper() not in by_connection:
            continue
        stream = attrs["stream"]
        ident = table_identity(conn, stream.replace("*", "\x00"), schemas.get(str(conn).upper()))
        if ident is None:
            continue
        if "\x00" in ident[1]:
            pattern = ident[1].replace("\x00", "*")
            writers = [w for i in by_connection.get(ident[0], ()) if fnmatch.fnmatchcase(i[1], pattern)
                       for w in written[i]]  # fmt: skip
        else:
            writers = written.get(ident, [])
        writers = [w for w in writers if w != node]
        if not writers:
            continue
        for dep in [d for d in graph.predecessors(node) if graph.nodes[d].get("kind") == SOURCE]:
            graph.remove_edge(dep, node)
            if graph.out_degree(dep) == 0 and graph.in_degree(dep) == 0:
                graph.remove_node(dep)
        for writer in writers:
            if not graph.has_edge(writer, node):
                graph.add_edge(writer, node)
                added.append((writer, node))
    return added
