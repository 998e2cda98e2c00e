"""Connections over the API: secrets are write-only (never in an answer, not even masked), kept
when a change leaves them out; a change names its version; test and discover through sling."""

from __future__ import annotations

import pytest
from api_client import answer

from replication.connections import MASK
from studio import models

PASSWORD = "planted-Pa55word-9c1e"
URL_PASSWORD = "planted-url-secret-77ab"


def _no_secret(response) -> None:
    text = response.content.decode()
    for secret in (PASSWORD, URL_PASSWORD, MASK):
        assert secret not in text


def test_secrets_go_in_and_never_come_out(api, demo):
    created = api["editor"](
        "POST",
        "/connections/",
        {
            "name": "warehouse",
            "type": "postgres",
            "fields": {"host": "db.internal", "port": 5432, "user": "loader", "password": PASSWORD},
        },
    )
    assert created.status_code == 201
    _no_secret(created)
    body = answer(created)
    assert body["name"] == "WAREHOUSE" and body["secret_fields"] == ["password"]
    assert body["fields"] == {"host": "db.internal", "port": "5432", "user": "loader"}
    assert models.Connection.objects.get(name="WAREHOUSE").secrets == {"password": PASSWORD}

    with_url = api["editor"](
        "POST",
        "/connections/",
        {"name": "pg_url", "type": "postgres", "url": f"postgresql://u:{URL_PASSWORD}@h/db"},
    )
    assert with_url.status_code == 201 and answer(with_url)["fields"]["url"] == "postgresql://u@h/db"
    for path in ("/connections/", "/connections/WAREHOUSE/", "/connections/PG_URL/", "/lineage/"):
        _no_secret(api["viewer"]("GET", path))


def test_a_change_keeps_the_secrets_it_leaves_out_while_they_go_where_they_went(api, demo):
    api["editor"](
        "POST",
        "/connections/",
        {"name": "WH", "type": "postgres", "fields": {"host": "a", "password": PASSWORD}},
    )
    changed = api["editor"](
        "PUT",
        "/connections/WH/",
        {"name": "WH", "type": "postgres", "fields": {"host": "a", "schema": "s"}, "version": 1},
    )
    # Another host: the stored password is not sent there unless typed again (issue 22).
    moved = api["editor"](
        "PUT", "/connections/WH/", {"name": "WH", "type": "postgres", "fields": {"host": "b"}, "version": 2}
    )

    assert changed.status_code == 200 and changed["ETag"] == '"2"'
    _no_secret(changed)
    stored = models.Connection.objects.get(name="WH")
    assert (stored.params["schema"], stored.secrets["password"]) == ("s", PASSWORD)
    assert moved.status_code == 422
    assert "type `password` again" in moved.content.decode()
    _no_secret(moved)
    assert models.Connection.objects.get(name="WH").params["host"] == "a"


def test_a_change_of_an_older_version_is_refused(api, demo):
    api["editor"](
        "POST",
        "/connections/",
        {"name": "WH", "type": "postgres", "fields": {"host": "a", "password": PASSWORD}},
    )
    api["admin"](
        "PUT",
        "/connections/WH/",
        {"name": "WH", "type": "postgres", "fields": {"host": "a", "schema": "theirs"}, "version": 1},
    )

    stale = api["editor"](
        "PUT",
        "/connections/WH/",
        {"name": "WH", "type": "postgres", "fields": {"host": "a", "schema": "mine"}},
        **{"If-Match": '"1"'},
    )

    assert stale.status_code == 412
    assert "+schema: theirs" in answer(stale)["changes"]
    assert PASSWORD not in stale.content.decode()
    assert models.Connection.objects.get(name="WH").params["schema"] == "theirs"
    assert api["editor"]("DELETE", "/connections/WH/?version=1").status_code == 409
    assert api["editor"]("DELETE", "/connections/WH/?version=2").status_code == 204


def test_the_streams_at_once_go_in_and_come_out_with_the_type_s_default(api, demo):
    created = api["editor"](
        "POST", "/connections/", {"name": "lake", "type": "sqlite", "url": "sqlite:///tmp/l.db"}
    )
    limited = api["editor"](
        "POST",
        "/connections/",
        {"name": "dw", "type": "postgres", "url": "postgresql://u@h/db", "max_streams": 3},
    )
    refused = api["editor"]("POST", "/connections/", {"name": "x", "type": "postgres", "max_streams": 0})

    assert (answer(created)["max_streams"], answer(created)["streams_at_once"]) == (None, 1)
    assert (answer(limited)["max_streams"], answer(limited)["streams_at_once"]) == (3, 3)
    assert refused.status_code == 422 and "max_streams" in refused.content.decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "bad name", "type": "postgres"}, "name"),
        ({"name": "X", "type": "nosuchdb"}, "type"),
        ({"name": "X", "type": "postgres", "url": "not a url"}, "url"),
        ({"name": "X", "type": "postgres", "fields": {"port": 99999}}, "port"),
        ({"name": "X", "type": "sqlite", "url": "sqlite:///etc/passwd"}, "url"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(api, demo, body, field):
    refused = api["editor"]("POST", "/connections/", body)

    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in answer(refused)["errors"]]
    assert not models.Connection.objects.filter(name="X").exists()


@pytest.mark.sling
def test_test_and_discover_through_sling(api, demo):
    tested = answer(api["editor"]("POST", "/connections/DEMO_SQLITE/test/"))
    assert tested == {"ok": True, "message": "DEMO_SQLITE: connection works"}
    unsaved = answer(
        api["editor"](
            "POST",
            "/connections/test/",
            {"name": "T", "type": "postgres", "url": "postgresql://u:p@127.0.0.1:9/x"},
        )
    )
    assert (
        unsaved["ok"] is False
        and "could not connect" in unsaved["message"]
        and ":p@" not in unsaved["message"]
    )
    local = answer(api["editor"]("POST", "/connections/DEMO_SQLITE/discover/", {"pattern": ""}))
    assert local["error"] is None and isinstance(local["streams"], list)
