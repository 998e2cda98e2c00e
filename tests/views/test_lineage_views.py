"""The lineage page and its htmx parts: graph, node and group panels, search, paths,
exports, and the downstream assets edited from the page."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from studio import models
from studio.selectors.lineage import lineage_joined
from studio.services.replications import replication_import

HX = {"HX-Request": "true"}
ORDERS = "target/main/orders"


def graph_data(response) -> dict:
    """The elements the page hands cytoscape (the json_script block)."""
    match = re.search(
        r'<script id="lineage-data" type="application/json">(.*?)</script>', response.text, re.S
    )
    assert match, "no #lineage-data in the response"
    return json.loads(match.group(1))


def drawn_keys(response) -> set[str]:
    return {e["data"]["key"] for e in graph_data(response)["elements"] if "key" in e["data"]}


def lineage_command(*args: str) -> str:
    out = io.StringIO()
    call_command("lineage", *args, stdout=out)
    return out.getvalue()


# --- access -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/lineage/",
        "/lineage/node/?key=a",
        "/lineage/group/?unit=a",
        "/lineage/suggest/?q=a",
        "/lineage/find/?q=a",
        "/lineage/path/?from=a&to=b",
        "/lineage/export/json/",
        "/lineage/downstream/new/",
        "/lineage/downstream/1/",
    ],
)
def test_it_sends_strangers_to_sign_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_it_refuses_a_stranger_deleting_an_asset(client, demo):
    asset = models.DownstreamAsset.objects.first()

    response = client.post(f"/lineage/downstream/{asset.pk}/delete/")

    assert response.status_code == 302
    assert models.DownstreamAsset.objects.filter(pk=asset.pk).exists()


# --- the graph ----------------------------------------------------------------------


def test_it_draws_every_asset_of_the_demo(client, user, demo):
    response = client.get("/lineage/")

    assert response.status_code == 200
    assert "<h1>Lineage</h1>" in response.text
    assert drawn_keys(response) == {node for node in lineage_joined()}
    data = graph_data(response)
    # Small views are laid out by cytoscape-dagre in the browser.
    assert data["layout"] == "dagre"
    edges = [e["data"] for e in data["elements"] if "source" in e["data"]]
    assert len(edges) == 8
    assert 'src="/static/vendor/cytoscape/cytoscape.min.js"' in response.text
    assert '<a href="/lineage/" aria-current="page">Lineage</a>' in response.text


def test_its_nodes_say_where_the_data_lands(client, user, demo):
    data = graph_data(client.get("/lineage/"))

    orders = next(e["data"] for e in data["elements"] if e["data"].get("key") == ORDERS)
    assert orders["kind"] == "target"
    assert orders["label"].splitlines() == [ORDERS, "main.orders", "DEMO_SQLITE · incremental"]


def test_the_htmx_request_gets_only_the_graph_partial(client, user, demo):
    response = client.get("/lineage/", {"select": f"+{ORDERS}"}, headers=HX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.strip().startswith('<div id="lineage-graph"')
    assert drawn_keys(response) == {"file_demo_data_orders/csv", ORDERS}
    assert "2 assets selected by <code>+target/main/orders</code>" in response.text


def test_one_replication_can_be_drawn_alone(client, user, demo, make_replication):
    make_replication("other", streams=2)

    response = client.get("/lineage/", {"replication": "other"})

    kinds = {
        e["data"]["key"]: e["data"]["kind"] for e in graph_data(response)["elements"] if "key" in e["data"]
    }
    assert kinds["target/raw/t0000"] == "target"
    # As in `lineage other`: no downstream asset reads `other`, so none is drawn, nor the demo.
    assert ORDERS not in kinds and not any(kind == "downstream" for kind in kinds.values())


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("target/main/nothing", "`target/main/nothing` matches no asset"),
        ("group:nope", "`group:nope` matches no asset"),
        ("+", "`+` matches no asset"),
        ("2+ +3", "`2+` matches no asset"),
    ],
)
def test_a_bad_selector_is_explained_in_place(client, user, demo, select, message):
    for headers in ({}, HX):
        response = client.get("/lineage/", {"select": select}, headers=headers)

        assert response.status_code == 422
        assert message in response.text
        # The canvas is cleared rather than left showing another selection.
        assert graph_data(response)["elements"] == []


def test_an_unknown_replication_is_not_found(client, user, demo):
    response = client.get("/lineage/", {"replication": "nope"})

    assert response.status_code == 404
    assert "no replication named `nope`" in response.text


def test_an_unknown_grouping_is_refused(client, user, demo):
    response = client.get("/lineage/", {"group": "colour"}, headers=HX)

    assert response.status_code == 422
    assert "cannot group by `colour`" in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"select": "+" * 5000},
        {"select": "((((]]]**??"},
        {"select": "\x00\x01 \ud7ff \u2603 \U0001d54f"},
        {"select": "99999999999999999999+target/main/orders+99999999999999999999"},
        {"select": "kind: tag: group:"},
        {"replication": "../../etc/passwd"},
        {"replication": "demo\x00", "select": "\x00"},
        {"replication": "x" * 10_000},
        {"group": "%%%"},
        {"expand": ["#", "#~", "#@", "a#~99999999999", "DEMO_SQLITE#@x#~-1"] * 30},
    ],
)
def test_hostile_input_never_breaks_the_page(client, user, demo, params):
    for headers in ({}, HX):
        response = client.get("/lineage/", params, headers=headers)

        # A NUL in the query is refused before the view (400: tests/views/test_nul_characters.py).
        nul = any("\x00" in str(value) for value in params.values())
        assert response.status_code == 400 if nul else response.status_code in (200, 404, 422)


def test_grouping_draws_boxes_with_positions_from_the_server(client, user, demo):
    data = graph_data(client.get("/lineage/", {"group": "schema"}))

    boxes = [e["data"] for e in data["elements"] if e["data"].get("kind") == "box"]
    assert {b["label"] for b in boxes} == {"LOCAL demo/data", "DEMO_SQLITE.main", "analytics", "reports"}
    assert data["layout"] == "preset"
    assert all("position" in e for e in data["elements"] if e["data"].get("key"))


def test_a_big_graph_arrives_folded_and_opens_group_by_group(client, user, make_replication):
    make_replication("big", streams=400)

    folded = graph_data(client.get("/lineage/"))
    units = {
        e["data"]["unit"]: e["data"]["count"] for e in folded["elements"] if e["data"].get("kind") == "group"
    }
    assert units == {"PG": 400, "SNOW": 400}
    assert folded["layout"] == "preset"

    # 400 assets cannot be drawn within 300 nodes: SNOW splits into ranges of keys...
    split = graph_data(client.get("/lineage/", {"expand": "SNOW"}, headers=HX))
    parts = [e["data"]["unit"] for e in split["elements"] if e["data"].get("kind") == "group"]
    assert len(parts) == 1 + 12 and "SNOW#~0" in parts
    # ...which open one by one, inside a box.
    opened = client.get("/lineage/", {"expand": ["SNOW", "SNOW#~0"]}, headers=HX)
    assert drawn_keys(opened) == {f"target/raw/t{i:04}" for i in range(34)}
    assert any(e["data"].get("kind") == "box" for e in graph_data(opened)["elements"])


def test_the_last_run_status_of_a_stream_shows_on_its_node(client, user, demo):
    run = models.Run.objects.create(replication=demo, replication_name="demo", status="failed")
    models.RunStream.objects.create(run=run, position=0, name="file://demo/data/orders.csv", status="failed")

    data = graph_data(client.get("/lineage/"))
    panel = client.get("/lineage/node/", {"key": ORDERS}, headers=HX)

    orders = next(e["data"] for e in data["elements"] if e["data"].get("key") == ORDERS)
    assert orders["status"] == "failed"
    assert '<span class="status failed" title="last run of this stream">failed</span>' in panel.text


def test_replications_reading_each_others_tables_are_drawn_as_one_path(client, user, demo):
    replication_import(
        name="publish",
        text="source: DEMO_SQLITE\ntarget: LOCAL\nstreams:\n  Orders:\n    object: file:///tmp/x/orders.csv\n",
    )

    data = graph_data(client.get("/lineage/"))

    ids = {e["data"]["id"]: e["data"].get("key") for e in data["elements"] if "key" in e["data"]}
    edges = {
        (ids[e["data"]["source"]], ids[e["data"]["target"]])
        for e in data["elements"]
        if "source" in e["data"]
    }
    assert (ORDERS, "target/file_tmp_x_orders/csv") in edges
    assert "orders" not in ids.values()


# --- exports ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "args"),
    [
        ({}, []),
        ({"replication": "demo"}, ["demo"]),
        ({"select": f"+{ORDERS}+"}, ["--select", f"+{ORDERS}+"]),
        (
            {"replication": "demo", "select": "group:analytics tag:finance"},
            ["demo", "--select", "group:analytics tag:finance"],
        ),
    ],
)
def test_the_json_export_is_what_the_lineage_command_prints(client, user, demo, params, args):
    response = client.get("/lineage/export/json/", params)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content.decode() == lineage_command(*args)


def test_the_dot_export_is_what_the_lineage_command_prints(client, user, demo):
    response = client.get("/lineage/export/dot/", {"select": "group:shop"})

    assert response.content.decode() == lineage_command("--format", "dot", "--select", "group:shop")
    assert response["Content-Disposition"] == 'attachment; filename="lineage.dot"'


def test_a_bad_export_says_why(client, user, demo):
    assert client.get("/lineage/export/svg/").status_code == 404
    bad = client.get("/lineage/export/json/", {"select": "nope"})
    assert bad.status_code == 422
    assert bad.content.decode() == "error: `nope` matches no asset\n"
    assert client.get("/lineage/export/json/", {"replication": "nope"}).status_code == 404


# --- panels -------------------------------------------------------------------------


def test_a_target_nodes_panel_has_its_stream_config_yaml_and_editor_link(client, user, demo):
    stream = models.Stream.objects.get(replication=demo, name="file://demo/data/orders.csv")

    response = client.get("/lineage/node/", {"key": ORDERS}, headers=HX)

    assert response.status_code == 200
    assert "<html" not in response.text
    text = response.text
    assert '<h2 title="target/main/orders">target/main/orders</h2>' in text
    assert "target, main, orders" in text
    assert '<dd class="mono">main.orders</dd>' in text
    assert '<span class="conn">DEMO_SQLITE</span>' in text
    assert "<dd>incremental</dd>" in text
    assert f'href="/r/demo/streams/{stream.pk}/"' in text
    # The stream's runs and its Run button (the signed-in user may run).
    runs = text.split('<div id="node-runs">')[1].split("</div>")[0]
    assert "Never run." in runs
    assert f'hx-post="/r/demo/streams/{stream.pk}/run/"' in runs
    # The effective config carries the defaults; the stream YAML only its own keys.
    effective, own = text.split("Effective config")[1].split("Stream YAML")
    assert "format: csv" in effective and "primary_key: [order_id]" in effective
    assert "file://demo/data/orders.csv:\n  mode: incremental" in own and "format: csv" not in own
    assert "analytics/customer_orders" in text.split("Read by")[1]


def test_a_downstream_nodes_panel_offers_edit_and_delete(client, user, demo):
    asset = models.DownstreamAsset.objects.get(key="reports/weekly_revenue")

    text = client.get("/lineage/node/", {"key": asset.key}, headers=HX).text

    assert f'hx-get="/lineage/downstream/{asset.pk}/"' in text
    assert f'hx-post="/lineage/downstream/{asset.pk}/delete/"' in text
    assert "The Monday revenue e-mail" in text


def test_a_panel_opened_without_htmx_is_a_page(client, user, demo):
    response = client.get("/lineage/node/", {"key": ORDERS})

    assert "<html" in response.text and 'id="lineage-panel"' in response.text


def test_an_unknown_node_is_not_found(client, user, demo):
    response = client.get("/lineage/node/", {"key": "no/such/asset"}, headers=HX)

    assert response.status_code == 404
    assert "no asset `no/such/asset` in this graph" in response.text


def test_a_group_panel_lists_its_assets_and_offers_to_open_it(client, user, demo):
    response = client.get("/lineage/group/", {"unit": "DEMO_SQLITE", "by": "connection,schema"}, headers=HX)

    assert response.status_code == 200
    assert 'data-expand="DEMO_SQLITE"' in response.text
    assert all(key in response.text for key in ("target/main/customers", ORDERS, "target/main/products"))
    opened = client.get(
        "/lineage/group/", {"unit": "DEMO_SQLITE", "by": "connection", "expand": "DEMO_SQLITE"}
    )
    assert 'data-collapse="DEMO_SQLITE"' in opened.text


@pytest.mark.parametrize(("unit", "by"), [("nope", "connection"), ("DEMO_SQLITE", "colour"), ("", "")])
def test_an_unknown_group_is_explained(client, user, demo, unit, by):
    response = client.get("/lineage/group/", {"unit": unit, "by": by}, headers=HX)

    assert response.status_code in (404, 422)
    assert 'class="problems refused"' in response.text


def test_search_suggests_keys_as_you_type(client, user, demo):
    response = client.get("/lineage/suggest/", {"q": "ORD"}, headers=HX)

    options = re.findall(r'<option value="([^"]+)">', response.text)
    assert options[0] == ORDERS  # starts with the text? no: shortest first among contains
    assert set(options) == {ORDERS, "analytics/customer_orders", "file_demo_data_orders/csv"}


def test_the_selector_box_suggests_keys_for_its_last_term(client, user, demo):
    response = client.get("/lineage/suggest/", {"select": "tag:pii 2+target/ma"}, headers=HX)

    options = re.findall(r'<option value="([^"]+)">', response.text)
    assert "tag:pii 2+target/main/orders" in options


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "x" * 5000}, {"select": "+"}, {"replication": "nope", "q": "a"}]
)
def test_suggestions_never_fail(client, user, demo, params):
    response = client.get("/lineage/suggest/", params, headers=HX)

    assert response.status_code == 200


def test_find_lists_every_key_containing_the_text(client, user, demo):
    response = client.get("/lineage/find/", {"q": "ORD"}, headers=HX)

    found = re.findall(r'data-lineage-find="([^"]+)"', response.text)
    assert set(found) == {ORDERS, "analytics/customer_orders", "file_demo_data_orders/csv"}
    assert "3 assets containing <code>ORD</code>" in response.text


def test_find_says_when_nothing_matches_or_there_are_too_many(client, user, make_replication):
    make_replication("big", streams=80)

    nothing = client.get("/lineage/find/", {"q": "no-such-asset"}, headers=HX)
    many = client.get("/lineage/find/", {"q": "t"}, headers=HX)

    assert "No asset contains <code>no-such-asset</code>" in nothing.text
    assert len(re.findall(r"data-lineage-find=", many.text)) == 50
    assert "50+ assets containing" in many.text and "type more to narrow" in many.text


@pytest.mark.parametrize("params", [{}, {"q": "x" * 5000}, {"replication": "nope", "q": "a"}])
def test_find_never_fails(client, user, demo, params):
    response = client.get("/lineage/find/", params, headers=HX)

    assert response.status_code in (200, 404)
    assert "Traceback" not in response.text


def test_the_path_between_two_assets_is_listed_and_sent_to_the_graph(client, user, demo):
    response = client.get(
        "/lineage/path/", {"from": "file_demo_data_orders/csv", "to": "reports/weekly_revenue"}, headers=HX
    )

    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger"])["lineagePath"]
    assert trigger["shortest"] == [
        "file_demo_data_orders/csv",
        ORDERS,
        "analytics/revenue_by_product",
        "reports/weekly_revenue",
    ]
    assert sorted(trigger["keys"]) == sorted(trigger["shortest"])
    assert "<code>target/main/orders</code> →" in response.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "target/main/customers", "to": "analytics/revenue_by_product"}, "no path between"),
        ({"from": "nope", "to": ORDERS}, "`nope` is not an asset"),
        ({"from": ORDERS}, "name two assets"),
    ],
)
def test_no_path_is_explained(client, user, demo, params, message):
    response = client.get("/lineage/path/", params, headers=HX)

    assert response.status_code == 422
    assert message in response.text.replace("&#x60;", "`")


# --- downstream assets --------------------------------------------------------------


def test_the_new_asset_form_is_a_fragment_for_htmx(client, user, demo):
    response = client.get("/lineage/downstream/new/", {"dep": ORDERS}, headers=HX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'hx-post="/lineage/downstream/new/"' in response.text
    assert ORDERS in response.text


def test_it_adds_a_downstream_asset(client, user, demo):
    response = client.post(
        "/lineage/downstream/new/",
        {
            "key": " marts / orders_daily ",
            "deps": f"{ORDERS}\nanalytics/customer_orders, {ORDERS}\nnot/yet/defined",
            "description": "Daily orders",
            "group": "marts",
            "tags": "finance, daily",
        },
        headers=HX,
    )

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"graphChanged": {}}
    assert '<span class="ok">Saved</span>' in response.text
    asset = models.DownstreamAsset.objects.get(key="marts/orders_daily")
    assert asset.deps == [ORDERS, "analytics/customer_orders", "not/yet/defined"]
    assert (asset.description, asset.group, asset.tags) == ("Daily orders", "marts", ["finance", "daily"])
    # The graph has it at once, and a dep nothing defines is drawn as a source.
    graph = lineage_joined()
    assert set(graph.predecessors("marts/orders_daily")) == {
        ORDERS,
        "analytics/customer_orders",
        "not/yet/defined",
    }
    assert graph.nodes["not/yet/defined"]["kind"] == "source"


def test_it_adds_without_htmx_and_goes_to_the_new_asset(client, user, demo):
    response = client.post("/lineage/downstream/new/", {"key": "marts/x", "deps": ORDERS})

    assert response.status_code == 302
    assert response.url == "/lineage/?select=marts%2Fx"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"key": ""}, "key", "This field is required."),
        ({"key": "a//b"}, "key", "none of them empty"),
        ({"key": "/a"}, "key", "none of them empty"),
        ({"key": "a b/c"}, "key", "letters, digits, `_`, `-` and `.` only"),
        ({"key": "a+/b"}, "key", "letters, digits"),
        ({"key": "ok/key", "deps": "good/dep\nbad//dep"}, "deps", "none of them empty"),
        ({"key": "ok/key", "group": "not a group"}, "group", "letters, digits and `_` only"),
        ({"key": ORDERS}, "key", "is the asset of a replication stream"),
        ({"key": "reports/weekly_revenue"}, "key", "a downstream asset `reports/weekly_revenue` exists"),
        ({"key": "ok/key", "deps": "ok/key"}, "deps", "cannot depend on itself"),
        ({"key": "analytics/customer_orders2", "deps": "x" * 20_001}, "deps", "at most 20000 characters"),
    ],
)
def test_it_refuses_bad_assets_with_the_reason(client, user, demo, data, field, message):
    before = models.DownstreamAsset.objects.count()

    response = client.post("/lineage/downstream/new/", data, headers=HX)

    assert response.status_code == 422
    assert message in response.text.replace("&#x60;", "`")
    assert models.DownstreamAsset.objects.count() == before


def test_it_refuses_a_dependency_cycle(client, user, demo):
    weekly = models.DownstreamAsset.objects.get(key="analytics/revenue_by_product")

    response = client.post(
        f"/lineage/downstream/{weekly.pk}/",
        {"key": weekly.key, "deps": "reports/weekly_revenue", "version": "1"},
        headers=HX,
    )

    assert response.status_code == 422
    assert "already depends on" in response.text.replace("&#x60;", "`")
    weekly.refresh_from_db()
    assert weekly.deps == ["target/main/orders", "target/main/products"]


def test_it_edits_a_downstream_asset(client, user, demo):
    asset = models.DownstreamAsset.objects.get(key="reports/weekly_revenue")
    form = client.get(f"/lineage/downstream/{asset.pk}/", headers=HX)
    assert "analytics/revenue_by_product</textarea>" in form.text

    response = client.post(
        f"/lineage/downstream/{asset.pk}/",
        {
            "key": "reports/weekly",
            "deps": "analytics/revenue_by_product\nanalytics/customer_orders",
            "version": "1",
        },
        headers=HX,
    )

    assert response.status_code == 200
    asset.refresh_from_db()
    assert asset.key == "reports/weekly"
    assert asset.deps == ["analytics/revenue_by_product", "analytics/customer_orders"]
    assert asset.description == ""


def test_it_refuses_to_rename_an_asset_others_read(client, user, demo):
    asset = models.DownstreamAsset.objects.get(key="analytics/revenue_by_product")

    response = client.post(
        f"/lineage/downstream/{asset.pk}/",
        {"key": "analytics/revenue", "deps": ORDERS, "version": "1"},
        headers=HX,
    )

    assert response.status_code == 422
    assert "is read by reports/weekly_revenue" in response.text.replace("&#x60;", "`")


def test_it_deletes_a_downstream_asset(client, user, demo):
    asset = models.DownstreamAsset.objects.get(key="reports/weekly_revenue")

    response = client.post(f"/lineage/downstream/{asset.pk}/delete/", headers=HX)

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"graphChanged": {}}
    assert "Deleted <code>reports/weekly_revenue</code>" in response.text
    assert not models.DownstreamAsset.objects.filter(pk=asset.pk).exists()
    assert "reports/weekly_revenue" not in lineage_joined()


def test_delete_takes_only_post_and_unknown_assets_are_not_found(client, user, demo):
    asset = models.DownstreamAsset.objects.first()

    assert client.get(f"/lineage/downstream/{asset.pk}/delete/").status_code == 405
    assert client.post("/lineage/downstream/99999/delete/", headers=HX).status_code == 404
    assert client.get("/lineage/downstream/99999/", headers=HX).status_code == 404
    assert client.post(reverse("lineage-downstream-delete", args=[asset.pk])).status_code == 302


def test_a_viewer_reads_the_graph_but_changes_no_asset(client, demo):
    client.force_login(get_user_model().objects.get(username="viewer"))
    asset = models.DownstreamAsset.objects.get(key="reports/weekly_revenue")

    page = client.get("/lineage/")
    panel = client.get("/lineage/node/", {"key": asset.key}, headers=HX)

    assert page.status_code == 200 and "Add downstream asset" not in page.text
    assert (
        panel.status_code == 200
        and "/delete/" not in panel.text
        and "Add an asset reading this" not in panel.text
    )
    assert client.get("/lineage/downstream/new/", headers=HX).status_code == 403
    refused = client.post(f"/lineage/downstream/{asset.pk}/", {"key": "x/y"}, headers=HX)
    assert refused.status_code == 403
    assert "You need the editor role" in refused.text
    assert client.post(f"/lineage/downstream/{asset.pk}/delete/", headers=HX).status_code == 403
    asset.refresh_from_db()
    assert asset.key == "reports/weekly_revenue"
