"""The stream panel's columns: read through sling on request, offered as one types a key, a
missing one flagged as one types, what will land, the first rows; and the cost kept flat."""

from __future__ import annotations

import sqlite3

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from studio import models
from tests.run_support import replication, sqlite_connection

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def orders(tmp_path, data_dir):
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("create table orders (id integer primary key, customer text, total real)")
        db.execute("insert into orders values (1, 'ann', 2.5), (2, 'bob', 4.0)")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    stored = replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.orders:\n    object: main.orders\n"
        "    mode: incremental\n    primary_key: [id]\n",
    )
    return stored, stored.streams.get().pk


def test_the_panel_offers_to_read_the_columns_then_lists_them(client, user, orders):
    stored, pk = orders
    panel = client.get(f"/r/{stored.name}/streams/{pk}/", headers=HTMX).content.decode()
    assert "columns are not read yet" in panel
    assert 'list="stream-columns"' in panel  # the key fields are tied to the list
    response = client.post(f"/r/{stored.name}/streams/{pk}/columns/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<datalist id="stream-columns"><option value="id">bigint</option>' in html
    assert '<option value="customer">text</option>' in html
    # What will land: the columns as sling makes them in the target.
    assert '<td class="mono">total</td><td class="mono">decimal</td>' in html


def test_a_misspelt_update_key_is_flagged_as_one_types(client, user, orders):
    stored, pk = orders
    client.post(f"/r/{stored.name}/streams/{pk}/columns/", headers=HTMX)
    form = {"name": "main.orders", "object": "main.orders", "mode": "incremental", "primary_key": "id"}
    checked = client.post(
        f"/r/{stored.name}/streams/{pk}/check/", {**form, "update_key": "totl"}, headers=HTMX
    )
    html = checked.content.decode()
    assert "`totl` (update_key) is not a column of `main.orders` on SHOP" in html
    assert "did you mean `total`?" in html
    fine = client.post(f"/r/{stored.name}/streams/{pk}/check/", {**form, "update_key": "total"}, headers=HTMX)
    assert "is not a column" not in fine.content.decode()


def test_it_shows_the_first_rows(client, user, orders):
    stored, pk = orders
    html = client.get(f"/r/{stored.name}/streams/{pk}/rows/", headers=HTMX).content.decode()
    assert '<th scope="col" class="mono">customer</th>' in html
    assert '<td class="mono">bob</td>' in html
    assert "<html" not in html


def test_a_source_sling_cannot_read_is_said_on_the_panel(client, user, orders):
    stored, pk = orders
    models.Connection.objects.filter(name="SHOP").update(params={"url": "sqlite:///nowhere/at/all.db"})
    html = client.post(f"/r/{stored.name}/streams/{pk}/columns/", headers=HTMX).content.decode()
    assert "Cannot read the columns:" in html


def test_old_columns_are_read_again_in_the_background(client, user, orders, settings):
    stored, pk = orders
    cache.clear()  # what an earlier test queued
    models.DiscoveredColumns.objects.create(
        connection="SHOP",
        stream="main.orders",
        columns=[["id", "bigint", "integer"]],
        read_at=timezone.now() - timezone.timedelta(days=3),
    )
    for _ in range(2):  # a second look queues no second refresh
        html = client.get(f"/r/{stored.name}/streams/{pk}/", headers=HTMX).content.decode()
        assert "(being read again)" in html
    [task] = DBTaskResult.objects.all()
    assert task.args_kwargs["args"] == ["SHOP", ["main.orders"]]


def _panel_queries(client, replication) -> int:
    stream = replication.streams.order_by("position").first()
    for _ in range(2):  # the second reads what the first kept
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/r/{replication.name}/streams/{stream.pk}/", headers=HTMX)
        assert response.status_code == 200
        assert "Source columns of" in response.content.decode()
    return len(queries)


def test_the_panel_runs_as_many_queries_with_the_columns_of_1000_streams_as_of_10(
    client, user, make_replication, known_connections
):
    now = timezone.now()
    for name, count in (("small", 10), ("big", 1000)):
        make_replication(name, streams=count)
    models.DiscoveredColumns.objects.bulk_create(
        models.DiscoveredColumns(
            connection="PG", stream=f"public.t{i:04}", columns=[["id", "bigint", "int8"]], read_at=now
        )
        for i in range(1000)
    )
    small = _panel_queries(client, models.Replication.objects.get(name="small"))
    big = _panel_queries(client, models.Replication.objects.get(name="big"))
    assert big == small


def test_a_bulk_edit_offers_the_columns_of_the_source(client, user, orders):
    stored, _ = orders
    assert 'list="bulk-columns"' not in client.get(f"/r/{stored.name}/").content.decode()
    client.post(f"/r/{stored.name}/streams/{stored.streams.get().pk}/columns/", headers=HTMX)
    page = client.get(f"/r/{stored.name}/").content.decode()
    assert 'list="bulk-columns"' in page
    assert '<datalist id="bulk-columns"><option value="customer">text</option>' in page


def test_the_schema_policy_is_saved_with_the_run_policy(client, user, orders):
    stored, _ = orders
    form = {"retries": "0", "retry_backoff": "60", "freshness_minutes": "", "version": "0"}
    assert client.post(f"/r/{stored.name}/policy/", {**form, "schema_changes": "refuse"}).status_code == 302
    # A form that does not send it leaves it as it is.
    assert (
        client.post(f"/r/{stored.name}/policy/", {**form, "retries": "1", "version": "1"}).status_code == 302
    )
    policy = models.RunPolicy.objects.get()
    assert (policy.retries, policy.schema_changes) == (1, "refuse")
    bad = client.post(f"/r/{stored.name}/policy/", {**form, "schema_changes": "ignore", "version": "2"})
    assert bad.status_code == 422
    assert models.RunPolicy.objects.get().schema_changes == "refuse"
