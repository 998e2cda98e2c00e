"""Cross-replication lineage: one replication's target table is another's source stream."""

from __future__ import annotations

import pytest

from replication.config import ReplicationConfig
from replication.lineage.export import to_data
from replication.lineage.graph import SOURCE, build_graph
from replication.lineage.join import default_schema, join_replications, table_identity


def graph_of(*replications: tuple[str, ReplicationConfig]):
    return build_graph(list(replications))


def test_default_schemas_follow_each_database():
    assert default_schema("postgres") == "public"
    assert default_schema("sqlite") == "main"
    assert default_schema("duckdb") == "main"
    assert default_schema("sqlserver") == "dbo"
    # The connection's own setting wins over the convention.
    assert default_schema("postgres", {"schema": "analytics"}) == "analytics"
    # Where the database is the schema, it is the default.
    assert default_schema("mysql", {"database": "shop"}) == "shop"
    assert default_schema("s3") is None
    assert default_schema(None) is None


@pytest.mark.parametrize(
    ("connection", "name", "schema", "expected"),
    [
        ("pg", "public.Orders", None, ("PG", "public.orders")),
        ("PG", '"Public"."Orders"', None, ("PG", "public.orders")),
        ("PG", "`public`.`orders`", None, ("PG", "public.orders")),
        ("PG", "[dbo].[Orders]", None, ("PG", "dbo.orders")),
        ("PG", "Orders", "public", ("PG", "public.orders")),
        ("PG", "Orders", None, ("PG", ".orders")),
        ("PG", "warehouse.public.orders", None, ("PG", "public.orders")),
        ("LOCAL", "file://data/out/orders.csv", None, ("LOCAL", "file:data/out/orders.csv")),
        ("LOCAL", "file://./data/out/orders.csv", None, ("LOCAL", "file:data/out/orders.csv")),
        ("LOCAL", "data/out//orders.csv", None, ("LOCAL", "file:data/out/orders.csv")),
        ("LOCAL", "file:///tmp/Out/Orders.csv", None, ("LOCAL", "file:/tmp/Out/Orders.csv")),
        ("S3", "s3://bucket/raw/orders.parquet", None, ("S3", "file:s3://bucket/raw/orders.parquet")),
    ],
)
def test_table_identity_normalises_names(connection, name, schema, expected):
    assert table_identity(connection, name, schema) == expected


def test_table_identity_is_unknown_without_a_connection_or_with_runtime_variables():
    assert table_identity(None, "public.orders") is None
    assert table_identity("PG", "") is None
    assert table_identity("PG", "raw.{run_timestamp}") is None


def test_a_replication_reading_anothers_target_is_joined_to_it():
    extract = ReplicationConfig(source="PG", target="WH", streams={"public.orders": {"object": "raw.orders"}})
    publish = ReplicationConfig(source="WH", target="LAKE", streams={"raw.orders": {"object": "lake.orders"}})
    graph = graph_of(("extract", extract), ("publish", publish))
    assert ("raw/orders", "target/lake/orders") in graph.edges

    added = join_replications(graph, {"extract": "PG", "publish": "WH"})

    assert added == [("target/raw/orders", "target/lake/orders")]
    # The second replication's source node merged into the first one's target.
    assert "raw/orders" not in graph
    assert set(graph.edges) == {
        ("public/orders", "target/raw/orders"),
        ("target/raw/orders", "target/lake/orders"),
    }


def test_case_and_quotes_do_not_matter_for_tables():
    extract = ReplicationConfig(
        source="PG", target="wh", streams={"public.orders": {"object": '"RAW"."Orders"'}}
    )
    publish = ReplicationConfig(source="WH", target="LAKE", streams={"raw.ORDERS": {"object": "lake.orders"}})
    graph = graph_of(("extract", extract), ("publish", publish))

    assert join_replications(graph, {"extract": "PG", "publish": "WH"}) == [
        ("target/raw/orders", "target/lake/orders")
    ]


def test_the_default_schema_fills_in_an_unqualified_name():
    extract = ReplicationConfig(
        source="PG", target="DB", streams={"public.orders": {"object": "main.orders"}}
    )
    publish = ReplicationConfig(source="DB", target="LAKE", streams={"orders": {"object": "lake.orders"}})

    unjoined = graph_of(("extract", extract), ("publish", publish))
    assert join_replications(unjoined, {"extract": "PG", "publish": "DB"}) == []

    graph = graph_of(("extract", extract), ("publish", publish))
    added = join_replications(graph, {"extract": "PG", "publish": "DB"}, {"db": "main"})
    assert added == [("target/main/orders", "target/lake/orders")]


def test_another_connection_with_the_same_table_is_not_joined():
    extract = ReplicationConfig(source="PG", target="WH", streams={"public.orders": {"object": "raw.orders"}})
    publish = ReplicationConfig(
        source="OTHER_WH", target="LAKE", streams={"raw.orders": {"object": "lake.orders"}}
    )
    graph = graph_of(("extract", extract), ("publish", publish))

    assert join_replications(graph, {"extract": "PG", "publish": "OTHER_WH"}) == []
    assert graph.nodes["raw/orders"]["kind"] == SOURCE


def test_files_written_by_one_replication_are_read_by_another():
    export = ReplicationConfig(
        source="PG", target="LOCAL", streams={"public.orders": {"object": "file://./out/orders.csv"}}
    )
    load = ReplicationConfig(
        source="LOCAL", target="WH", streams={"file://out/orders.csv": {"object": "raw.orders"}}
    )
    graph = graph_of(("export", export), ("load", load))

    added = join_replications(graph, {"export": "PG", "load": "LOCAL"})

    # (The asset key is what dagster-sling makes of `file://./out/orders.csv`.)
    assert added == [("target/file_/_out_orders/csv", "target/raw/orders")]
    assert "file_out_orders/csv" not in graph


def test_file_paths_keep_their_case():
    export = ReplicationConfig(
        source="PG", target="LOCAL", streams={"public.orders": {"object": "/data/Orders.csv"}}
    )
    load = ReplicationConfig(
        source="LOCAL", target="WH", streams={"/data/orders.csv": {"object": "raw.orders"}}
    )
    graph = graph_of(("export", export), ("load", load))

    assert join_replications(graph, {"export": "PG", "load": "LOCAL"}) == []


def test_a_wildcard_stream_joins_every_table_it_matches():
    extract = ReplicationConfig(
        source="PG",
        target="WH",
        streams={"public.orders": {"object": "raw.orders"}, "public.users": {"object": "raw.users"}},
    )
    publish = ReplicationConfig(
        source="WH", target="LAKE", streams={"raw.*": {"object": "lake.{stream_table}"}}
    )
    graph = graph_of(("extract", extract), ("publish", publish))

    added = join_replications(graph, {"extract": "PG", "publish": "WH"})

    assert sorted(added) == [
        ("target/raw/orders", "target/lake/_stream_table_"),
        ("target/raw/users", "target/lake/_stream_table_"),
    ]


def test_a_source_node_other_streams_still_read_is_kept():
    extract = ReplicationConfig(source="PG", target="WH", streams={"public.orders": {"object": "raw.orders"}})
    publish = ReplicationConfig(source="WH", target="LAKE", streams={"raw.orders": {"object": "lake.orders"}})
    # Another replication reads a table of the same name from a different database.
    elsewhere = ReplicationConfig(
        source="MYSQL", target="LAKE", streams={"raw.orders": {"object": "lake.orders_my"}}
    )
    graph = graph_of(("extract", extract), ("publish", publish), ("elsewhere", elsewhere))

    join_replications(graph, {"extract": "PG", "publish": "WH", "elsewhere": "MYSQL"})

    assert graph.nodes["raw/orders"]["kind"] == SOURCE
    assert list(graph.successors("raw/orders")) == ["target/lake/orders_my"]


def test_a_stream_reading_its_own_target_is_not_a_loop():
    rep = ReplicationConfig(source="WH", target="WH", streams={"raw.orders": {"object": "raw.orders"}})
    graph = graph_of(("self", rep))

    assert join_replications(graph, {"self": "WH"}) == []
    assert ("raw/orders", "target/raw/orders") in graph.edges


def test_joined_graphs_still_export_as_the_lineage_command_format():
    extract = ReplicationConfig(source="PG", target="WH", streams={"public.orders": {"object": "raw.orders"}})
    publish = ReplicationConfig(source="WH", target="LAKE", streams={"raw.orders": {"object": "lake.orders"}})
    graph = graph_of(("extract", extract), ("publish", publish))
    join_replications(graph, {"extract": "PG", "publish": "WH"})

    data = to_data(graph)

    assert [node["key"] for node in data["nodes"]] == [
        ["public", "orders"],
        ["target", "lake", "orders"],
        ["target", "raw", "orders"],
    ]
    assert data["edges"] == [
        [["public", "orders"], ["target", "raw", "orders"]],
        [["target", "raw", "orders"], ["target", "lake", "orders"]],
    ]
