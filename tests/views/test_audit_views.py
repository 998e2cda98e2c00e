"""The audit page (admins only): filters by person, object, action and time, pages of 50 in a
query whatever the trail's length, the JSON export of what is filtered, the API's list; and the
Django admin, which shows the trail (and replications, streams, downstream assets) read-only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from api_client import Api, answer
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studio import models
from studio.services import audit
from studio.services.downstream import downstream_save
from studio.services.tokens import token_create


def entries(count: int, **fields: str) -> None:
    """`count` entries by `fields` (bulk: the trail of a long-lived studio)."""
    now = timezone.now()
    base = {
        "actor_kind": "user",
        "actor": "alice",
        "via": "page",
        "action": "changed",
        "object_type": "connection",
    }
    models.AuditEntry.objects.bulk_create(
        models.AuditEntry(at=now - timedelta(minutes=count - i), object_name=f"C{i}", **{**base, **fields})
        for i in range(count)
    )


@pytest.fixture
def admin(demo) -> Client:
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="demo"))
    return browser


@pytest.mark.parametrize("role", ["viewer", "editor", "operator"])
def test_only_admins_read_the_trail(demo, role):
    browser = Client()
    browser.force_login(get_user_model().objects.get(username=role))

    for path in ("/audit/", "/audit/export.json"):
        response = browser.get(path)
        assert response.status_code == 403
        assert "You need the admin role" in response.content.decode()
    assert 'href="/audit/"' not in browser.get("/").content.decode()


def test_the_page_lists_who_did_what_newest_first(admin):
    entry = audit.record(
        "changed", object_type="connection", object_name="WH", summary="host, password (secret)"
    )

    response = admin.get("/audit/")

    page = response.content.decode()
    assert 'href="/audit/" aria-current="page"' in page  # in the top bar, for admins
    assert response.context["page"].entries[0] == entry  # newest first
    assert "host, password (secret)" in page and 'href="/audit/export.json" download' in page


def test_the_filters_select_by_person_object_action_and_time(admin):
    entries(3, actor="alice", object_type="connection")
    entries(2, actor="bob", object_type="schedule", action="paused")
    old = timezone.now() - timedelta(days=30)
    models.AuditEntry.objects.create(
        at=old,
        actor_kind="user",
        actor="carol",
        via="api",
        action="deleted",
        object_type="run",
        object_name="run #1",
    )

    def shown(query: str) -> set[str]:
        response = admin.get(f"/audit/?{query}")
        assert response.status_code == 200, response.content.decode()[:500]
        return {e.object_name for e in response.context["page"].entries}

    assert shown("person=bob") == {"C0", "C1"}
    assert shown("object_type=connection&object=c2") == {"C2"}
    assert shown("action=paused") == {"C0", "C1"}
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    until = (timezone.now() - timedelta(days=29)).strftime("%Y-%m-%dT%H:%M")
    assert "run #1" not in shown(f"since={since}")
    assert shown(f"until={until}") == {"run #1"}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=yesterday", "since", "Enter a valid date/time."),
        ("since=2026-01-02T00:00&until=2026-01-01T00:00", "until", "must be after the start"),
        ("object_type=everything", "object_type", "Select a valid choice."),
        ("before=-3", "before", "greater than or equal to 1"),
        (f"before={2**63}", "before", "less than or equal to"),
        ("since=0001-01-01T00:00:00%2B05:00", "since", "the time is out of range"),
    ],
)
def test_a_bad_filter_is_said_with_its_field_and_nothing_listed(admin, query, field, message):
    for path in ("/audit/", "/audit/export.json"):
        response = admin.get(f"{path}?{query}")
        assert response.status_code == 400
        assert message in " ".join(response.context["form"].errors[field])
        assert response.context["page"] is None


def test_pages_of_50_go_back_in_time_without_counting_the_trail(admin):
    entries(120)
    total = models.AuditEntry.objects.count()

    seen, query = [], "person=alice"
    while True:
        response = admin.get(f"/audit/?{query}")
        page = response.context["page"]
        seen += [e.pk for e in page.entries]
        assert len(page.entries) <= 50
        if page.older is None:
            break
        assert f"before={page.older}" in response.content.decode()
        query = f"person=alice&before={page.older}"
    assert len(seen) == len(set(seen)) == 120 <= total
    assert seen == sorted(seen, reverse=True)


def test_a_page_costs_the_same_queries_at_any_length_of_the_trail(admin):
    def queries() -> int:
        admin.get("/audit/")  # the session, warmed
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("/audit/?person=alice&object_type=connection").status_code == 200
        return len(captured)

    entries(60)
    few = queries()
    entries(3000)
    assert queries() == few <= 6


def test_the_export_streams_every_filtered_entry_as_json(admin):
    entries(120, actor="alice")
    entries(5, actor="bob")

    response = admin.get("/audit/export.json?person=alice&before=5")  # the page's `before` is not a filter

    assert response.streaming
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    exported = json.loads(b"".join(response.streaming_content))
    assert len(exported) == 120 and {e["actor"] for e in exported} == {"alice"}
    assert set(exported[0]) == {
        "id", "at", "actor", "actor_kind", "token", "via", "action",
        "object_type", "object_id", "object_name", "summary", "details",
    }  # fmt: skip
    assert exported == sorted(exported, key=lambda e: -e["id"])


def test_a_time_at_any_offset_is_compared_in_utc(admin):
    # PostgreSQL refuses offsets past 15:59: the filter compares the time in UTC.
    entries(2)
    response = admin.get("/audit/?person=alice&since=2000-01-01T00:00:00%2B23:30")
    assert response.status_code == 200
    assert len(response.context["page"].entries) == 2


def test_the_api_lists_the_trail_for_admins_with_the_page_s_filters(demo):
    users = get_user_model().objects
    admin_api = Api(token_create(user=users.get(username="demo"), name="siem")[1])
    entries(60, actor="alice")

    first = answer(admin_api("GET", "/audit/?person=alice"))
    second = answer(admin_api("GET", f"/audit/?person=alice&before={first['older']}"))

    assert len(first["items"]) == 50 and len(second["items"]) == 10 and second["older"] is None
    assert {e["actor"] for e in first["items"] + second["items"]} == {"alice"}
    viewer_api = Api(token_create(user=users.get(username="viewer"), name="peek")[1])
    assert viewer_api("GET", "/audit/").status_code == 403
    read_only = Api(token_create(user=users.get(username="demo"), name="ro", read_only=True)[1])
    assert read_only("GET", "/audit/").status_code == 403


def test_the_django_admin_shows_the_trail_and_changes_nothing(admin):
    entry = audit.record("created", object_type="connection", object_name="WH")
    base = f"/admin/studio/auditentry/{entry.pk}"

    assert admin.get("/admin/studio/auditentry/").status_code == 200
    assert admin.get(f"{base}/change/").status_code == 200  # seen, read only
    assert admin.post(f"{base}/change/", {"actor": "nobody"}).status_code == 403
    assert admin.get(f"{base}/delete/").status_code == 403
    assert admin.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert admin.get("/admin/studio/auditentry/add/").status_code == 403
    listing = admin.post(
        "/admin/studio/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert listing.status_code in (200, 302)
    assert models.AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_django_admin_shows_replications_and_streams_read_only_with_a_link_to_the_editor(admin, demo):
    stream = demo.streams.order_by("position").first()
    replication_page = admin.get(f"/admin/studio/replication/{demo.pk}/change/")
    stream_page = admin.get(f"/admin/studio/stream/{stream.pk}/change/")

    assert 'href="/r/demo/"' in replication_page.content.decode()
    assert f'href="/r/demo/streams/{stream.pk}/"' in stream_page.content.decode()
    before = (demo.version, models.Revision.objects.count(), stream.config)
    refused = admin.post(f"/admin/studio/stream/{stream.pk}/change/", {"name": stream.name, "config": "{}"})
    assert refused.status_code == 403
    assert admin.get(f"/admin/studio/stream/{stream.pk}/delete/").status_code == 403
    stream.refresh_from_db()
    demo.refresh_from_db()
    assert (demo.version, models.Revision.objects.count(), stream.config) == before


def test_a_connection_edited_in_the_admin_is_checked_versioned_and_audited(admin, demo):
    connection = models.Connection.objects.get(name="DEMO_SQLITE")
    page = f"/admin/studio/connection/{connection.pk}/change/"

    def post(**params: str):
        data = {
            "name": "DEMO_SQLITE",
            "type": connection.type,
            "params": json.dumps({**connection.params, **params}),
        }
        return admin.post(page, data)

    # A value naming another connection is refused as the studio's form refuses it.
    models.Connection.objects.create(name="OTHER", type="postgres")
    refused = post(schema="$OTHER")
    assert refused.status_code == 200 and "names connection OTHER" in refused.content.decode()
    assert post(schema="main").status_code == 302
    saved = models.Connection.objects.get(pk=connection.pk)
    assert (saved.params["schema"], saved.version) == ("main", connection.version + 1)
    entry = models.AuditEntry.objects.filter(object_type="connection", action="changed").latest("id")
    assert (entry.actor, entry.via, entry.details["fields"]) == (
        "demo",
        "admin",
        {"schema": {"from": connection.params.get("schema"), "to": "main"}},
    )


def test_a_downstream_asset_deleted_in_the_admin_goes_through_the_service_and_is_audited(admin, demo):
    asset = downstream_save(key="reports/daily", deps=[])
    assert admin.post(f"/admin/studio/replication/{demo.pk}/delete/", {"post": "yes"}).status_code == 403

    response = admin.post(f"/admin/studio/downstreamasset/{asset.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not models.DownstreamAsset.objects.filter(pk=asset.pk).exists()
    entry = models.AuditEntry.objects.get(action="deleted", object_type="downstream asset")
    assert (entry.actor, entry.via, entry.object_name) == ("demo", "admin", "reports/daily")
