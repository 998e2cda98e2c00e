from __future__ import annotations

import json

import pytest

from replication.config import ReplicationConfig
from replication.lineage.export import to_data, to_dot, to_json
from replication.lineage.graph import Downstream, SelectionError, build_graph, parse_key
from replication.lineage.select import select, subgraph

EXTRACT = ReplicationConfig(
    source="PG",
    target="WAREHOUSE",
    defaults={"mode": "full-refresh", "object": "raw.{stream_table}", "meta": {"dagster": {"group": "raw"}}},
    streams={
        "public.users": {"object": "raw.users", "tags": ["pii"]},
        "public.orders": {"object": "raw.orders"},
        "public.audit": {"object": "raw.audit", "disabled": True},
    },
)
# A second replication reads the first one's target (declared through meta.dagster.deps).
PUBLISH = ReplicationConfig(
    source="WAREHOUSE",
    target="LAKE",
    streams={
        "raw.orders": {
            "object": "lake/orders.parquet",
            "meta": {"dagster": {"deps": ["target.raw.orders"], "asset_key": "lake.orders"}},
        }
    },
)
DOWNSTREAM = [
    Downstream(
        key=("analytics", "user_orders"), deps=(("target", "raw", "users"), ("target", "raw", "orders"))
    ),
    Downstream(
        key=("reports", "daily"), deps=(("analytics", "user_orders"),), group="reports", tags=("exec",)
    ),
    Downstream(key=("reports", "external"), deps=(("crm", "accounts"),)),
]


@pytest.fixture
def graph():
    return build_graph([("extract", EXTRACT), ("publish", PUBLISH)], DOWNSTREAM)


def test_nodes_have_dagster_keys_and_kinds(graph):
    kinds = {node: attrs["kind"] for node, attrs in graph.nodes(data=True)}
    assert kinds == {
        "public/users": "source",
        "public/orders": "source",
        "target/raw/users": "target",
        "target/raw/orders": "target",
        "lake/orders": "target",
        "analytics/user_orders": "downstream",
        "reports/daily": "downstream",
        "reports/external": "downstream",
        # A dep nothing defines is drawn as a source.
        "crm/accounts": "source",
    }


def test_edges_run_source_target_downstream_and_across_replications(graph):
    assert set(graph.edges) == {
        ("public/users", "target/raw/users"),
        ("public/orders", "target/raw/orders"),
        ("target/raw/orders", "lake/orders"),
        ("target/raw/users", "analytics/user_orders"),
        ("target/raw/orders", "analytics/user_orders"),
        ("analytics/user_orders", "reports/daily"),
        ("crm/accounts", "reports/external"),
    }


def test_target_nodes_carry_their_stream_facts(graph):
    node = graph.nodes["target/raw/users"]
    assert node["replication"] == "extract"
    assert node["stream"] == "public.users"
    assert node["object"] == "raw.users"
    assert node["mode"] == "full-refresh"
    assert node["group"] == "raw"
    assert node["connection"] == "WAREHOUSE"
    assert node["tags"] == ("pii",)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("target/raw/users", {"target/raw/users"}),
        ("+target/raw/users", {"target/raw/users", "public/users"}),
        (
            "target/raw/orders+",
            {"target/raw/orders", "lake/orders", "analytics/user_orders", "reports/daily"},
        ),
        ("target/raw/orders+1", {"target/raw/orders", "lake/orders", "analytics/user_orders"}),
        ("1+reports/daily", {"reports/daily", "analytics/user_orders"}),
        (
            "2+reports/daily",
            {"reports/daily", "analytics/user_orders", "target/raw/users", "target/raw/orders"},
        ),
        ("+lake/orders+", {"lake/orders", "target/raw/orders", "public/orders"}),
        ("group:reports", {"reports/daily"}),
        ("tag:pii tag:exec", {"target/raw/users", "reports/daily"}),
        ("reports/*", {"reports/daily", "reports/external"}),
        ("kind:downstream", {"analytics/user_orders", "reports/daily", "reports/external"}),
    ],
)
def test_selection(graph, selector, expected):
    assert select(graph, selector) == expected


@pytest.mark.parametrize("selector", ["no/such/key", "group:none", "+tag:nothing"])
def test_a_selector_that_matches_nothing_is_an_error(graph, selector):
    with pytest.raises(SelectionError, match="matches no asset"):
        select(graph, selector)


def test_json_has_keys_as_lists_and_is_sorted(graph):
    data = json.loads(to_json(subgraph(graph, "+target/raw/users")))
    assert data == to_data(subgraph(graph, "+target/raw/users"))
    assert [n["key"] for n in data["nodes"]] == [["public", "users"], ["target", "raw", "users"]]
    assert [n["kind"] for n in data["nodes"]] == ["source", "target"]
    assert data["edges"] == [[["public", "users"], ["target", "raw", "users"]]]


def test_dot_names_every_node_and_edge(graph):
    dot = to_dot(subgraph(graph, "+lake/orders"))
    assert dot.startswith("digraph lineage {")
    assert '"target/raw/orders" -> "lake/orders";' in dot
    assert '"public/orders" [shape=ellipse' in dot


def test_keys_parse_from_their_user_string():
    assert parse_key(" a / b/c ") == ("a", "b", "c")
