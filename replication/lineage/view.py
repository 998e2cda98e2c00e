"""What the browser draws of a graph: groups, and past `MAX_NODES` counted groups that open."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from replication.lineage.graph import DOWNSTREAM, KIND_ORDER, SOURCE, TARGET, SelectionError, conflict_owners
from replication.lineage.join import normalise_path
from replication.lineage.layout import components, layered_layout, packed_layout
from replication.resolve import is_file_stream, split_table_name
from replication.util import paused_gc

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
            folder = posixpath.dirname(normalise_path(name).rstrip("/")) or "."
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
    # Key -> who defines it, for keys several assets of the graph define (Dagster refuses them).
    conflicts: dict[str, list[str]]
    # Key -> the unit of the closed group node it is drawn in (assets drawn as themselves: absent).
    folded_into: dict[str, str] = field(default_factory=dict)

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
    folded_into: dict[str, str] = {}
    nodes: list[dict[str, Any]] = []
    for index, (unit, members) in enumerate(sorted(units.items())):
        gid = f"g{index}"
        is_open = unit in opened
        if len(members) == 1 and not is_open:
            continue  # a group of one asset is drawn as that asset (a downstream asset just added)
        nodes.append(_group_data(graph, gid, unit, members, by, is_open))
        for member in members:
            if is_open:
                parent_of[member] = gid
            else:
                unit_of[member] = gid
                folded_into[member] = unit
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
    sizes = {n["id"]: (n["w"], n["h"]) for n in drawn}
    boxes = {n["id"]: n["parent"] for n in drawn if n.get("parent")}
    if boxes:
        positions = layered_layout(list(sizes), list(counts), sizes=sizes, groups=boxes)
    elif folded or len(drawn) > layout_above or len(components(list(sizes), list(counts))) > 1:
        # Parts that do not meet are packed into a grid (dagre would stack them in one column).
        positions = packed_layout(list(sizes), list(counts), sizes=sizes)
    return View(
        nodes,
        edges,
        positions,
        graph.number_of_nodes(),
        folded,
        levels,
        opened,
        notices,
        conflict_owners(graph),
        folded_into,
    )


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
    if attrs.get("conflict"):
        data["conflict"] = 1
    if attrs.get("context"):
        data["context"] = 1
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
    order = sorted(kinds.items(), key=lambda kv: KIND_ORDER.get(kv[0], 9))
    summary = ", ".join(f"{n:,} {k}" for k, n in order)
    lines = [_ellipsize(name), *([keys] if keys else []), _ellipsize(f"{len(members):,} assets: {summary}")]
    width, height = _size(lines)
    data.update(label="\n".join(lines), count=len(members), w=width, h=height)
    return data
