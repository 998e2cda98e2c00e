"""The lineage page's services: the joined graph and its cache, run status, downstream saves."""

from __future__ import annotations

import pytest

from studio import models
from studio.errors import NotFound, Refused
from studio.selectors.connections import default_schemas
from studio.selectors.lineage import lineage_document, lineage_joined, lineage_stream_status, lineage_suggest
from studio.services.connections import connection_save
from studio.services.downstream import downstream_delete, downstream_save
from studio.services.replications import replication_import

PUBLISH = (
    "source: DEMO_SQLITE\ntarget: LOCAL\nstreams:\n  {stream}:\n    object: file:///tmp/out/{name}.csv\n"
)


def test_connections_say_which_schema_an_unqualified_name_means(db):
    connection_save(name="pg", fields={"type": "postgres", "host": "h"})
    connection_save(name="pg_custom", fields={"type": "postgres", "host": "h", "schema": "sales"})
    connection_save(name="files", fields={"type": "s3", "bucket": "b"})

    assert default_schemas() == {"PG": "public", "PG_CUSTOM": "sales", "FILES": None}


def test_an_unqualified_stream_joins_the_table_in_the_connections_default_schema(demo):
    replication_import(name="publish", text=PUBLISH.format(stream="orders", name="orders"))

    graph = lineage_joined()

    # DEMO_SQLITE is SQLite: `orders` there is `main.orders`, the demo's target.
    assert ("target/main/orders", "target/file_tmp_out_orders/csv") in graph.edges
    assert "orders" not in graph


def test_a_connection_schema_setting_changes_the_join(demo):
    replication_import(name="publish", text=PUBLISH.format(stream="orders", name="orders"))
    assert ("target/main/orders", "target/file_tmp_out_orders/csv") in lineage_joined().edges

    conn = models.Connection.objects.get(name="DEMO_SQLITE")
    connection_save(name=conn.name, fields={"type": "sqlite", "url": "sqlite:///x", "schema": "other"})

    graph = lineage_joined()
    assert ("target/main/orders", "target/file_tmp_out_orders/csv") not in graph.edges
    assert graph.nodes["orders"]["kind"] == "source"


def test_the_graph_is_kept_until_something_it_is_built_from_changes(demo):
    first = lineage_joined()
    assert lineage_joined() is first

    models.DownstreamAsset.objects.filter(key="reports/weekly_revenue").update(description="changed")
    second = lineage_joined()
    assert second is not first
    assert second.nodes["reports/weekly_revenue"]["description"] == "changed"

    replication_import(name="publish", text=PUBLISH.format(stream="main.products", name="p"))
    third = lineage_joined()
    assert third is not second and "target/file_tmp_out_p/csv" in third
    # One replication's graph is a graph of its own: `publish` reads the demo's table, so
    # its asset is drawn there as context.
    assert lineage_joined("demo").nodes["target/file_tmp_out_p/csv"]["context"] is True
    assert "context" not in lineage_joined("publish").nodes["target/file_tmp_out_p/csv"]


def test_the_selection_and_the_command_share_one_document(demo):
    text = lineage_document(selector="+target/main/orders", fmt="json")
    dot = lineage_document(replication="demo", fmt="dot")

    assert text.startswith('{"nodes": [') and text.endswith("}\n")
    assert dot.startswith("digraph lineage {")
    with pytest.raises(NotFound):
        lineage_document(replication="nope")


def test_the_last_status_of_each_stream_comes_from_its_latest_run(demo):
    orders, products = "file://demo/data/orders.csv", "file://demo/data/products.csv"
    old = models.Run.objects.create(replication=demo, replication_name="demo", status="failed")
    models.RunStream.objects.create(run=old, position=0, name=orders, status="failed")
    models.RunStream.objects.create(run=old, position=1, name=products, status="succeeded")
    new = models.Run.objects.create(replication=demo, replication_name="demo", status="succeeded")
    models.RunStream.objects.create(run=new, position=0, name=orders, status="succeeded")
    # A stream the latest run skipped keeps the status it last had.
    models.RunStream.objects.create(run=new, position=1, name=products, status="skipped")

    statuses = lineage_stream_status([("demo", orders), ("demo", products), ("demo", "never")])

    assert statuses == {("demo", orders): "succeeded", ("demo", products): "succeeded"}


def test_suggestions_put_keys_starting_with_the_text_first(demo):
    assert lineage_suggest("analytics") == [
        "analytics/customer_orders",
        "analytics/revenue_by_product",
    ]
    assert lineage_suggest("   ") == []


def test_a_downstream_asset_is_saved_and_updated(demo):
    asset = downstream_save(key="marts/a", deps=["target/main/orders"], group="marts", tags=["x"])
    assert (asset.key, asset.deps, asset.group, asset.tags) == (
        "marts/a",
        ["target/main/orders"],
        "marts",
        ["x"],
    )

    downstream_save(key="marts/b", deps=["marts/a"], instance=None)
    with pytest.raises(Refused, match="already depends on"):
        downstream_save(key="marts/a", deps=["marts/b"], instance=asset)
    updated = downstream_save(key="marts/a", deps=["target/main/customers"], instance=asset)
    assert updated.pk == asset.pk and updated.deps == ["target/main/customers"]

    downstream_delete(instance=updated)
    assert not models.DownstreamAsset.objects.filter(key="marts/a").exists()
