"""Revision history: who saved what, the diff between two versions, restoring one."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from studio import models

HTMX = {"HX-Request": "true"}


def export(name: str) -> str:
    out = io.StringIO()
    call_command("export_replication", name, stdout=out)
    return out.getvalue()


@pytest.fixture
def edited(client, user, demo):
    """The demo at version 3: alice set the orders object (v2), then re-enabled it (v3, no change)."""
    orders = demo.streams.get(name="file://demo/data/orders.csv").pk
    edits = [
        {"action": "set", "streams": [orders], "key": "object", "value": "main.sales", "version": "1"},
        {"action": "enable", "streams": [orders], "version": "2"},
    ]
    for data in edits:
        assert client.post("/r/demo/streams/bulk/", data, headers=HTMX).status_code == 200
    demo.refresh_from_db()
    return demo


def test_it_lists_every_revision_with_its_author(client, user, edited):
    response = client.get("/r/demo/history/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>History of demo</h1>" in html
    assert 'v3 <span class="badge info">current</span>' in html
    assert "<td>alice</td>" in html
    # The demo was imported by a command, not a person.
    assert "<td>command line</td>" in html
    assert "<td>set 1 stream(s)</td>" in html
    assert [(r.version, r.author and r.author.username) for r in response.context["revisions"]] == [
        (3, "alice"),
        (2, "alice"),
        (1, None),
    ]
    # Every old version can be restored, the current one cannot.
    assert 'action="/r/demo/history/1/restore/"' in html
    assert 'action="/r/demo/history/3/restore/"' not in html


def test_it_shows_the_diff_between_two_versions(client, user, edited):
    response = client.get("/r/demo/history/", {"a": "1", "b": "2"})

    html = response.content.decode()
    assert "<h2>v1 → v2</h2>" in html
    assert '<span class="file">--- version 1</span>' in html
    assert '<span class="file">+++ version 2</span>' in html
    assert "<del>-    object: main.orders</del>" in html
    assert "<ins>+    object: main.sales</ins>" in html
    assert 'value="1" checked' in html


def test_it_says_when_two_versions_are_the_same(client, user, edited):
    # v3 only re-enabled an enabled stream: the same YAML as v2.
    response = client.get("/r/demo/history/", {"a": "2", "b": "3"})

    assert "No difference." in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"a": "x", "b": "2"},
        {"a": "1"},
        {"a": "-1", "b": "2"},
        {"a": "<script>", "b": "<script>"},
    ],
)
def test_it_ignores_an_unusable_comparison(client, user, edited, query):
    response = client.get("/r/demo/history/", query)

    assert response.status_code == 200
    html = response.content.decode()
    assert "→ v" not in html
    assert "<script>" not in html.replace("<script src=", "")


def test_it_does_not_claim_no_difference_with_an_unknown_version(client, user, edited):
    response = client.get("/r/demo/history/", {"a": "1", "b": "99"})

    assert response.status_code == 200
    assert "No difference." not in response.content.decode()


@pytest.mark.parametrize("b", ["9" * 20, "9" * 5000])
def test_a_huge_version_in_the_comparison_is_not_a_server_error(client, user, edited, b):
    response = client.get("/r/demo/history/", {"a": "1", "b": b})

    assert response.status_code == 200


def test_restore_saves_the_old_yaml_as_a_new_version(client, user, edited):
    old = edited.revisions.get(version=1).yaml

    response = client.post("/r/demo/history/1/restore/", {"version": "3"})

    assert response.status_code == 302
    assert response["Location"] == "/r/demo/"
    edited.refresh_from_db()
    assert edited.version == 4
    restored = edited.revisions.get(version=4)
    assert (restored.author.username, restored.summary) == ("alice", "restored version 1")
    assert restored.yaml == old
    assert export("demo") == old
    assert edited.streams.get(name="file://demo/data/orders.csv").object == "main.orders"
    assert "Restored version 1 as a new version." in client.get("/r/demo/").content.decode()


def test_restore_from_an_old_page_is_a_conflict(client, user, edited):
    response = client.post("/r/demo/history/1/restore/", {"version": "2"})

    assert response.status_code == 409
    assert "was changed by someone else" in response.content.decode()
    edited.refresh_from_db()
    assert edited.version == 3
    assert edited.streams.get(name="file://demo/data/orders.csv").object == "main.sales"


def test_restore_refuses_get(client, user, edited):
    assert client.get("/r/demo/history/1/restore/").status_code == 405
    edited.refresh_from_db()
    assert edited.version == 3


@pytest.mark.parametrize("version", ["99", "0"])
def test_restoring_an_unknown_version_is_404(client, user, edited, version):
    response = client.post(f"/r/demo/history/{version}/restore/", {"version": "3"})

    assert response.status_code == 404
    edited.refresh_from_db()
    assert edited.version == 3


def test_restoring_a_huge_version_is_404(client, user, edited):
    response = client.post(f"/r/demo/history/{'9' * 20}/restore/", {"version": "3"})

    assert response.status_code == 404


@pytest.mark.parametrize("data", [{}, {"version": ""}, {"version": "x" * 100_000}, {"version": "<script>"}])
def test_restore_answers_hostile_input_without_a_server_error(client, user, edited, data):
    response = client.post("/r/demo/history/1/restore/", data)

    assert response.status_code < 500
    assert "<script>" not in response.content.decode().replace("<script src=", "")


def test_the_history_escapes_script_in_summaries(client, user, make_replication):
    evil = "<script>alert(1)</script>"
    make_replication("evil")
    models.Revision.objects.filter(replication__name="evil").update(summary=evil)

    html = client.get("/r/evil/history/").content.decode()

    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
