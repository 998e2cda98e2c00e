"""Streams over the API: one as the editor's panel shows it, its keys changed (a new version,
refused with the problems the change would make), and bulk edits."""

from __future__ import annotations

from api_client import answer

from studio import models
from studio.selectors.lineage import lineage_document

ORDERS = "file://demo/data/orders.csv"


def _pk(name: str) -> int:
    return models.Stream.objects.get(replication__name="demo", name=name).pk


def test_a_stream_with_its_effective_config_object_and_asset_key(api, demo):
    response = api["viewer"]("GET", f"/replications/demo/streams/{_pk(ORDERS)}/")

    assert response.status_code == 200 and response["ETag"] == '"1"'
    stream = answer(response)
    assert stream["name"] == ORDERS
    assert stream["config"]["mode"] == "incremental"
    # The defaults merged in, as sling merges them.
    assert stream["effective"]["source_options"] == {"format": "csv", "header": True}
    assert stream["object"] == "main.orders"
    # The key the lineage gives its target asset.
    assert stream["asset_key"] in lineage_document(replication="demo").replace('", "', "/")
    assert stream["problems"] == []
    assert api["viewer"]("GET", "/replications/demo/streams/999999/").status_code == 404


def test_the_list_filters_and_pages(api, demo):
    page = answer(api["viewer"]("GET", "/replications/demo/streams/?q=ORDERS"))
    assert [s["name"] for s in page["items"]] == [ORDERS]
    assert (
        answer(api["viewer"]("GET", "/replications/demo/streams/?per_page=2&page=2"))["items"][0]["name"]
        == ORDERS
    )


def test_a_change_sets_and_removes_keys_as_a_new_version(api, demo):
    url = f"/replications/demo/streams/{_pk(ORDERS)}/"
    changed = api["editor"]("PATCH", url, {"version": 1, "keys": {"description": "Orders", "columns": None}})

    assert changed.status_code == 200 and changed["ETag"] == '"2"'
    assert "columns" not in answer(changed)["config"]
    assert answer(changed)["config"]["description"] == "Orders"
    stored = models.Stream.objects.get(pk=_pk(ORDERS)).config
    assert stored["description"] == "Orders" and "columns" not in stored
    assert models.Revision.objects.filter(replication=demo).count() == 2


def test_a_change_with_errors_or_on_a_stale_version_saves_nothing(api, demo):
    url = f"/replications/demo/streams/{_pk(ORDERS)}/"
    refused = api["editor"]("PATCH", url, {"version": 1, "keys": {"mode": "sometimes"}})
    assert refused.status_code == 422
    assert answer(refused)["errors"][0]["field"] == f'streams["{ORDERS}"].mode'

    taken = api["editor"]("PATCH", url, {"version": 1, "name": "file://demo/data/products.csv"})
    assert taken.status_code == 422 and answer(taken)["errors"][0]["field"] == "name"

    api["admin"]("PATCH", url, {"version": 1, "keys": {"description": "theirs"}})
    stale = api["editor"]("PATCH", url, {"version": 1, "keys": {"description": "mine"}})
    assert stale.status_code == 409
    assert "+    description: theirs" in answer(stale)["changes"]
    assert models.Stream.objects.get(pk=_pk(ORDERS)).config["description"] == "theirs"


def test_a_stream_is_renamed(api, demo):
    renamed = api["editor"](
        "PATCH",
        f"/replications/demo/streams/{_pk(ORDERS)}/",
        {"version": 1, "name": "file://demo/data/orders2.csv"},
    )
    assert renamed.status_code == 200, renamed.content
    assert answer(renamed)["name"] == "file://demo/data/orders2.csv"
    assert models.Stream.objects.filter(replication=demo, name="file://demo/data/orders2.csv").exists()


def test_bulk_edits_as_the_editor_makes_them(api, demo):
    done = api["editor"](
        "POST",
        "/replications/demo/streams/bulk/",
        {
            "version": 1,
            "action": "set",
            "streams": [ORDERS],
            "key": "target_options",
            "value": {"batch_limit": 5},
        },
    )
    assert done.status_code == 200
    assert answer(done) == {"version": 2, "detail": "set 1 stream(s)", "streams": 1}
    assert models.Stream.objects.get(pk=_pk(ORDERS)).config["target_options"] == {"batch_limit": 5}

    disabled = api["editor"](
        "POST", "/replications/demo/streams/bulk/", {"version": 2, "action": "disable", "matching": "csv"}
    )
    assert answer(disabled)["streams"] == 3
    assert models.Stream.objects.filter(replication=demo, disabled=True).count() == 3


def test_a_bulk_edit_the_editor_would_refuse_is_refused(api, demo):
    bulk = "/replications/demo/streams/bulk/"
    unknown = api["editor"]("POST", bulk, {"version": 1, "action": "delete", "streams": ["nope"]})
    assert unknown.status_code == 422 and "nope" in answer(unknown)["detail"]
    no_key = api["editor"]("POST", bulk, {"version": 1, "action": "set", "streams": [ORDERS]})
    assert no_key.status_code == 422 and answer(no_key)["errors"][0]["field"] == "key"
    bad = api["editor"]("POST", bulk, {"version": 1, "action": "explode", "streams": [ORDERS]})
    assert bad.status_code == 422 and answer(bad)["errors"][0]["field"] == "action"
    assert models.Replication.objects.get(name="demo").version == 1
