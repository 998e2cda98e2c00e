"""A stream's columns over the API: read through the real sling on request (editors), then kept
and shown to any reader with how they land; its first rows (editors)."""

from __future__ import annotations

import pytest
from api_client import answer

from studio import models

pytestmark = pytest.mark.django_db(transaction=True)
ORDERS = "file://demo/data/orders.csv"


def _url(what: str) -> str:
    pk = models.Stream.objects.get(replication__name="demo", name=ORDERS).pk
    return f"/replications/demo/streams/{pk}/{what}/"


def test_columns_are_read_by_an_editor_and_shown_to_a_viewer(api, demo):
    before = answer(api["viewer"]("GET", _url("columns")))
    assert (before["read_at"], before["columns"], before["landing"]) == (None, [], [])
    assert api["viewer"]("POST", _url("columns")).status_code == 403

    read = answer(api["editor"]("POST", _url("columns")))
    assert read["error"] == ""
    assert read["columns"][0] == {"name": "order_id", "type": "bigint", "native": ""}
    shown = answer(api["viewer"]("GET", _url("columns")))
    assert shown["columns"] == read["columns"] and shown["read_at"] == read["read_at"]
    # A file loaded into a database: sling adds `_sling_loaded_at`.
    assert shown["landing"][-1] == {
        "name": "_sling_loaded_at",
        "type": "bigint",
        "source": None,
        "note": "added by sling",
    }


def test_the_first_rows_are_for_editors(api, demo):
    assert api["viewer"]("POST", _url("rows")).status_code == 403
    rows = answer(api["editor"]("POST", _url("rows")))
    assert rows["error"] == ""
    assert rows["header"][0] == "order_id"
    assert 0 < len(rows["rows"]) <= 20


def test_the_schema_policy_is_part_of_the_run_policy(api, demo):
    assert answer(api["viewer"]("GET", "/replications/demo/policy/"))["schema_changes"] == "warn"
    body = {"version": 0, "retries": 0, "retry_backoff": 30, "schema_changes": "refuse"}
    assert answer(api["operator"]("PUT", "/replications/demo/policy/", body))["schema_changes"] == "refuse"
    # Not sent: left as it is.
    kept = api["operator"](
        "PUT", "/replications/demo/policy/", {"version": 1, "retries": 1, "retry_backoff": 30}
    )
    assert answer(kept)["schema_changes"] == "refuse"
    wrong = api["operator"](
        "PUT", "/replications/demo/policy/", {**body, "version": 2, "schema_changes": "no"}
    )
    assert wrong.status_code == 422
