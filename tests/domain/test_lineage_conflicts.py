"""Two assets with one key (two replications' streams, or a stream and a downstream asset):
Dagster refuses such definitions, so the graph keeps each of them and says so."""

from __future__ import annotations

import pytest

from replication.config import ReplicationConfig
from replication.dagster.location import KeyConflict, location_files
from replication.lineage.export import to_data
from replication.lineage.graph import Downstream, build_graph, conflict_owners, conflicts, nodes_of
from replication.lineage.join import join_replications
from replication.lineage.select import replication_part, select
from replication.lineage.view import build_view

ORDERS = "target/main/orders"


def shop(target: str = "WH") -> ReplicationConfig:
    return ReplicationConfig(source="PG", target=target, streams={"public.orders": {"object": "main.orders"}})


def erp() -> ReplicationConfig:
    return ReplicationConfig(source="ERP", target="WH2", streams={"dbo.orders": {"object": "main.orders"}})


def test_two_replications_with_one_key_stay_two_assets():
    graph = build_graph([("shop", shop()), ("erp", erp())])

    ids = nodes_of(graph, ORDERS)
    assert ORDERS not in graph
    assert [graph.nodes[n]["replication"] for n in ids] == ["shop", "erp"]
    # Each keeps its own object, connection and upstream: nothing merged.
    assert [graph.nodes[n]["connection"] for n in ids] == ["WH", "WH2"]
    assert [sorted(graph.predecessors(n)) for n in ids] == [["public/orders"], ["dbo/orders"]]
    assert graph.nodes[ids[0]]["conflict"] == ("replication erp (stream dbo.orders)",)
    assert conflict_owners(graph) == {
        ORDERS: ["replication shop (stream public.orders)", "replication erp (stream dbo.orders)"]
    }


def test_a_downstream_asset_with_a_streams_key_is_a_conflict_too():
    report = Downstream(key=("target", "main", "orders"), deps=(("raw", "x"),))
    graph = build_graph([("shop", shop())], [report])

    kinds = sorted(graph.nodes[n]["kind"] for n in conflicts(graph)[ORDERS])
    assert kinds == ["downstream", "target"]


def test_what_reads_a_conflicting_key_reads_each_of_its_assets():
    report = Downstream(key=("reports", "daily"), deps=(("target", "main", "orders"),))
    graph = build_graph([("shop", shop()), ("erp", erp())], [report])

    assert sorted(graph.predecessors("reports/daily")) == sorted(nodes_of(graph, ORDERS))
    # The exported document lists the key's edge once, and both assets.
    data = to_data(graph)
    assert data["edges"].count([["target", "main", "orders"], ["reports", "daily"]]) == 1
    assert sum(node["key"] == ["target", "main", "orders"] for node in data["nodes"]) == 2


def test_a_selector_by_key_finds_every_asset_of_the_key():
    graph = build_graph([("shop", shop()), ("erp", erp())])

    assert select(graph, ORDERS) == set(nodes_of(graph, ORDERS))
    assert len(select(graph, f"+{ORDERS}")) == 4


def test_the_view_marks_the_conflicting_assets_and_lists_them():
    graph = build_graph([("shop", shop()), ("erp", erp())])

    view = build_view(graph)

    assert sum(1 for node in view.nodes if node.get("conflict")) == 2
    assert list(view.conflicts) == [ORDERS]


def test_a_code_location_with_two_assets_of_one_key_is_refused():
    replications = [("shop", shop()), ("erp", erp())]
    graph = build_graph(replications)

    with pytest.raises(KeyConflict, match="`target/main/orders` is defined by replication shop"):
        location_files(replications, graph, [])
    # Each alone is a location Dagster takes.
    assert "definitions.py" in location_files(replications[:1], graph, [])


def test_one_replications_part_keeps_its_joins_as_context_and_only_its_readers():
    extract = shop()
    publish = ReplicationConfig(
        source="WH", target="LAKE", streams={"main.orders": {"object": "lake.orders"}}
    )
    other = ReplicationConfig(source="X", target="Y", streams={"a.b": {"object": "c.d"}})
    readers = [
        Downstream(key=("reports", "lake"), deps=(("target", "lake", "orders"),)),
        Downstream(key=("reports", "of_report"), deps=(("reports", "lake"),)),
        Downstream(key=("reports", "other"), deps=(("target", "c", "d"),)),
    ]
    graph = build_graph([("extract", extract), ("publish", publish), ("other", other)], readers)
    join_replications(graph, {"extract": "PG", "publish": "WH", "other": "X"})

    part = replication_part(graph, "publish")

    assert set(part) == {ORDERS, "target/lake/orders", "reports/lake", "reports/of_report"}
    assert part.nodes[ORDERS]["context"] is True
    assert ("target/main/orders", "target/lake/orders") in part.edges
    # The replication upstream sees `publish` as context, and not the reports that read it.
    upstream = replication_part(graph, "extract")
    assert set(upstream) == {"public/orders", ORDERS, "target/lake/orders"}
    assert upstream.nodes["target/lake/orders"]["context"] is True
