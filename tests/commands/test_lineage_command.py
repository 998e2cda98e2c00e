from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from studio.services.replications import replication_import

CUSTOMERS_SRC = ["file_demo_data_customers", "csv"]
ORDERS_SRC = ["file_demo_data_orders", "csv"]
PRODUCTS_SRC = ["file_demo_data_products", "csv"]
CUSTOMERS = ["target", "main", "customers"]
ORDERS = ["target", "main", "orders"]
PRODUCTS = ["target", "main", "products"]
CUSTOMER_ORDERS = ["analytics", "customer_orders"]
REVENUE = ["analytics", "revenue_by_product"]
WEEKLY = ["reports", "weekly_revenue"]


@pytest.fixture
def demo(db, settings):
    # The demo creates a user; the default hasher would take most of the test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", stdout=io.StringIO())


def lineage(*args: str) -> str:
    out = io.StringIO()
    call_command("lineage", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def lineage_json(*args: str) -> dict:
    return json.loads(lineage(*args))


def node_keys(data: dict) -> list[tuple[list[str], str]]:
    return [(node["key"], node["kind"]) for node in data["nodes"]]


def lineage_fails(*args: str) -> str:
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("lineage", *args, stdout=io.StringIO(), stderr=err)
    assert exc.value.code == 1
    return err.getvalue()


def test_it_prints_the_demo_graph_as_json(demo):
    data = lineage_json("demo")

    assert node_keys(data) == [
        (CUSTOMERS_SRC, "source"),
        (ORDERS_SRC, "source"),
        (PRODUCTS_SRC, "source"),
        (CUSTOMERS, "target"),
        (ORDERS, "target"),
        (PRODUCTS, "target"),
        (CUSTOMER_ORDERS, "downstream"),
        (REVENUE, "downstream"),
        (WEEKLY, "downstream"),
    ]
    assert data["edges"] == [
        [REVENUE, WEEKLY],
        [CUSTOMERS_SRC, CUSTOMERS],
        [ORDERS_SRC, ORDERS],
        [PRODUCTS_SRC, PRODUCTS],
        [CUSTOMERS, CUSTOMER_ORDERS],
        [ORDERS, CUSTOMER_ORDERS],
        [ORDERS, REVENUE],
        [PRODUCTS, REVENUE],
    ]


def test_its_target_nodes_carry_the_stream_details(demo):
    data = lineage_json("demo")

    orders = next(node for node in data["nodes"] if node["key"] == ORDERS)
    assert orders == {
        "key": ORDERS,
        "kind": "target",
        "replication": "demo",
        "stream": "file://demo/data/orders.csv",
        "connection": "DEMO_SQLITE",
        "object": "main.orders",
        "mode": "incremental",
        "group": "shop",
        "tags": ["finance"],
    }


def test_it_selects_a_node_and_its_ancestors(demo):
    data = lineage_json("demo", "--select", "+analytics/customer_orders")

    assert node_keys(data) == [
        (CUSTOMERS_SRC, "source"),
        (ORDERS_SRC, "source"),
        (CUSTOMERS, "target"),
        (ORDERS, "target"),
        (CUSTOMER_ORDERS, "downstream"),
    ]
    assert data["edges"] == [
        [CUSTOMERS_SRC, CUSTOMERS],
        [ORDERS_SRC, ORDERS],
        [CUSTOMERS, CUSTOMER_ORDERS],
        [ORDERS, CUSTOMER_ORDERS],
    ]


def test_it_selects_one_level_down(demo):
    data = lineage_json("demo", "--select", "target/main/orders+1")

    assert node_keys(data) == [
        (ORDERS, "target"),
        (CUSTOMER_ORDERS, "downstream"),
        (REVENUE, "downstream"),
    ]
    assert data["edges"] == [[ORDERS, CUSTOMER_ORDERS], [ORDERS, REVENUE]]


def test_it_selects_all_levels_down(demo):
    data = lineage_json("demo", "--select", "target/main/orders+")

    assert [key for key, _ in node_keys(data)] == [ORDERS, CUSTOMER_ORDERS, REVENUE, WEEKLY]


def test_it_selects_a_group(demo):
    data = lineage_json("demo", "--select", "group:analytics")

    assert node_keys(data) == [(CUSTOMER_ORDERS, "downstream"), (REVENUE, "downstream")]
    assert data["edges"] == []


def test_it_prints_dot(demo):
    text = lineage("demo", "--format", "dot")

    assert text.startswith("digraph lineage {\n")
    assert '  "target/main/orders" -> "analytics/customer_orders";\n' in text
    assert '  "file_demo_data_orders/csv" [shape=ellipse, label="file_demo_data_orders/csv"];\n' in text
    assert text.endswith("}\n")
    assert text.count(" -> ") == 8


def test_it_fails_for_an_unknown_replication(demo):
    err = lineage_fails("nope")

    assert err.splitlines() == ["error: no replication named `nope`"]


def test_it_fails_for_a_selector_that_matches_nothing(demo):
    err = lineage_fails("demo", "--select", "target/main/nothing")

    assert err.splitlines() == ["error: `target/main/nothing` matches no asset"]


def test_it_covers_every_replication_without_a_name(demo):
    replication_import(
        name="crm",
        text="source: CRM\ntarget: DEMO_SQLITE\nstreams:\n  public.leads:\n    object: main.leads\n",
    )

    everything = lineage_json()
    only_demo = lineage_json("demo")
    only_crm = lineage_json("crm")

    all_keys = [key for key, _ in node_keys(everything)]
    assert ["public", "leads"] in all_keys
    assert ["target", "main", "leads"] in all_keys
    assert ORDERS in all_keys
    assert len(everything["nodes"]) == len(only_demo["nodes"]) + 2
    assert [["public", "leads"], ["target", "main", "leads"]] in everything["edges"]
    assert ["target", "main", "leads"] not in [key for key, _ in node_keys(only_demo)]
    # One replication's lineage has only the downstream assets that read it: none read crm.
    assert node_keys(only_crm) == [(["public", "leads"], "source"), (["target", "main", "leads"], "target")]


CLASH = "source: CRM\ntarget: DEMO_SQLITE\nstreams:\n  public.orders:\n    object: main.orders\n"


def test_check_fails_when_two_replications_define_one_asset_key(demo):
    assert call_command("lineage", "--check", stdout=io.StringIO(), stderr=io.StringIO()) is None
    replication_import(name="crm", text=CLASH)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exit:
        call_command("lineage", "--check", stdout=out, stderr=err)

    assert exit.value.code == 1
    assert err.getvalue().strip() == (
        "error: asset key `target/main/orders` is defined by replication crm (stream public.orders) "
        "and replication demo (stream file://demo/data/orders.csv): Dagster refuses two assets with "
        "one key"
    )
    # Both assets are in the document, each with its own replication: neither vanished.
    orders = [node for node in json.loads(out.getvalue())["nodes"] if node["key"] == ORDERS]
    assert [(node["replication"], node["kind"]) for node in orders] == [("crm", "target"), ("demo", "target")]


def test_without_check_a_conflict_is_a_warning(demo):
    replication_import(name="crm", text=CLASH)
    err = io.StringIO()

    call_command("lineage", "crm", stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith("warning: asset key `target/main/orders` is defined by")
