"""The asset graph: source streams -> target assets -> downstream assets.

Nodes are named by their asset key's user string (`target/public/users`) and
carry the key as a tuple, so the graph lines up with dagster-sling's assets.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from replication.model import Replication, effective_config
from replication.resolve import is_file_stream, resolve_object, split_table_name, unresolved
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


# --- cross-replication lineage ----------------------------------------------------

# The schema a table name without one lands in, by connection type (when the
# connection sets no `schema`): what each database calls its default schema.
DEFAULT_SCHEMAS = {
    "postgres": "public",
    "redshift": "public",
    "snowflake": "public",
    "sqlite": "main",
    "d1": "main",
    "duckdb": "main",
    "motherduck": "main",
    "ducklake": "main",
    "sqlserver": "dbo",
    "azuresql": "dbo",
    "azuredwh": "dbo",
    "fabric": "dbo",
}
# Databases whose "schema" is the database itself.
_DATABASE_IS_SCHEMA = {"mysql", "mariadb", "clickhouse", "starrocks"}
_PLAIN_TABLE = re.compile(r"[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,2}\Z")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+]*)://(.*)$", re.S)


def default_schema(conn_type: str | None, params: Mapping[str, Any] | None = None) -> str | None:
    """The schema an unqualified table name means on a connection: its `schema`
    setting, else the database's convention (`public`, `main`, `dbo`, ...)."""
    params = params or {}
    for name in ("schema", "database") if conn_type in _DATABASE_IS_SCHEMA else ("schema",):
        if isinstance(params.get(name), str) and params[name].strip():
            return params[name].strip()
    return DEFAULT_SCHEMAS.get(str(conn_type or "").lower())


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
        return conn, "file:" + _normalise_path(name)
    table_schema, table = split_table_name(name)
    if not table:
        return None
    table_schema = table_schema or schema or ""
    return conn, f"{table_schema.lower()}.{table.lower()}"


def _normalise_path(name: str) -> str:
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


# --- paths ------------------------------------------------------------------------


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


# --- grouping, folding and layout of a view ------------------------------------------

GROUPINGS = ("schema", "connection", "replication")
MAX_NODES = 300
# Past this many nodes the server lays the view out; the browser only draws it.
SERVER_LAYOUT_ABOVE = 120
CHUNKS = 12
_CHAR_PX, _LINE_PX, _PAD_X, _PAD_Y = 6.7, 15.0, 22.0, 14.0
_LABEL_CHARS = 46


def node_schema(attrs: Mapping[str, Any]) -> str:
    """Where an asset lives, for grouping: `CONNECTION.schema`, a file folder, or a key prefix."""
    kind, conn = attrs.get("kind"), attrs.get("connection")
    name = attrs.get("object") if kind == TARGET else attrs.get("stream") if kind == SOURCE else None
    if isinstance(conn, str) and conn and isinstance(name, str) and name:
        if is_file_stream(name):
            folder = posixpath.dirname(_normalise_path(name).rstrip("/")) or "."
            return f"{conn.upper()} {folder}"
        table_schema, _ = split_table_name(name)
        return f"{conn.upper()}.{table_schema.lower()}" if table_schema else conn.upper()
    key = attrs.get("key") or ()
    prefix = "/".join(key[:-1]) if len(key) > 1 else ""
    if kind == DOWNSTREAM:
        return attrs.get("group") or prefix or "downstream"
    return prefix or "(no schema)"


def node_group(attrs: Mapping[str, Any], by: str) -> str:
    """The group an asset falls in when grouped `by` schema, connection, replication or kind."""
    kind = attrs.get("kind")
    if by == "schema":
        return node_schema(attrs)
    if by == "kind":
        return {SOURCE: "sources", TARGET: "targets", DOWNSTREAM: "downstream"}.get(kind, "other")
    if kind == DOWNSTREAM:
        return node_schema(attrs)
    value = attrs.get("connection" if by == "connection" else "replication")
    if by == "connection" and isinstance(value, str) and value:
        return value.upper()
    return value if isinstance(value, str) and value else "(external)"


@dataclass
class View:
    """What the browser draws: at most about `MAX_NODES` nodes, with groups
    collapsed into counted nodes past that, and positions when the server laid it out."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    positions: dict[str, tuple[float, float]] | None
    total: int
    folded: bool
    levels: list[str]
    expanded: list[str]
    notices: list[str]

    @property
    def grouping(self) -> str | None:
        return self.levels[0] if self.levels else None

    def elements(self) -> list[dict[str, Any]]:
        """cytoscape.js elements (positions set when the server laid the view out)."""
        out: list[dict[str, Any]] = []
        for data in self.nodes:
            element: dict[str, Any] = {"data": data}
            if self.positions and data["id"] in self.positions:
                x, y = self.positions[data["id"]]
                element["position"] = {"x": round(x, 1), "y": round(y, 1)}
            out.append(element)
        out.extend({"data": data} for data in self.edges)
        return out


def fold_levels(group_by: str | None) -> list[str]:
    """How a big view is gathered: by `group_by` (connection by default), then by schema."""
    first = group_by or "connection"
    return [first] + [level for level in ("schema",) if level != first]


def build_view(
    graph: nx.DiGraph,
    *,
    group_by: str | None = None,
    expand: Iterable[str] = (),
    limit: int = MAX_NODES,
    layout_above: int = SERVER_LAYOUT_ABOVE,
    status: Mapping[str, str] | None = None,
) -> View:
    """The drawable view of `graph`.

    Up to `limit` nodes every asset is drawn, boxed by `group_by` when given.
    Past it, assets are gathered into counted group nodes (`fold_levels`: by
    `group_by` or connection, or by kind when even those are too many). The
    unit ids in `expand` are opened while the view stays within `limit`; a unit
    too big to open is split instead, into its schemas (`unit#@schema`) or else
    into `CHUNKS` ranges of keys (`unit#~3`), which open in turn.
    """
    if group_by not in (*GROUPINGS, None):
        raise SelectionError(f"cannot group by `{group_by}`: choose one of {', '.join(GROUPINGS)}")
    with paused_gc():
        return _build_view(graph, group_by, list(expand), limit, layout_above, status or {})


def _build_view(
    graph: nx.DiGraph,
    group_by: str | None,
    expand: list[str],
    limit: int,
    layout_above: int,
    status: Mapping[str, str],
) -> View:
    notices: list[str] = []
    folded = graph.number_of_nodes() > limit
    levels: list[str] = []
    units: dict[str, list[str]] = {}
    opened: list[str] = []
    if folded:
        levels = fold_levels(group_by)
        units = _groups(graph, levels[0])
        if len(units) > limit:
            levels = ["kind", *levels]
            units = _groups(graph, "kind")
        opened = _Folder(graph, levels, units, limit, notices).open(expand)
    elif group_by:
        levels = [group_by]
        units = _groups(graph, group_by)
        opened = list(units)
    by = ",".join(levels)
    unit_of: dict[str, str] = {}
    parent_of: dict[str, str] = {}
    nodes: list[dict[str, Any]] = []
    for index, (unit, members) in enumerate(sorted(units.items())):
        gid = f"g{index}"
        is_open = unit in opened
        nodes.append(_group_data(graph, gid, unit, members, by, is_open))
        for member in members:
            if is_open:
                parent_of[member] = gid
            else:
                unit_of[member] = gid
    for index, node in enumerate(sorted(graph.nodes)):
        if node not in unit_of:
            unit_of[node] = f"n{index}"
            nodes.append(
                _asset_data(f"n{index}", node, graph.nodes[node], parent_of.get(node), status.get(node))
            )
    counts: dict[tuple[str, str], int] = {}
    for a, b in graph.edges():
        ua, ub = unit_of[a], unit_of[b]
        if ua != ub:
            counts[ua, ub] = counts.get((ua, ub), 0) + 1
    edges = [
        {"id": f"e{i}", "source": a, "target": b, **({"count": n} if n > 1 else {})}
        for i, ((a, b), n) in enumerate(sorted(counts.items()))
    ]
    drawn = [n for n in nodes if n["kind"] != "box"]
    positions = None
    if folded or group_by or len(drawn) > layout_above:
        sizes = {n["id"]: (n["w"], n["h"]) for n in drawn}
        boxes = {n["id"]: n["parent"] for n in drawn if n.get("parent")}
        positions = layered_layout(list(sizes), list(counts), sizes=sizes, groups=boxes)
    return View(nodes, edges, positions, graph.number_of_nodes(), folded, levels, opened, notices)


def _unit_id(group: str) -> str:
    return group.replace("#", "%23")


def _groups(graph: nx.DiGraph, by: str) -> dict[str, list[str]]:
    units: dict[str, list[str]] = {}
    for node, attrs in graph.nodes(data=True):
        units.setdefault(_unit_id(node_group(attrs, by)), []).append(node)
    for members in units.values():
        members.sort()
    return units


def _split(graph: nx.DiGraph, levels: list[str], unit: str, members: list[str]) -> dict[str, list[str]]:
    """The parts of a unit: its groups at the next level, else ranges of its sorted keys."""
    steps = unit.split("#")[1:]
    depth = 1 + sum(step.startswith("@") for step in steps)
    if depth < len(levels) and not any(step.startswith("~") for step in steps):
        parts: dict[str, list[str]] = {}
        for member in members:
            part = _unit_id(node_group(graph.nodes[member], levels[depth]))
            parts.setdefault(f"{unit}#@{part}", []).append(member)
        if len(parts) > 1:
            return parts
    size = -(-len(members) // CHUNKS)
    return {f"{unit}#~{i // size}": members[i : i + size] for i in range(0, len(members), size)}


def unit_members(graph: nx.DiGraph, levels: list[str], unit: str) -> list[str]:
    """The assets of the view unit `unit` (`group`, `group#@schema`, `group#~3`...), sorted."""
    if not levels:
        return []
    base, *steps = unit.split("#")
    members = sorted(
        n for n, attrs in graph.nodes(data=True) if _unit_id(node_group(attrs, levels[0])) == base
    )
    prefix = base
    for step in steps:
        parts = _split(graph, levels, prefix, members) if len(members) > 1 else {}
        prefix = f"{prefix}#{step}"
        members = parts.get(prefix, [])
    return members


class _Folder:
    """Opens the units named in `expand` within `limit`, splitting those too big to open."""

    def __init__(
        self,
        graph: nx.DiGraph,
        levels: list[str],
        units: dict[str, list[str]],
        limit: int,
        notices: list[str],
    ) -> None:
        self.graph, self.levels, self.units, self.limit, self.notices = graph, levels, units, limit, notices
        self.opened: list[str] = []

    def shown(self) -> int:
        return sum(len(self.units[u]) if u in self.opened else 1 for u in self.units)

    def split(self, unit: str) -> int:
        parts = _split(self.graph, self.levels, unit, self.units.pop(unit))
        self.units.update(parts)
        return len(parts)

    def open(self, expand: list[str]) -> list[str]:
        for wanted in dict.fromkeys(expand):
            base, *steps = wanted.split("#")
            unit = base
            for step in steps:
                if unit in self.units and len(self.units[unit]) > 1:
                    self.split(unit)
                unit = f"{unit}#{step}"
            if unit in self.units and unit not in self.opened:
                self.open_one(unit)
        return self.opened

    def open_one(self, unit: str) -> None:
        size = len(self.units[unit])
        if self.shown() - 1 + size <= self.limit:
            self.opened.append(unit)
            return
        if size > 1:
            members = self.units[unit]
            parts = self.split(unit)
            if self.shown() <= self.limit:
                how = (
                    "its schemas"
                    if "#@" in next(u for u in self.units if u.startswith(unit + "#"))
                    else ("ranges of keys")
                )
                self.notices.append(
                    f"`{unit_name(unit)}` has {size:,} assets, too many to draw at once: "
                    f"it is split into {parts} parts ({how}); open one of them."
                )
                return
            for part in [u for u in self.units if u.startswith(unit + "#")]:
                del self.units[part]
            self.units[unit] = members
        self.notices.append(
            f"`{unit_name(unit)}` stays closed: the view would pass {self.limit} nodes. "
            "Close another group or narrow the selection first."
        )


def unit_name(unit: str) -> str:
    """What a unit is called: its last named part, with the key range when it is one."""
    name, ranges = unit.split("#")[0], []
    for step in unit.split("#")[1:]:
        if step.startswith("@"):
            name, ranges = step[1:], []
        else:
            ranges.append(str(int(step[1:]) + 1) if step[1:].isdigit() else step[1:])
    name = name.replace("%23", "#")
    return f"{name} (part {'.'.join(ranges)})" if ranges else name


def _ellipsize(text: str, width: int = _LABEL_CHARS) -> str:
    if len(text) <= width:
        return text
    half = (width - 1) // 2
    return text[:half] + "…" + text[-(width - 1 - half) :]


def _size(lines: list[str]) -> tuple[float, float]:
    width = max(len(line) for line in lines) * _CHAR_PX + _PAD_X
    return round(max(width, 60.0), 1), round(len(lines) * _LINE_PX + _PAD_Y, 1)


def _asset_data(
    nid: str, node: str, attrs: Mapping[str, Any], parent: str | None, status: str | None
) -> dict:
    kind = attrs.get("kind")
    lines = [node]
    if kind == TARGET:
        lines.append(str(attrs.get("object") or "(no object)"))
        lines.append(
            " · ".join(str(p) for p in (attrs.get("connection"), attrs.get("mode")) if p) or "target"
        )
    elif kind == SOURCE:
        lines.append(str(attrs.get("stream") or "(declared dependency)"))
        lines.append(str(attrs.get("connection") or "source"))
    else:
        lines.append(f"group {attrs['group']}" if attrs.get("group") else "downstream")
    lines = [_ellipsize(line) for line in lines]
    width, height = _size(lines)
    data: dict[str, Any] = {"id": nid, "key": node, "kind": kind, "label": "\n".join(lines)}
    data.update(w=width, h=height)
    if parent:
        data["parent"] = parent
    if status:
        data["status"] = status
    return data


def _group_data(
    graph: nx.DiGraph, gid: str, unit: str, members: list[str], by: str, is_open: bool
) -> dict[str, Any]:
    name = unit_name(unit)
    keys = f"{_ellipsize(members[0], 21)} … {_ellipsize(members[-1], 21)}" if "#~" in unit else ""
    data: dict[str, Any] = {"id": gid, "unit": unit, "kind": "box" if is_open else "group", "by": by}
    if is_open:
        data["label"] = _ellipsize(f"{name}: {keys}" if keys else name, 70)
        return data
    kinds: dict[str, int] = {}
    for member in members:
        kind = graph.nodes[member].get("kind")
        kinds[kind] = kinds.get(kind, 0) + 1
    order = sorted(kinds.items(), key=lambda kv: _KIND_ORDER.get(kv[0], 9))
    summary = ", ".join(f"{n:,} {k}" for k, n in order)
    lines = [_ellipsize(name), *([keys] if keys else []), _ellipsize(f"{len(members):,} assets: {summary}")]
    width, height = _size(lines)
    data.update(label="\n".join(lines), count=len(members), w=width, h=height)
    return data


def layered_layout(
    nodes: list[str],
    edges: list[tuple[str, str]],
    *,
    sizes: Mapping[str, tuple[float, float]],
    groups: Mapping[str, str] | None = None,
    rank_gap: float = 80.0,
    node_gap: float = 16.0,
    group_gap: float = 56.0,
    max_rows: int = 18,
    sweeps: int = 4,
) -> dict[str, tuple[float, float]]:
    """Centre positions, left to right, of a layered drawing of a directed graph.

    Cycles are broken by reversing the DFS back edges; layers are longest paths
    from the sources (a source is then pulled next to its first reader); the
    order within a layer comes from barycenter sweeps; a layer taller than
    `max_rows` nodes wraps into several columns. With `groups` (node -> group),
    a group's nodes stay together in one row of the drawing, and groups share a
    row only where their layers do not meet: their boxes never overlap.
    """
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in _acyclic(nodes, edges):
        succ[a].append(b)
        pred[b].append(a)
    layer = _longest_path_layers(nodes, succ, pred)
    count = max(layer.values(), default=-1) + 1
    # The nodes of a layer outside every group make one unit (one block, wrapped into columns).
    unit_of = {n: groups.get(n) or f"\0{layer[n]}" for n in nodes} if groups else dict.fromkeys(nodes, "")
    layers: list[list[str]] = [[] for _ in range(count)]
    for node in sorted(nodes, key=lambda n: (unit_of[n], n)):
        layers[layer[node]].append(node)
    position = {n: i / max(len(row), 1) for row in layers for i, n in enumerate(row)}
    rank: dict[str, float] = {}

    def sweep() -> None:
        for direction in range(sweeps):
            order = range(1, count) if direction % 2 == 0 else range(count - 2, -1, -1)
            neighbours = pred if direction % 2 == 0 else succ
            for i in order:
                row = layers[i]
                bary = {}
                for n in row:
                    around = [position[m] for m in neighbours[n]]
                    bary[n] = sum(around) / len(around) if around else position[n]
                row.sort(key=lambda n: (rank.get(unit_of[n], 0.0), bary[n]))
                for j, n in enumerate(row):
                    position[n] = j / len(row)

    sweep()
    if groups:
        members: dict[str, list[float]] = {}
        for n in nodes:
            members.setdefault(unit_of[n], []).append(position[n])
        rank.update({u: sum(p) / len(p) for u, p in members.items()})
        sweep()
    # Blocks: the nodes of one unit in one layer, wrapped into columns.
    cells: dict[str, dict[int, list[str]]] = {}
    for i, row in enumerate(layers):
        for n in row:
            cells.setdefault(unit_of[n], {}).setdefault(i, []).append(n)
    blocks = {
        (unit, i): _block(column, sizes, node_gap, rank_gap / 2, max_rows)
        for unit, by_layer in cells.items()
        for i, column in by_layer.items()
    }
    width = [0.0] * count
    for (_, i), (w, _, _) in blocks.items():
        width[i] = max(width[i], w)
    left = [sum(width[:i]) + rank_gap * i for i in range(count)]
    rows = _rows(cells, rank) if groups else [[""]]
    boxed = [any(not unit.startswith("\0") for unit in row) for row in rows] if groups else [False]
    out: dict[str, tuple[float, float]] = {}
    top = 0.0
    for r, row in enumerate(rows):
        if r:
            top += group_gap if boxed[r] or boxed[r - 1] else node_gap
        height = max((blocks[unit, i][1] for unit in row for i in cells.get(unit, {})), default=0.0)
        for unit in row:
            for i in cells.get(unit, {}):
                w, h, offsets = blocks[unit, i]
                x0, y0 = left[i] + (width[i] - w) / 2, top + (height - h) / 2
                for n, (dx, dy) in offsets.items():
                    out[n] = (x0 + dx, y0 + dy)
        top += height
    return out


def _rows(cells: Mapping[str, Mapping[int, list[str]]], rank: Mapping[str, float]) -> list[list[str]]:
    """Units packed into rows, in rank order: a unit joins the first row whose
    units' layer spans its own span does not meet."""
    rows: list[list[str]] = []
    spans: list[list[tuple[int, int]]] = []
    for unit in sorted(cells, key=lambda u: (rank.get(u, 0.0), u)):
        lo, hi = min(cells[unit]), max(cells[unit])
        for r, taken in enumerate(spans):
            if all(hi < a or lo > b for a, b in taken):
                rows[r].append(unit)
                taken.append((lo, hi))
                break
        else:
            rows.append([unit])
            spans.append([(lo, hi)])
    return rows


def _block(
    column: list[str], sizes: Mapping[str, tuple[float, float]], gap: float, column_gap: float, max_rows: int
) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """(width, height, centre offsets) of nodes stacked top-down in as few columns as `max_rows` allows."""
    per = -(-len(column) // -(-len(column) // max_rows))
    parts = [column[i : i + per] for i in range(0, len(column), per)]
    widths = [max(sizes[n][0] for n in part) for part in parts]
    height = max(_stack(part, sizes, gap) for part in parts)
    offsets: dict[str, tuple[float, float]] = {}
    x = 0.0
    for part, part_width in zip(parts, widths, strict=True):
        y = (height - _stack(part, sizes, gap)) / 2
        for n in part:
            offsets[n] = (x + part_width / 2, y + sizes[n][1] / 2)
            y += sizes[n][1] + gap
        x += part_width + column_gap
    return sum(widths) + column_gap * (len(parts) - 1), height, offsets


def _stack(row: list[str], sizes: Mapping[str, tuple[float, float]], gap: float) -> float:
    return sum(sizes[n][1] for n in row) + gap * max(len(row) - 1, 0)


def _acyclic(nodes: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`edges` with the back edges of a depth-first search reversed (self-loops dropped)."""
    adjacency: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a != b:
            adjacency[a].append(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(adjacency[root]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    back.add((node, child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(adjacency[child])))
                    break
            else:
                state[node] = 2
                stack.pop()
    out = []
    for a, b in edges:
        if a != b:
            out.append((b, a) if (a, b) in back else (a, b))
    return out


def _longest_path_layers(
    nodes: list[str], succ: Mapping[str, list[str]], pred: Mapping[str, list[str]]
) -> dict[str, int]:
    indegree = {n: len(pred[n]) for n in nodes}
    layer = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indegree[n] == 0]
    while ready:
        node = ready.pop()
        for child in succ[node]:
            layer[child] = max(layer[child], layer[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    for node in nodes:
        if not pred[node] and succ[node]:
            layer[node] = max(min(layer[c] for c in succ[node]) - 1, 0)
    return layer
