"""The server side of issue 15's rough edges: a connection tested from its form, the
replications a connection's deletion affects, discovered streams that start a replication,
and the runs list's filters."""

from __future__ import annotations

import pytest

from studio import models
from tests.views.test_connection_views import PASSWORD, create_postgres, edit_form

HTMX = {"HX-Request": "true"}


def test_the_form_test_names_a_bad_url_and_saves_nothing(client, user):
    response = client.post("/connections/new/test/", {"type": "postgres", "url": "not a url"}, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "url: `not a url` is not a connection URL" in html
    assert "postgresql://user@host:5432/database" in html
    assert not models.Connection.objects.exists()


@pytest.mark.sling
def test_an_edit_tested_from_its_form_uses_the_stored_secret_and_never_shows_it(client, user, form_values):
    create_postgres(client)
    data = edit_form(client, form_values, "WAREHOUSE")
    assert data["password"] == ""
    data["host"] = "127.0.0.2"

    response = client.post("/connections/WAREHOUSE/test/", data, headers=HTMX)

    html = response.content.decode()
    assert 'class="error"' in html
    assert PASSWORD not in html
    # Tested, not saved: the stored host is unchanged.
    assert models.Connection.objects.get(name="WAREHOUSE").params["host"] == "127.0.0.1"


def test_the_delete_page_lists_the_replications_using_the_connection(client, user, make_replication):
    create_postgres(client)
    make_replication("reads", source="warehouse", target="SNOW")
    make_replication("writes", source="PG", target="WAREHOUSE")
    make_replication("elsewhere", source="PG", target="SNOW")

    html = client.get("/connections/WAREHOUSE/delete/").content.decode()

    assert "2 replications use WAREHOUSE:" in html
    assert '<a href="/r/reads/">reads</a> <span class="muted">(source)</span>' in html
    assert '<a href="/r/writes/">writes</a> <span class="muted">(target)</span>' in html
    assert "elsewhere" not in html


def test_discovered_streams_start_a_new_replication_with_the_object_template(client, user, demo):
    response = client.post(
        "/connections/DEMO_SQLITE/add-streams/",
        {
            "new": "sqlite_copy",
            "target": "DEMO_SQLITE",
            "object": "main.copy_{stream_table}",
            "streams": ["main.orders", "main.customers"],
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/r/sqlite_copy/"
    created = models.Replication.objects.get(name="sqlite_copy")
    assert (created.source, created.target) == ("DEMO_SQLITE", "DEMO_SQLITE")
    assert created.defaults == {"object": "main.copy_{stream_table}"}
    assert list(created.streams.values_list("name", flat=True)) == ["main.orders", "main.customers"]
    assert created.revisions.get().summary == "created with 2 discovered stream(s)"


def test_discovered_streams_without_an_object_are_refused_on_a_page_naming_them(client, user, demo):
    response = client.post(
        "/connections/DEMO_SQLITE/add-streams/",
        {"new": "sqlite_copy", "target": "DEMO_SQLITE", "object": "", "streams": ["main.orders"]},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "<h1>Streams not added</h1>" in html
    assert "no `object`" in html
    assert not models.Replication.objects.filter(name="sqlite_copy").exists()


def test_a_new_replication_from_discovered_streams_needs_a_target(client, user, demo):
    response = client.post(
        "/connections/DEMO_SQLITE/add-streams/",
        {"new": "sqlite_copy", "target": "", "object": "main.x", "streams": ["main.orders"]},
    )

    assert response.status_code == 422
    assert "name the connection the streams go to" in response.content.decode()


def test_the_runs_list_filters_by_status_and_trigger_and_keeps_them_in_the_pages(client, user, shop):
    failed = models.Run.objects.create(replication=shop, replication_name="shop", status="failed")
    models.Run.objects.create(replication=shop, replication_name="shop", status="succeeded")
    scheduled = models.Run.objects.create(
        replication=shop, replication_name="shop", status="failed", trigger="schedule"
    )

    by_status = client.get("/runs/?status=failed")
    by_both = client.get("/runs/?replication=shop&status=failed&trigger=schedule")

    assert {r.pk for r in by_status.context["page"]} == {failed.pk, scheduled.pk}
    assert [r.pk for r in by_both.context["page"]] == [scheduled.pk]
    assert by_both.context["filter_query"] == "replication=shop&status=failed&trigger=schedule"
    assert '<option value="schedule" selected>schedule</option>' in by_both.content.decode()


@pytest.mark.parametrize("query", ["status=exploded", "trigger=%3Cscript%3E"])
def test_the_runs_list_refuses_a_filter_not_in_its_lists(client, user, query):
    response = client.get(f"/runs/?{query}")

    assert response.status_code == 400
    assert "filter runs by a status and a trigger of the lists" in response.content.decode()
