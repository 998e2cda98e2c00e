"""What the lineage page draws: folding big graphs into counted groups, opening them,
the server-side layered layout, and paths between two assets."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from replication.config import ReplicationConfig
from replication.lineage.graph import DOWNSTREAM, SOURCE, TARGET, Downstream, SelectionError, build_graph
from replication.lineage.layout import layered_layout, packed_layout
from replication.lineage.select import path_between
from replication.lineage.view import CHUNKS, build_view, node_group, unit_members, unit_name


def warehouse(schemas: int, tables: int) -> nx.DiGraph:
    """PG -> WH: `schemas` x `tables` streams, and one report reading the first table."""
    streams = {f"s{s}.t{t}": {"object": f"raw_s{s}.t{t}"} for s in range(schemas) for t in range(tables)}
    rep = ReplicationConfig(source="PG", target="WH", streams=streams)
    report = Downstream(key=("reports", "daily"), deps=(("target", "raw_s0", "t0"),), group="reports")
    return build_graph([("wh", rep)], [report])


def boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def bounds(view, ids) -> tuple[float, float, float, float]:
    sizes = {n["id"]: (n["w"], n["h"]) for n in view.nodes if "w" in n}
    xs = [view.positions[i][0] - sizes[i][0] / 2 for i in ids] + [
        view.positions[i][0] + sizes[i][0] / 2 for i in ids
    ]
    ys = [view.positions[i][1] - sizes[i][1] / 2 for i in ids] + [
        view.positions[i][1] + sizes[i][1] / 2 for i in ids
    ]
    return min(xs), min(ys), max(xs), max(ys)


# --- grouping ---------------------------------------------------------------------


def test_assets_group_by_schema_connection_or_replication():
    target = {
        "kind": TARGET,
        "key": ("target", "raw", "t"),
        "connection": "wh",
        "object": "Raw.T",
        "replication": "r",
    }
    source = {"kind": SOURCE, "key": ("s", "t"), "connection": "PG", "stream": "s.t", "replication": "r"}
    files = {"kind": SOURCE, "key": ("f",), "connection": "LOCAL", "stream": "file://data/in/a.csv"}
    report = {"kind": DOWNSTREAM, "key": ("reports", "daily"), "group": None}

    assert node_group(target, "schema") == "WH.raw"
    assert node_group(source, "schema") == "PG.s"
    assert node_group(files, "schema") == "LOCAL data/in"
    assert node_group(report, "schema") == "reports"
    assert node_group(target, "connection") == "WH"
    # Downstream assets without a group gather under their key prefix.
    assert node_group(report, "connection") == "reports"
    assert node_group(target, "replication") == "r"
    assert node_group(target, "kind") == "targets"


# --- small views --------------------------------------------------------------------


def test_a_small_connected_graph_is_drawn_whole_and_left_to_the_browser_to_lay_out():
    assert build_view(warehouse(1, 1)).positions is None
    view = build_view(warehouse(2, 3))

    assert not view.folded
    assert {n["key"] for n in view.nodes} == set(warehouse(2, 3).nodes)
    target = next(n for n in view.nodes if n["key"] == "target/raw_s0/t0")
    # The label names the key, the physical object, the connection and the mode.
    assert target["label"].splitlines() == ["target/raw_s0/t0", "raw_s0.t0", "WH"]
    assert target["w"] > 0 and target["h"] > 0


def test_grouping_a_small_graph_draws_boxes_laid_out_by_the_server():
    view = build_view(warehouse(2, 3), group_by="schema")

    boxes = {n["id"]: n for n in view.nodes if n["kind"] == "box"}
    assert {b["label"] for b in boxes.values()} == {"PG.s0", "PG.s1", "WH.raw_s0", "WH.raw_s1", "reports"}
    assert view.positions is not None
    members = {}
    for node in view.nodes:
        if node.get("parent"):
            members.setdefault(node["parent"], []).append(node["id"])
    for a, b in itertools.combinations(members, 2):
        assert not boxes_overlap(bounds(view, members[a]), bounds(view, members[b])), (a, b)


def test_an_unknown_grouping_is_a_selection_error():
    with pytest.raises(SelectionError, match="cannot group by `colour`"):
        build_view(warehouse(1, 1), group_by="colour")


def test_statuses_are_drawn_on_their_nodes():
    view = build_view(warehouse(1, 2), status={"target/raw_s0/t1": "failed"})

    assert {n["key"]: n.get("status") for n in view.nodes}["target/raw_s0/t1"] == "failed"


# --- big views ----------------------------------------------------------------------


def test_a_big_graph_is_folded_into_counted_groups_by_connection():
    graph = warehouse(5, 100)  # 1,001 assets

    view = build_view(graph, limit=300)

    assert view.folded and view.levels == ["connection", "schema"]
    groups = {n["unit"]: n["count"] for n in view.nodes if n["kind"] == "group"}
    assert groups == {"PG": 500, "WH": 500}
    # A group of one asset (the report) is drawn as that asset.
    (report,) = [n for n in view.nodes if n["kind"] != "group"]
    assert report["key"].startswith("reports/")
    edges = {(e["source"], e["target"]): e.get("count", 1) for e in view.edges}
    ids = {n.get("unit", "reports"): n["id"] for n in view.nodes}
    assert edges == {(ids["PG"], ids["WH"]): 500, (ids["WH"], ids["reports"]): 1}
    assert view.positions is not None and set(view.positions) == set(ids.values())
    # Where each folded asset is drawn: a path through the view lights up those groups.
    assert len(view.folded_into) == 1000 and set(view.folded_into.values()) == {"PG", "WH"}


def test_opening_a_group_too_big_to_draw_splits_it_into_its_schemas():
    view = build_view(warehouse(5, 100), limit=300, expand=["WH"])

    units = sorted(n["unit"] for n in view.nodes if n["kind"] == "group")
    assert units == ["PG", *(f"WH#@WH.raw_s{i}" for i in range(5))]
    assert view.expanded == []
    assert "split into 5 parts (its schemas)" in view.notices[0]


def test_a_schema_opens_into_a_box_of_its_assets():
    view = build_view(warehouse(5, 100), limit=300, expand=["WH", "WH#@WH.raw_s2"])

    assert view.expanded == ["WH#@WH.raw_s2"]
    box = next(n for n in view.nodes if n["kind"] == "box")
    assert box["label"] == "WH.raw_s2"
    inside = [n["key"] for n in view.nodes if n.get("parent") == box["id"]]
    assert len(inside) == 100 and all(key.startswith("target/raw_s2/") for key in inside)
    assert len([n for n in view.nodes if n["kind"] != "box"]) <= 300


def test_a_group_without_schemas_splits_into_ranges_of_keys():
    models = [Downstream(key=("analytics", f"m{i:03}")) for i in range(600)]
    graph = build_graph([], models)

    view = build_view(graph, limit=100, expand=["analytics"])

    parts = [n for n in view.nodes if n["kind"] == "group"]
    assert len(parts) == CHUNKS
    assert sum(n["count"] for n in parts) == 600
    first = next(n for n in parts if n["unit"] == "analytics#~0")
    assert first["label"].splitlines() == [
        "analytics (part 1)",
        "analytics/m000 … analytics/m049",
        "50 assets: 50 downstream",
    ]
    opened = build_view(graph, limit=100, expand=["analytics", "analytics#~0"])
    assert opened.expanded == ["analytics#~0"]
    assert unit_members(graph, ["connection", "schema"], "analytics#~0") == [
        f"analytics/m{i:03}" for i in range(50)
    ]


def test_a_second_group_that_does_not_fit_is_split_or_left_closed():
    graph = warehouse(2, 150)
    expand = ["WH#@WH.raw_s0", "WH#@WH.raw_s1"]

    split = build_view(graph, limit=200, expand=expand)
    assert split.expanded == ["WH#@WH.raw_s0"]
    assert "`WH.raw_s1` has 150 assets, too many to draw at once" in split.notices[-1]
    assert len([n for n in split.nodes if n["kind"] != "box"]) <= 200

    closed = build_view(graph, limit=160, expand=expand)
    assert closed.expanded == ["WH#@WH.raw_s0"]
    assert "`WH.raw_s1` stays closed: the view would pass 160 nodes" in closed.notices[-1]
    assert len([n for n in closed.nodes if n["kind"] != "box"]) <= 160


def test_unknown_or_hostile_expand_ids_are_ignored():
    view = build_view(warehouse(5, 100), limit=300, expand=["nope", "WH#~x#@", "#", "WH#@nope", ""])

    assert view.expanded == []
    assert {n["unit"] for n in view.nodes if n["kind"] == "group"} >= {"PG"}


def test_unit_members_follow_the_same_splits_as_the_view():
    graph = warehouse(5, 100)

    assert len(unit_members(graph, ["connection", "schema"], "WH")) == 500
    assert unit_members(graph, ["connection", "schema"], "WH#@WH.raw_s3")[:2] == [
        "target/raw_s3/t0",
        "target/raw_s3/t1",
    ]
    assert unit_members(graph, ["connection", "schema"], "WH#@nope") == []
    assert unit_members(graph, [], "WH") == []
    assert unit_name("WH#@WH.raw_s3#~2") == "WH.raw_s3 (part 3)"


def test_too_many_groups_fold_by_kind_first():
    streams = {f"s{i}.t": {"object": f"raw_{i}.t"} for i in range(40)}
    graph = build_graph([("r", ReplicationConfig(source="PG", target="WH", streams=streams))])

    view = build_view(graph, limit=30, group_by="schema")

    assert view.levels == ["kind", "schema"]
    assert {n["unit"] for n in view.nodes if n["kind"] == "group"} == {"sources", "targets"}


# --- layout -------------------------------------------------------------------------


def layout(edges, nodes=None, **kwargs):
    nodes = nodes or sorted({n for edge in edges for n in edge})
    sizes = {n: (100.0, 30.0) for n in nodes}
    return layered_layout(nodes, edges, sizes=sizes, **kwargs), sizes


def test_layers_run_left_to_right_along_the_edges():
    positions, _ = layout([("a", "b"), ("b", "c"), ("a", "c"), ("x", "c")])

    assert positions["a"][0] < positions["b"][0] < positions["c"][0]
    # A source is drawn next to its first reader, not at the far left.
    assert positions["x"][0] == positions["b"][0]


def test_nodes_never_overlap():
    edges = [(f"s{i}", f"t{i % 7}") for i in range(60)] + [(f"t{i}", "r") for i in range(7)]
    positions, sizes = layout(edges)

    rects = {
        n: (x - sizes[n][0] / 2, y - sizes[n][1] / 2, x + sizes[n][0] / 2, y + sizes[n][1] / 2)
        for n, (x, y) in positions.items()
    }
    for a, b in itertools.combinations(rects, 2):
        assert not boxes_overlap(rects[a], rects[b]), (a, b)


def test_a_tall_layer_wraps_into_columns():
    positions, _ = layout([(f"s{i}", "t") for i in range(40)], max_rows=10)

    columns = {positions[f"s{i}"][0] for i in range(40)}
    assert len(columns) == 4
    assert max(positions[f"s{i}"][0] for i in range(40)) < positions["t"][0]


def test_cycles_are_laid_out_without_hanging():
    positions, _ = layout([("a", "b"), ("b", "c"), ("c", "a"), ("c", "c")])

    assert set(positions) == {"a", "b", "c"}
    assert len({x for x, _ in positions.values()}) == 3


def test_barycenter_ordering_untangles_crossing_edges():
    # Written in an order that crosses every edge; the sweeps straighten them.
    edges = [("a1", "b3"), ("a2", "b2"), ("a3", "b1")]
    positions, _ = layout(edges)

    order_a = sorted(["a1", "a2", "a3"], key=lambda n: positions[n][1])
    order_b = sorted(["b1", "b2", "b3"], key=lambda n: positions[n][1])
    partner = dict(edges)
    assert [partner[a] for a in order_a] == order_b


def rects_of(positions, sizes) -> dict[str, tuple[float, float, float, float]]:
    return {
        n: (x - sizes[n][0] / 2, y - sizes[n][1] / 2, x + sizes[n][0] / 2, y + sizes[n][1] / 2)
        for n, (x, y) in positions.items()
    }


def extent(positions, sizes) -> tuple[float, float]:
    rects = rects_of(positions, sizes).values()
    return max(r[2] for r in rects) - min(r[0] for r in rects), max(r[3] for r in rects) - min(
        r[1] for r in rects
    )


def test_nodes_without_edges_are_laid_out_in_a_grid_not_a_column():
    nodes = [f"target/main/table_{i:02}" for i in range(40)]
    sizes = {n: (150.0 + (i % 3) * 20, 44.0) for i, n in enumerate(nodes)}

    positions = packed_layout(nodes, [], sizes=sizes, aspect=1.8)

    columns = sorted({x for x, _ in positions.values()})
    rows = sorted({y for _, y in positions.values()})
    assert len(columns) * len(rows) >= 40 and len(columns) > 1 and len(rows) > 1
    # Read row by row in the order given, each cell as wide as the widest node.
    assert [positions[n] for n in nodes[: len(columns)]] == [(x, rows[0]) for x in columns]
    width, height = extent(positions, sizes)
    assert 1.0 < width / height < 3.5
    for a, b in itertools.combinations(rects_of(positions, sizes).values(), 2):
        assert not boxes_overlap(a, b)


def test_parts_that_do_not_meet_are_packed_in_rows_each_laid_out_left_to_right():
    edges = [(f"s{i}", f"t{i}") for i in range(30)] + [("t0", "r0"), ("t0", "r1")]
    nodes = sorted({n for e in edges for n in e} | {"lonely"})
    sizes = dict.fromkeys(nodes, (120.0, 40.0))

    positions = packed_layout(nodes, edges, sizes=sizes, aspect=1.8)

    assert set(positions) == set(nodes)
    for a, b in edges:
        assert positions[a][0] < positions[b][0]
    # Not one tall column of pairs: several pairs share a row, the whole about as wide as asked.
    width, height = extent(positions, sizes)
    assert 1.0 < width / height < 3.5
    for a, b in itertools.combinations(rects_of(positions, sizes).values(), 2):
        assert not boxes_overlap(a, b)
    # The biggest part (t0 and its readers) comes first, at the top left.
    rects = rects_of(positions, sizes)
    assert rects["s0"][0] == 0.0
    assert min(rects[n][1] for n in ("s0", "t0", "r0", "r1")) == 0.0
    # The same graph is always drawn the same way.
    assert packed_layout(nodes, edges, sizes=sizes, aspect=1.8) == positions


def test_one_connected_part_is_the_layered_drawing():
    edges = [("a", "b"), ("b", "c"), ("x", "c")]
    sizes = dict.fromkeys("abcx", (80.0, 30.0))

    assert packed_layout(list("abcx"), edges, sizes=sizes) == layered_layout(list("abcx"), edges, sizes=sizes)


def test_a_small_view_of_parts_that_do_not_meet_is_laid_out_by_the_server_in_rows():
    view = build_view(warehouse(4, 10))

    assert not view.folded and view.positions is not None
    sizes = {n["id"]: (n["w"], n["h"]) for n in view.nodes}
    width, height = extent(view.positions, sizes)
    assert width / height > 1.0


def test_an_empty_graph_has_no_positions():
    assert layered_layout([], [], sizes={}) == {}


# --- paths --------------------------------------------------------------------------


def test_the_path_between_two_assets_either_way():
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "x"), ("x", "c"), ("c", "d"), ("y", "d")])

    shortest, between = path_between(graph, "a", "d")
    assert shortest[0] == "a" and shortest[-1] == "d" and len(shortest) == 4
    assert between == {"a", "b", "x", "c", "d"}
    # Asked the other way round, it is still found (downstream first).
    assert path_between(graph, "d", "a")[1] == between


def test_no_path_or_an_unknown_asset_is_an_error():
    graph = nx.DiGraph([("a", "b"), ("c", "d")])

    with pytest.raises(SelectionError, match="no path between `a` and `d`"):
        path_between(graph, "a", "d")
    with pytest.raises(SelectionError, match="`zz` is not an asset"):
        path_between(graph, "a", "zz")
