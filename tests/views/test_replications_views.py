"""Sign-in, the replications list, and creating, duplicating and deleting replications."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio import models
from studio.selectors.replications import current_text

# Every view of the editor and the connections, with the method it accepts.
# ("revision-restore" and the stream views need an id; 1 is enough: sign-in comes first.)
VIEWS = [
    ("get", "replications", []),
    ("post", "replication-create", []),
    ("get", "replication-import-new", []),
    ("post", "replication-import-new", []),
    ("get", "editor", ["shop"]),
    ("post", "settings-save", ["shop"]),
    ("get", "streams-table", ["shop"]),
    ("post", "stream-add", ["shop"]),
    ("post", "streams-bulk", ["shop"]),
    ("get", "stream-edit", ["shop", 1]),
    ("post", "stream-edit", ["shop", 1]),
    ("post", "stream-check", ["shop", 1]),
    ("post", "settings-check", ["shop"]),
    ("get", "problems", ["shop"]),
    ("get", "yaml-preview", ["shop"]),
    ("get", "yaml-download", ["shop"]),
    ("get", "yaml-import", ["shop"]),
    ("post", "yaml-import", ["shop"]),
    ("get", "history", ["shop"]),
    ("post", "revision-restore", ["shop", 1]),
    ("post", "replication-duplicate", ["shop"]),
    ("get", "replication-delete", ["shop"]),
    ("post", "replication-delete", ["shop"]),
    ("get", "connections", []),
    ("get", "connection-new", []),
    ("post", "connection-new", []),
    ("get", "connection-edit", ["DEMO_SQLITE"]),
    ("post", "connection-edit", ["DEMO_SQLITE"]),
    ("get", "connection-delete", ["DEMO_SQLITE"]),
    ("post", "connection-delete", ["DEMO_SQLITE"]),
    ("post", "connection-test", ["DEMO_SQLITE"]),
    ("post", "connection-discover", ["DEMO_SQLITE"]),
    ("post", "connection-add-streams", ["DEMO_SQLITE"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "name", "args"), VIEWS)
def test_it_sends_anonymous_users_to_sign_in(client, shop, method, name, args):
    url = reverse(name, args=args)

    data = {"name": "x", "source": "A", "target": "B"} if method == "post" else None
    response = getattr(client, method)(url, data)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.django_db
def test_it_changes_nothing_for_anonymous_posts(client, shop):
    client.post(reverse("replication-delete", args=["shop"]))
    client.post(reverse("replication-create"), {"name": "new", "source": "A", "target": "B"})

    assert list(models.Replication.objects.values_list("name", flat=True)) == ["shop"]


def test_the_login_page_signs_in_the_demo_user(client, demo):
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content

    response = client.post("/login/", {"username": "demo", "password": "demo"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"demo" in home.content
    assert home.context["user"].username == "demo"


def test_the_login_page_refuses_a_wrong_password(client, demo):
    response = client.post("/login/", {"username": "demo", "password": "wrong"})

    assert response.status_code == 200
    assert not response.context["user"].is_authenticated
    assert client.get("/").status_code == 302


# --- the list -------------------------------------------------------------------


def test_it_lists_replications_with_source_target_and_stream_count(client, user, shop, make_replication):
    make_replication("warehouse", streams=12, source="MYSQL", target="DUCK")

    response = client.get("/replications/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<a class="strong" href="/r/shop/">shop</a>' in html
    assert '<span class="conn">PG</span> → <span class="conn">SNOW</span>' in html
    assert '<span class="conn">MYSQL</span> → <span class="conn">DUCK</span>' in html
    assert '<td class="num">3</td>' in html
    assert '<td class="num">12</td>' in html
    assert [(r.name, r.stream_count) for r in response.context["replications"]] == [
        ("shop", 3),
        ("warehouse", 12),
    ]


def test_it_filters_the_list_by_name_source_or_target(client, user, shop, make_replication):
    make_replication("warehouse", source="MYSQL", target="DUCK")

    by_name = client.get("/replications/", {"q": "WARE"})
    by_source = client.get("/replications/", {"q": "mysql"})
    nothing = client.get("/replications/", {"q": "zzz"})

    assert [r.name for r in by_name.context["replications"]] == ["warehouse"]
    assert b"/r/shop/" not in by_name.content
    assert [r.name for r in by_source.context["replications"]] == ["warehouse"]
    assert "No replication matches “zzz”." in nothing.content.decode()


def test_it_returns_only_the_table_to_htmx(client, user, shop):
    response = client.get("/replications/", {"q": "shop"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="replication-table">')
    assert "<html" not in html
    assert "/r/shop/" in html
    assert "New replication" not in html


def test_it_shows_an_empty_list(client, user):
    response = client.get("/replications/")

    assert "No replications yet" in response.content.decode()


# --- create ------------------------------------------------------------------


def test_it_creates_a_replication_and_opens_the_editor(client, user):
    response = client.post("/new/", {"name": "sales", "source": "PG", "target": "SNOW"})

    assert response.status_code == 302
    assert response["Location"] == "/r/sales/"
    created = models.Replication.objects.get(name="sales")
    assert (created.source, created.target, created.version) == ("PG", "SNOW", 1)
    assert created.streams.count() == 0
    revision = created.revisions.get()
    assert (revision.version, revision.author, revision.summary) == (1, user, "created")


def test_it_refuses_a_duplicate_name(client, user, shop):
    response = client.post("/new/", {"name": "shop", "source": "A", "target": "B"})

    assert response.status_code == 422
    assert "a replication named `shop` exists" in response.content.decode()
    shop.refresh_from_db()
    assert (shop.source, shop.target, shop.version) == ("PG", "SNOW", 1)


@pytest.mark.parametrize("name", ["has space", "semi;colon", "", "x" * 201, "../up"])
def test_it_refuses_an_invalid_name(client, user, name):
    response = client.post("/new/", {"name": name, "source": "A", "target": "B"})

    assert response.status_code == 422
    assert response.context["form"].errors["name"]
    assert b'class="field has-error"' in response.content
    assert models.Replication.objects.count() == 0


def test_it_refuses_a_replication_without_source(client, user):
    response = client.post("/new/", {"name": "sales", "target": "B"})

    assert response.status_code == 422
    assert response.context["form"].errors == {"source": ["This field is required."]}
    assert not models.Replication.objects.exists()


# --- duplicate and delete ------------------------------------------------------


def test_it_duplicates_a_replication_as_name_copy(client, user, shop):
    response = client.post("/r/shop/duplicate/")

    assert response.status_code == 302
    assert response["Location"] == "/r/shop-copy/"
    copy = models.Replication.objects.get(name="shop-copy")
    assert (copy.source, copy.target, copy.defaults) == ("PG", "SNOW", {"mode": "full-refresh"})
    assert list(copy.streams.values_list("name", "config")) == list(
        shop.streams.values_list("name", "config")
    )
    assert client.get(response["Location"]).status_code == 200


def test_a_second_duplicate_gets_the_next_free_name(client, user, shop):
    client.post("/r/shop/duplicate/")

    response = client.post("/r/shop/duplicate/")

    assert response["Location"] == "/r/shop-copy-2/"
    assert sorted(models.Replication.objects.values_list("name", flat=True)) == [
        "shop",
        "shop-copy",
        "shop-copy-2",
    ]


def test_duplicate_refuses_get(client, user, shop):
    assert client.get("/r/shop/duplicate/").status_code == 405
    assert models.Replication.objects.count() == 1


def test_delete_asks_for_confirmation_first(client, user, shop):
    response = client.get("/r/shop/delete/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete shop?" in html
    assert "its 3 stream(s)" in html
    assert models.Replication.objects.filter(name="shop").exists()


def test_delete_removes_the_replication_with_its_streams_and_history(client, user, shop):
    response = client.post("/r/shop/delete/")

    assert response.status_code == 302
    assert response["Location"] == "/replications/"
    assert not models.Replication.objects.exists()
    assert not models.Stream.objects.exists()
    assert not models.Revision.objects.exists()
    assert "Deleted `shop`." in client.get("/replications/").content.decode()


@pytest.mark.parametrize("name", ["missing", "x" * 300])
def test_unknown_replications_are_404(client, user, name):
    assert client.get(f"/r/{name}/").status_code == 404
    assert client.post(f"/r/{name}/delete/").status_code == 404
    assert client.post(f"/r/{name}/duplicate/").status_code == 404


# --- hostile input -------------------------------------------------------------

HOSTILE = [
    {},
    {"name": "x" * 100_000, "source": "s" * 100_000, "target": "t" * 100_000},
    {"name": "<script>alert(1)</script>", "source": "<script>", "target": "<script>"},
    {"name": "nul\x00", "source": "A\x00", "target": "B"},
]


@pytest.mark.parametrize("data", HOSTILE)
def test_create_answers_hostile_input_with_422(client, user, data):
    response = client.post("/new/", data)

    assert response.status_code == 422
    assert b"<script>" not in response.content.replace(b"<script src=", b"")
    assert not models.Replication.objects.exists()


def test_create_answers_a_json_body_with_422(client, user):
    response = client.post(
        "/new/", {"name": "x", "source": "A", "target": "B"}, content_type="application/json"
    )

    assert response.status_code == 422
    assert not models.Replication.objects.exists()


def test_the_list_escapes_script_in_source_and_target(client, user, make_replication):
    make_replication("evil", source="<script>alert(1)</script>", target="<b>T</b>")

    html = client.get("/replications/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;T&lt;/b&gt;" in html


def test_the_search_box_escapes_the_query(client, user):
    html = client.get("/replications/", {"q": '"><script>alert(1)</script>'}).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&quot;&gt;&lt;script&gt;" in html


NEW_FROM_YAML = (
    "# the shop's files\nsource: DEMO_SQLITE\ntarget: DEMO_SQLITE\n"
    "streams:\n  main.orders: {object: main.copy}\n"
)


def test_a_new_replication_is_made_from_pasted_yaml_kept_byte_for_byte(client, user, demo):
    assert 'href="/new/yaml/"' in client.get("/replications/").text

    response = client.post("/new/yaml/", {"name": "shop", "text": NEW_FROM_YAML})

    assert response.status_code == 302
    assert response["Location"] == "/r/shop/"
    assert current_text(models.Replication.objects.get(name="shop")) == NEW_FROM_YAML


def test_a_new_replication_from_yaml_is_refused_with_its_lines_and_never_replaces_one(client, user, demo):
    broken = NEW_FROM_YAML.replace("main.orders: {object: main.copy}", "main.orders: {mode: sideways}")

    refused = client.post("/new/yaml/", {"name": "shop", "text": broken})
    taken = client.post("/new/yaml/", {"name": "demo", "text": NEW_FROM_YAML})

    assert refused.status_code == 422
    assert not models.Replication.objects.filter(name="shop").exists()
    assert '<span class="muted">line 5</span>' in refused.text
    assert "mode: sideways" in refused.text  # the pasted text is kept to be mended
    assert taken.status_code == 422
    assert "a replication named `demo` exists" in taken.text
    assert models.Replication.objects.get(name="demo").version == 1
