"""Streams in the editor: add, the stream form and its live check, renames and bulk actions."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from studio import models

HTMX = {"HX-Request": "true"}
ORDERS = "file://demo/data/orders.csv"


def export(name: str) -> str:
    out = io.StringIO()
    call_command("export_replication", name, stdout=out)
    return out.getvalue()


def stream(replication: models.Replication, name: str) -> models.Stream:
    return replication.streams.get(name=name)


def stream_form(client, form_values, replication: models.Replication, name: str) -> dict[str, str]:
    """The stream form as the panel shows it, with the replication's version."""
    pk = stream(replication, name).pk
    panel = client.get(f"/r/{replication.name}/streams/{pk}/", headers=HTMX)
    replication.refresh_from_db()
    return {**form_values(panel.content, "stream-form"), "version": str(replication.version)}


def names(replication: models.Replication) -> list[str]:
    return list(replication.streams.order_by("position").values_list("name", flat=True))


# --- add -------------------------------------------------------------------------


def test_adding_a_stream_puts_it_at_the_end_and_opens_it(client, user, demo):
    response = client.post(
        "/r/demo/streams/add/",
        {"name": " file://demo/data/refunds.csv ", "object": "main.refunds", "version": "1"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"replicationChanged": {}}'
    html = response.content.decode()
    assert '<h2 title="file://demo/data/refunds.csv">file://demo/data/refunds.csv</h2>' in html
    assert '<dd class="mono">target/main/refunds</dd>' in html
    assert '<input type="hidden" id="version" name="version" value="2" hx-swap-oob="true">' in html
    demo.refresh_from_db()
    assert demo.version == 2
    added = stream(demo, "file://demo/data/refunds.csv")
    assert (added.position, added.config, added.object) == (3, {"object": "main.refunds"}, "main.refunds")
    assert demo.revisions.get(version=2).summary == "added file://demo/data/refunds.csv"


def test_adding_a_stream_without_object_stores_it_bare(client, user, make_replication):
    replication = make_replication("shop", defaults={"object": "raw.{stream_table}"})

    response = client.post("/r/shop/streams/add/", {"name": "public.users", "version": "1"}, headers=HTMX)

    assert response.status_code == 200
    assert "raw.users" in response.content.decode()
    assert stream(replication, "public.users").config is None
    assert "  public.users:\n" in export("shop")


def test_adding_an_existing_stream_is_refused(client, user, demo):
    response = client.post(
        "/r/demo/streams/add/", {"name": ORDERS, "object": "x.y", "version": "1"}, headers=HTMX
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#notices"
    assert "a stream with this name exists" in response.content.decode()
    demo.refresh_from_db()
    assert demo.version == 1
    assert stream(demo, ORDERS).object == "main.orders"


def test_adding_a_stream_that_breaks_validation_is_refused(client, user, shop):
    # shop has no default object: a stream without one cannot be run.
    response = client.post("/r/shop/streams/add/", {"name": "public.users", "version": "1"}, headers=HTMX)

    assert response.status_code == 422
    assert "no `object`: set the target table or file here or in `defaults`" in response.content.decode()
    assert names(shop) == ["public.t0000", "public.t0001", "public.t0002"]


# --- the stream form -------------------------------------------------------------


def test_the_stream_form_shows_the_current_values(client, user, demo, form_values):
    pk = stream(demo, ORDERS).pk

    response = client.get(f"/r/demo/streams/{pk}/", headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    values = form_values(html, "stream-form")
    assert values["name"] == ORDERS
    assert values["mode"] == "incremental"
    assert values["primary_key"] == "order_id"
    assert values["update_key"] == "ordered_at"
    assert values["object"] == "main.orders"
    assert values["columns"] == "quantity: integer"
    assert values["tags"] == "finance"
    # What the stream inherits from defaults shows as placeholders.
    assert "inherits <code>full-refresh</code> from defaults" in html
    assert 'placeholder="format: csv\nheader: true"' in html
    assert '<dd class="mono">target/main/orders</dd>' in html


def test_the_stream_form_is_a_page_of_its_own_without_htmx(client, user, demo):
    pk = stream(demo, ORDERS).pk

    response = client.get(f"/r/demo/streams/{pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert '<div id="stream-panel" class="card">' in html
    assert '<input type="hidden" id="version" name="version" value="1">' in html


def test_changing_only_the_mode_keeps_every_other_key_as_written(client, user, demo, form_values):
    data = stream_form(client, form_values, demo, ORDERS)
    before = export("demo")
    data["mode"] = "truncate"

    response = client.post(f"/r/demo/streams/{stream(demo, ORDERS).pk}/", data, headers=HTMX)

    assert response.status_code == 200
    assert '<span class="ok">Saved</span>' in response.content.decode()
    orders = stream(demo, ORDERS)
    assert orders.config == {
        "object": "main.orders",
        "mode": "truncate",
        "primary_key": ["order_id"],
        "update_key": "ordered_at",
        "columns": {"quantity": "integer"},
        "tags": ["finance"],
    }
    assert orders.mode == "truncate"
    # The YAML differs by that one line, nothing else moved or changed type.
    assert export("demo") == before.replace("    mode: incremental\n", "    mode: truncate\n")
    assert before != export("demo")


def test_unknown_keys_and_single_text_keys_survive_an_edit(client, user, make_replication, form_values):
    shop = make_replication(
        "shop", streams={"public.users": {"object": "raw.users", "primary_key": "id", "colour": "black"}}
    )
    data = stream_form(client, form_values, shop, "public.users")
    assert data["other_keys"] == "colour: black"
    data["description"] = "People"

    response = client.post(f"/r/shop/streams/{stream(shop, 'public.users').pk}/", data, headers=HTMX)

    assert response.status_code == 200
    assert stream(shop, "public.users").config == {
        "object": "raw.users",
        "primary_key": "id",
        "colour": "black",
        "description": "People",
    }


def test_other_keys_can_be_changed_and_removed(client, user, make_replication, form_values):
    shop = make_replication("shop", streams={"public.users": {"object": "raw.users", "colour": "black"}})
    pk = stream(shop, "public.users").pk
    data = stream_form(client, form_values, shop, "public.users")

    client.post(f"/r/shop/streams/{pk}/", {**data, "other_keys": "colour: white\nsize: 3"}, headers=HTMX)
    after_change = stream(shop, "public.users").config
    data = stream_form(client, form_values, shop, "public.users")
    client.post(f"/r/shop/streams/{pk}/", {**data, "other_keys": ""}, headers=HTMX)

    assert after_change == {"object": "raw.users", "colour": "white", "size": 3}
    assert stream(shop, "public.users").config == {"object": "raw.users"}


def test_an_edit_that_breaks_validation_is_refused_and_changes_nothing(client, user, shop, form_values):
    data = stream_form(client, form_values, shop, "public.t0000")
    data["mode"] = "incremental"

    response = client.post(f"/r/shop/streams/{stream(shop, 'public.t0000').pk}/", data, headers=HTMX)

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#notices"
    html = response.content.decode()
    assert "Not saved: fix these first." in html
    assert "incremental mode needs `primary_key` and/or `update_key`" in html
    shop.refresh_from_db()
    assert shop.version == 1
    assert stream(shop, "public.t0000").config == {"object": "raw.t0000"}


def test_an_unreadable_field_is_refused_under_that_field(client, user, demo, form_values):
    data = stream_form(client, form_values, demo, ORDERS)
    data["columns"] = "quantity: [integer"

    response = client.post(f"/r/demo/streams/{stream(demo, ORDERS).pk}/", data, headers=HTMX)

    assert response.status_code == 422
    html = response.content.decode()
    assert '<div class="field has-error wide">\n  <label for="id_columns">Columns</label>' in html
    assert '<p class="error" id="id_columns_error">line 1: not valid YAML' in html
    # What was typed stays in the field to be corrected.
    assert ">\nquantity: [integer</textarea>" in html
    assert stream(demo, ORDERS).config["columns"] == {"quantity": "integer"}
    demo.refresh_from_db()
    assert demo.version == 1


def test_a_field_error_is_linked_to_its_field_for_screen_readers(client, user, demo, form_values):
    data = {**stream_form(client, form_values, demo, ORDERS), "columns": "[x"}

    html = client.post(f"/r/demo/streams/{stream(demo, ORDERS).pk}/", data, headers=HTMX).content.decode()

    assert 'aria-describedby="id_columns_helptext id_columns_error"' in html
    assert 'id="id_columns_error"' in html


def test_a_stream_can_be_renamed_in_place(client, user, demo, form_values):
    pk = stream(demo, ORDERS).pk
    data = stream_form(client, form_values, demo, ORDERS)
    data["name"] = "file://demo/data/sales.csv"

    response = client.post(f"/r/demo/streams/{pk}/", data, headers=HTMX)

    assert response.status_code == 200
    renamed = stream(demo, "file://demo/data/sales.csv")
    html = response.content.decode()
    assert '<h2 title="file://demo/data/sales.csv">' in html
    # The panel now saves to the renamed stream's row.
    assert f'hx-post="/r/demo/streams/{renamed.pk}/"' in html
    assert names(demo) == ["file://demo/data/customers.csv", "file://demo/data/products.csv", renamed.name]
    assert renamed.config == {
        "object": "main.orders",
        "mode": "incremental",
        "primary_key": ["order_id"],
        "update_key": "ordered_at",
        "columns": {"quantity": "integer"},
        "tags": ["finance"],
    }
    assert client.get(f"/r/demo/streams/{renamed.pk}/").status_code == 200


def test_a_rename_onto_another_stream_is_refused(client, user, demo, form_values):
    pk = stream(demo, ORDERS).pk
    data = stream_form(client, form_values, demo, ORDERS)
    data["name"] = "file://demo/data/products.csv"

    response = client.post(f"/r/demo/streams/{pk}/", data, headers=HTMX)

    assert response.status_code == 422
    assert "another stream has this name" in response.content.decode()
    assert names(demo) == ["file://demo/data/customers.csv", "file://demo/data/products.csv", ORDERS]
    assert stream(demo, "file://demo/data/products.csv").config == {"object": "main.products"}


def test_a_stale_stream_edit_is_a_conflict(client, user, other_client, demo, form_values):
    pk = stream(demo, ORDERS).pk
    alice = stream_form(client, form_values, demo, ORDERS)
    bob = stream_form(other_client, form_values, demo, ORDERS)

    client.post(f"/r/demo/streams/{pk}/", {**alice, "description": "by alice"}, headers=HTMX)
    response = other_client.post(f"/r/demo/streams/{pk}/", {**bob, "description": "by bob"}, headers=HTMX)

    assert response.status_code == 409
    assert "<ins>+    description: by alice</ins>" in response.content.decode()
    assert stream(demo, ORDERS).config["description"] == "by alice"


# --- the live check ----------------------------------------------------------------


def test_the_check_previews_object_and_asset_key_without_saving(client, user, demo, form_values):
    data = stream_form(client, form_values, demo, ORDERS)
    data["object"] = "main.orders_v2"

    response = client.post(f"/r/demo/streams/{stream(demo, ORDERS).pk}/check/", data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="stream-preview" class="preview">')
    assert '<dt>Target object</dt><dd class="mono">main.orders_v2</dd>' in html
    assert '<dt>Dagster asset key</dt><dd class="mono">target/main/orders_v2</dd>' in html
    assert "  object: main.orders_v2\n" in html
    demo.refresh_from_db()
    assert demo.version == 1
    assert stream(demo, ORDERS).config["object"] == "main.orders"


def test_the_check_lists_the_problems_the_edit_would_have(client, user, shop, form_values):
    data = stream_form(client, form_values, shop, "public.t0000")
    data.update(mode="incremental", name="public.t0000")

    response = client.post(f"/r/shop/streams/{stream(shop, 'public.t0000').pk}/check/", data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "incremental mode needs `primary_key` and/or `update_key`" in html
    assert '<dd class="mono">raw.t0000</dd>' in html
    assert stream(shop, "public.t0000").config == {"object": "raw.t0000"}


def test_the_check_resolves_a_renamed_stream_through_defaults(client, user, make_replication, form_values):
    shop = make_replication(
        "shop", target="SNOW", streams={"public.users": None}, defaults={"object": "raw.{stream_table}"}
    )
    data = stream_form(client, form_values, shop, "public.users")
    data["name"] = "sales.orders"

    response = client.post(f"/r/shop/streams/{stream(shop, 'public.users').pk}/check/", data, headers=HTMX)

    html = response.content.decode()
    assert '<dd class="mono">raw.orders</dd>' in html
    # dagster-sling reads only the stream's own `object`, not the one from defaults.
    assert '<dd class="mono">target/sales/orders</dd>' in html


def test_the_check_names_an_unreadable_field(client, user, demo, form_values):
    data = stream_form(client, form_values, demo, ORDERS)
    data["source_options"] = "- not\n- a map"

    response = client.post(f"/r/demo/streams/{stream(demo, ORDERS).pk}/check/", data, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<dt>Target object</dt>" not in html
    assert "<code>source_options</code>" in html
    assert "expected a mapping" in html


# --- bulk actions ------------------------------------------------------------------


def bulk(client, replication, action: str, chosen: list[str], **extra: str):
    ids = [stream(replication, name).pk for name in chosen]
    replication.refresh_from_db()
    data = {"action": action, "streams": ids, "version": str(replication.version), **extra}
    return client.post(f"/r/{replication.name}/streams/bulk/", data, headers=HTMX)


def configs(replication) -> list[tuple[str, object]]:
    return list(replication.streams.order_by("position").values_list("name", "config"))


def test_bulk_disable_and_enable(client, user, shop):
    disabled = bulk(client, shop, "disable", ["public.t0000", "public.t0002"])

    assert disabled.status_code == 200
    # The answer carries the table and the problems: the page fetches neither again.
    assert disabled["HX-Trigger"] == '{"replicationShown": {}}'
    assert '<div id="problems" hx-swap-oob="innerHTML">' in disabled.content.decode()
    assert disabled.content.decode().count('<span class="badge">disabled</span>') == 2
    assert configs(shop) == [
        ("public.t0000", {"object": "raw.t0000", "disabled": True}),
        ("public.t0001", {"object": "raw.t0001"}),
        ("public.t0002", {"object": "raw.t0002", "disabled": True}),
    ]
    assert list(shop.streams.filter(disabled=True).values_list("name", flat=True)) == [
        "public.t0000",
        "public.t0002",
    ]

    enabled = bulk(client, shop, "enable", ["public.t0000"])

    assert enabled.status_code == 200
    assert configs(shop)[0] == ("public.t0000", {"object": "raw.t0000"})
    shop.refresh_from_db()
    assert shop.version == 3


def test_bulk_delete(client, user, shop):
    response = bulk(client, shop, "delete", ["public.t0000", "public.t0001"])

    assert response.status_code == 200
    assert "public.t0000" not in response.content.decode()
    assert names(shop) == ["public.t0002"]
    shop.refresh_from_db()
    assert shop.revisions.get(version=2).summary == "delete 2 stream(s)"


def test_bulk_duplicate_puts_each_copy_after_its_stream(client, user, shop):
    response = bulk(client, shop, "duplicate", ["public.t0001"])

    assert response.status_code == 200
    assert configs(shop) == [
        ("public.t0000", {"object": "raw.t0000"}),
        ("public.t0001", {"object": "raw.t0001"}),
        ("public.t0001_copy", {"object": "raw.t0001"}),
        ("public.t0002", {"object": "raw.t0002"}),
    ]


def test_bulk_duplicate_of_streams_with_one_object_warns_but_saves(client, user, shop):
    # Two streams writing raw.t0001 share one asset key: a warning, not an error.
    bulk(client, shop, "duplicate", ["public.t0001"])

    page = client.get("/r/shop/")

    assert "also the key of stream" in page.content.decode()


def test_bulk_set_mode(client, user, make_replication):
    shop = make_replication(
        "shop",
        streams={"a": {"object": "raw.a"}, "b": {"object": "raw.b"}, "c": None},
        defaults={"object": "raw.{stream_table}"},
    )

    response = bulk(client, shop, "set", ["a", "c"], key="mode", value="truncate")

    assert response.status_code == 200
    assert configs(shop) == [
        ("a", {"object": "raw.a", "mode": "truncate"}),
        ("b", {"object": "raw.b"}),
        ("c", {"mode": "truncate"}),
    ]
    assert list(shop.streams.filter(mode="truncate").values_list("name", flat=True)) == ["a", "c"]


def test_bulk_set_a_yaml_value_and_remove_it_again(client, user, shop):
    bulk(client, shop, "set", ["public.t0000"], key="primary_key", value="[id, region]")
    set_value = configs(shop)[0]

    bulk(client, shop, "set", ["public.t0000"], key="primary_key", value="")

    assert set_value == ("public.t0000", {"object": "raw.t0000", "primary_key": ["id", "region"]})
    assert configs(shop)[0] == ("public.t0000", {"object": "raw.t0000"})


def test_bulk_set_that_breaks_validation_is_refused(client, user, shop):
    response = bulk(client, shop, "set", ["public.t0000"], key="mode", value="incremental")

    assert response.status_code == 422
    assert "incremental mode needs" in response.content.decode()
    assert configs(shop)[0] == ("public.t0000", {"object": "raw.t0000"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "disable"}, "tick streams"),
        ({"action": "set", "streams": "CHOSEN"}, "choose the key to set"),
        ({"action": "explode", "streams": "CHOSEN"}, "Select a valid choice"),
        ({"action": "disable", "streams": ["999999"]}, "Select a valid choice"),
        ({"action": "disable", "streams": ["abc"]}, "Select a valid choice"),
        ({"action": "set", "streams": "CHOSEN", "key": "nonsense", "value": "1"}, "Select a valid choice"),
        ({"action": "set", "streams": "CHOSEN", "key": "mode", "value": "[unclosed"}, "not valid YAML"),
    ],
)
def test_bulk_refuses_unusable_input(client, user, shop, data, message):
    if data.get("streams") == "CHOSEN":
        data["streams"] = [stream(shop, "public.t0000").pk]
    before = configs(shop)

    response = client.post("/r/shop/streams/bulk/", {**data, "version": "1"}, headers=HTMX)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert configs(shop) == before


def test_bulk_refuses_streams_of_another_replication(client, user, shop, demo):
    theirs = stream(demo, ORDERS).pk

    response = client.post(
        "/r/shop/streams/bulk/", {"action": "delete", "streams": [theirs], "version": "1"}, headers=HTMX
    )

    assert response.status_code == 422
    assert demo.streams.count() == 3
    assert shop.streams.count() == 3


# --- hostile input -----------------------------------------------------------------

LONG = "x" * 100_000
SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": LONG, "version": "1"},
        {"name": "   ", "version": "1"},
        {"name": SCRIPT, "object": SCRIPT, "version": "0"},
        {"name": "public.users", "object": LONG, "version": "1"},
        {"name": "public.users", "object": "raw.\x00users", "version": "1"},
    ],
)
def test_stream_add_answers_hostile_input_with_4xx(client, user, shop, data):
    response = client.post("/r/shop/streams/add/", data, headers=HTMX)

    assert 400 <= response.status_code < 500
    assert SCRIPT not in response.content.decode()
    assert names(shop) == ["public.t0000", "public.t0001", "public.t0002"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": ""},
        {"name": LONG},
        {"single": "maybe"},
        {"disabled": ["true", "<script>"]},
        {"mode": SCRIPT},
        {"columns": SCRIPT},
        {"meta": "dagster: [1, 2]"},
        {"meta": "dagster:\n  asset_key: 'a//b'"},
        {"transforms": LONG},
        {"description": "nul\x00"},
        {"columns": "? [a, b]\n: c"},
    ],
)
def test_stream_edit_answers_hostile_input_with_4xx(client, user, shop, form_values, change):
    data = {**stream_form(client, form_values, shop, "public.t0000"), **change}
    pk = stream(shop, "public.t0000").pk

    saved = client.post(f"/r/shop/streams/{pk}/", data, headers=HTMX)
    checked = client.post(f"/r/shop/streams/{pk}/check/", data, headers=HTMX)

    assert 400 <= saved.status_code < 500
    assert checked.status_code == 200
    assert SCRIPT not in saved.content.decode() + checked.content.decode()
    assert stream(shop, "public.t0000").config == {"object": "raw.t0000"}
    shop.refresh_from_db()
    assert shop.version == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_stream_ids_are_404(client, user, shop, demo, method):
    theirs = stream(demo, ORDERS).pk

    assert getattr(client, method)("/r/shop/streams/999999/").status_code == 404
    assert getattr(client, method)(f"/r/shop/streams/{theirs}/").status_code == 404
    assert client.post(f"/r/shop/streams/{theirs}/check/", {"name": "x"}).status_code == 404
    assert client.get("/r/shop/streams/99999999999999999999999/").status_code == 404


def test_the_stream_panel_escapes_script(client, user, make_replication):
    shop = make_replication("shop", streams={SCRIPT: {"object": SCRIPT, "description": SCRIPT}})

    html = client.get(f"/r/shop/streams/{stream(shop, SCRIPT).pk}/", headers=HTMX).content.decode()

    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- wildcards and run-time values ---------------------------------------------------------


@pytest.mark.sling
def test_a_wildcards_matches_are_listed_as_sling_finds_them(
    client, user, data_dir, settings, make_replication, tmp_path
):
    # sling's LOCAL reads relative paths from here (beside the data folder: never open to sling).
    settings.BASE_DIR = tmp_path
    (tmp_path / "drop").mkdir()
    for name in ("a-b.csv", "c.csv", "skip.txt"):
        (tmp_path / "drop" / name).write_text("id\n1\n")
    shop = make_replication(
        "files",
        source="LOCAL",
        target="PG",
        streams={
            "file://drop/*.csv": {"object": "raw.{stream_file_name}"},
            "file://drop/c.csv": {"object": "raw.c"},
        },
    )
    wildcard = shop.streams.get(name="file://drop/*.csv")

    panel = client.get(f"/r/files/streams/{wildcard.pk}/", headers=HTMX).content.decode()
    listed = client.get(f"/r/files/streams/{wildcard.pk}/matches/", headers=HTMX).content.decode()

    assert "sling runs one stream per match" in panel and "raw.*" in panel
    # drop/c.csv has a stream of its own, so the wildcard does not take it.
    assert "matches 1 stream now" in listed
    assert 'drop/a-b.csv</td><td class="mono">raw.a_b</td>' in listed


def test_values_only_a_run_knows_are_said_so(client, user, make_replication):
    shop = make_replication("dated", streams={"public.t": {"object": "raw.t_{YYYY}_{run_timestamp}"}})

    panel = client.get(f"/r/dated/streams/{shop.streams.get().pk}/", headers=HTMX).content.decode()

    assert "raw.t_{YYYY}_{run_timestamp}" in panel
    assert "Known when it runs: <code>{YYYY}</code>, <code>{run_timestamp}</code>" in panel


def test_a_bulk_edit_of_all_matching_takes_every_stream_the_filter_matches_on_every_page(
    client, user, make_replication
):
    big = make_replication("big", streams=250)
    page = client.get("/r/big/streams/?q=t01", headers=HTMX).content.decode()
    assert "all 100 matching" in page  # t0100 to t0199, one page

    data = {"action": "disable", "matching": "1", "q": "t01", "version": "1"}
    response = client.post("/r/big/streams/bulk/", data, headers=HTMX)

    assert response.status_code == 200
    disabled = set(big.streams.filter(disabled=True).values_list("name", flat=True))
    assert disabled == {f"public.t{i:04}" for i in range(100, 200)}
    assert "all 250 streams" in client.get("/r/big/streams/", headers=HTMX).content.decode()


def test_a_bulk_edit_without_ticked_streams_or_all_matching_is_refused(client, user, shop):
    response = client.post("/r/shop/streams/bulk/", {"action": "disable", "version": "1"}, headers=HTMX)

    assert "tick streams" in response.content.decode()
    assert not shop.streams.filter(disabled=True).exists()


# --- what a save of one stream sends back ----------------------------------------


def save_stream(client, replication, stream_name: str, **fields: str):
    pk = stream(replication, stream_name).pk
    replication.refresh_from_db()
    own = replication.streams.get(pk=pk).config or {}
    form = {
        "name": stream_name,
        "object": own.get("object", ""),
        "version": str(replication.version),
        **fields,
    }
    return client.post(f"/r/{replication.name}/streams/{pk}/", form, headers=HTMX)


def oob_rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr [^>]*id="stream-row-(\d+)" hx-swap-oob="true"', html)


def test_a_save_sends_its_row_and_the_problems_and_the_page_fetches_nothing_again(
    client, user, make_replication
):
    rep = make_replication("shop", streams=5)

    response = save_stream(client, rep, "public.t0002", mode="incremental", update_key="updated_at")

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"replicationShown": {}}'
    html = response.content.decode()
    assert oob_rows(html) == [str(stream(rep, "public.t0002").pk)]  # only the row that changed
    row = html[html.index('id="stream-row-') :]
    assert "<td>incremental</td>" in row[: row.index("</tr>")]
    assert '<div id="problems" hx-swap-oob="innerHTML">' in html


def test_a_save_that_gives_another_stream_a_problem_sends_that_row_too(client, user, make_replication):
    rep = make_replication("shop", streams=5)

    # t0001 takes t0003's object: dagster-sling would give both one asset key, and the clash
    # is said on the later stream, t0003.
    html = save_stream(client, rep, "public.t0001", object="raw.t0003").content.decode()

    assert sorted(oob_rows(html)) == sorted(str(stream(rep, n).pk) for n in ("public.t0001", "public.t0003"))
    assert "is also the key of stream" in html


def test_a_row_not_on_the_shown_page_is_not_sent(client, user, make_replication):
    rep = make_replication("big", streams=120)

    on_page_2 = save_stream(client, rep, "public.t0070", description="x", page="2").content.decode()
    on_page_1 = save_stream(client, rep, "public.t0070", description="y", page="1").content.decode()
    filtered_out = save_stream(client, rep, "public.t0070", description="z", q="t000").content.decode()

    pk = str(stream(rep, "public.t0070").pk)
    assert (oob_rows(on_page_2), oob_rows(on_page_1), oob_rows(filtered_out)) == ([pk], [], [])


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"name": "public.renamed"}, "a rename changes what the table lists"),
        ({"mode": "incremental", "update_key": "u", "sort": "mode"}, "sorted by mode: the row moves"),
    ],
)
def test_a_save_that_moves_rows_has_the_page_fetch_the_table(client, user, make_replication, fields, why):
    rep = make_replication("shop", streams=5, defaults={})

    response = save_stream(client, rep, "public.t0000", **fields)

    assert response.status_code == 200, why
    assert response["HX-Trigger"] == '{"replicationChanged": {}}', why
    assert oob_rows(response.content.decode()) == [], why
