"""The replication editor: the page and its fragments, settings and defaults, conflicts, YAML."""

from __future__ import annotations

import base64
import html as htmllib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio.services.replications import replication_import

HTMX = {"HX-Request": "true"}


def settings_data(client, form_values, name: str) -> dict[str, str]:
    """The settings form as the editor page shows it, with the version the page holds."""
    page = client.get(f"/r/{name}/")
    data = form_values(page.content, f"/r/{name}/settings/")
    data["version"] = str(page.context["replication"].version)
    return data


def shown_streams(response) -> list[str]:
    """The stream names of the table, in the order shown."""
    names = re.findall(
        r'<input type="checkbox" name="streams" value="\d+" aria-label="Select ([^"]*)">',
        response.content.decode(),
    )
    return [htmllib.unescape(name) for name in names]


# --- the page ------------------------------------------------------------------


def test_the_editor_shows_the_streams_with_their_resolved_values(client, user, demo):
    response = client.get("/r/demo/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>demo</h1>" in html
    assert '<span class="conn">LOCAL</span> → <span class="conn">DEMO_SQLITE</span>' in html
    assert "3 streams" in html
    for table in ("customers", "products", "orders"):
        assert f'<td class="mono">main.{table}</td>' in html
    # The orders stream sets its own mode; the others inherit full-refresh from defaults.
    assert "<td>incremental</td>" in html
    assert '<span class="inherited" title="from defaults">full-refresh</span>' in html
    assert "pk: order_id uk: ordered_at" in html
    assert '<input type="hidden" id="version" name="version" value="1">' in html


def test_a_key_of_one_column_shows_as_its_name_and_a_list_as_names(client, user):
    replication_import(
        name="keys",
        text="source: PG\ntarget: SNOW\n"
        "defaults:\n  mode: incremental\n  object: raw.{stream_table}\nstreams:\n"
        "  public.orders:\n    primary_key: order_id\n    update_key: changed_at\n"
        "  public.lines:\n    primary_key: [order_id, line]\n",
    )

    html = client.get("/r/keys/streams/", headers=HTMX).content.decode()

    assert "pk: order_id uk: changed_at" in html
    assert "pk: order_id, line" in html
    assert "o, r, d" not in html


def test_the_editor_lists_the_problems_of_the_replication(client, user, make_replication):
    make_replication("broken", streams={"public.users": None, "public.*": {"object": "raw.{stream_table}"}})

    response = client.get("/r/broken/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<div class="problems" role="status">' in html
    assert "no `object`: set the target table or file here or in `defaults`" in html
    assert "<code>streams[&quot;public.users&quot;]</code>" in html
    assert 'title="Expands to every match at run time">wildcard</span>' in html
    assert 'class=" has-problem"' in html


def test_the_editor_warns_of_threads_sling_runs_without(client, user, known_connections, monkeypatch):
    monkeypatch.delenv("SLING_CLI_TOKEN", raising=False)
    replication_import(
        name="fast",
        text="source: PG\ntarget: SNOW\nenv:\n  SLING_THREADS: 2\nstreams:\n  public.a: {object: raw.a}\n",
    )

    page = client.get("/r/fast/").text

    assert "<code>env.SLING_THREADS</code>" in page
    assert "needs a sling CLI Pro token" in page


def test_the_problems_fragment_lists_only_the_problems(client, user, make_replication):
    make_replication("broken", streams={"public.users": None})

    response = client.get("/r/broken/problems/", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div class="problems"')
    assert "no `object`" in html


def test_both_editors_warn_of_an_asset_key_another_replication_defines(client, user, make_replication):
    make_replication("shop", streams={"public.orders": {"object": "main.orders"}})
    make_replication("erp", source="ERP", streams={"dbo.orders": {"object": "main.orders"}})

    shop = client.get("/r/shop/problems/", headers=HTMX).content.decode()
    erp = client.get("/r/erp/problems/", headers=HTMX).content.decode()

    assert "asset key `target/main/orders` is also defined by replication erp (stream dbo.orders)" in shop
    assert "asset key `target/main/orders` is also defined by replication shop (stream public.orders)" in erp
    # A warning: sling runs both; only Dagster refuses them together.
    assert "warning" in shop and "error" not in shop


def test_the_key_check_of_a_replication_does_not_grow_with_the_others(client, user, make_replication):
    # It looked its own keys up once per stream of every other replication (an EXISTS each): a
    # save of 100 streams beside one of 10,000 took 351 ms, against 88 (bench/editor.py --beside).
    make_replication("shop", streams={"public.orders": {"object": "main.orders"}})
    make_replication("erp", source="ERP", streams={"dbo.orders": {"object": "main.orders"}})

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/r/shop/problems/", headers=HTMX).text

    assert "is also defined by replication erp (stream dbo.orders)" in html
    (looked_up,) = [q["sql"] for q in queries.captured_queries if "UNION" in q["sql"].upper()]
    assert "EXISTS" not in looked_up.upper()


def test_a_stream_being_edited_is_warned_of_a_key_another_replication_defines(client, user, make_replication):
    make_replication("erp", source="ERP", streams={"dbo.orders": {"object": "main.orders"}})
    shop = make_replication("shop", streams={"public.orders": {"object": "main.other"}})
    stream = shop.streams.get()

    response = client.post(
        f"/r/shop/streams/{stream.pk}/check/",
        {"name": "public.orders", "object": "main.orders"},
        headers=HTMX,
    )

    assert "is also defined by replication erp (stream dbo.orders)" in response.content.decode()


def test_the_problems_fragment_is_empty_without_problems(client, user, demo):
    response = client.get("/r/demo/problems/", headers=HTMX)

    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_the_streams_fragment_is_only_the_table(client, user, demo):
    response = client.get("/r/demo/streams/", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="streams"')
    assert "file://demo/data/orders.csv" in html
    assert "Settings &amp; defaults" not in html


def test_the_editor_page_escapes_script_in_names_and_values(client, user, make_replication):
    evil = "<script>alert(1)</script>"
    make_replication("evil", source=evil, streams={f"public.{evil}": {"object": evil, "mode": evil}})

    html = client.get("/r/evil/").content.decode()
    panel = client.get("/r/evil/streams/", headers=HTMX).content.decode()

    assert evil not in html
    assert evil not in panel
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- constant queries ------------------------------------------------------------


def query_counts(client, replication) -> dict[str, int]:
    first = replication.streams.order_by("position").first()
    requests = {
        "page": ("get", f"/r/{replication.name}/", None),
        "table": ("get", f"/r/{replication.name}/streams/", {"sort": "name", "q": "t0"}),
        "panel": ("get", f"/r/{replication.name}/streams/{first.pk}/", None),
        "check": ("post", f"/r/{replication.name}/streams/{first.pk}/check/", {"name": first.name}),
    }
    counts = {}
    for label, (method, url, data) in requests.items():
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url, data, headers=HTMX if label != "page" else {})
        assert response.status_code == 200, label
        counts[label] = len(queries)
    return counts


def test_the_editor_runs_as_many_queries_for_1000_streams_as_for_10(client, user, make_replication):
    small = query_counts(client, make_replication("small", streams=10))
    big = query_counts(client, make_replication("big", streams=1000))

    assert big == small
    # Session, user, replication, streams, connections and other replications' asset keys
    # (the clashes with them): a handful, whatever the size.
    assert max(small.values()) <= 9


def visit_and_save(client, replication) -> dict[str, int]:
    """Queries of the editor page, a stream's panel and a save of that stream, each asked
    twice (the second reads what the first kept), at any size."""
    stream = replication.streams.order_by("position")[replication.streams.count() // 2]
    counts = {}
    for round_ in ("first", "again"):
        for label, url in (
            ("page", f"/r/{replication.name}/"),
            ("panel", f"/r/{replication.name}/streams/{stream.pk}/"),
        ):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, headers=HTMX if label == "panel" else {})
            assert response.status_code == 200, label
            counts[f"{label} {round_}"] = len(queries)
        replication.refresh_from_db()
        form = {
            "name": stream.name,
            "object": stream.object,
            "description": round_,
            "version": replication.version,
            "q": stream.name,  # the table as filtered to show it: its row comes back with the panel
        }
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/r/{replication.name}/streams/{stream.pk}/", form, headers=HTMX)
        html = response.content.decode()
        assert response.status_code == 200 and "saved" in html.lower(), html[:300]
        assert f'id="stream-row-{stream.pk}" hx-swap-oob="true"' in html
        counts[f"save {round_}"] = len(queries)
    return counts


def test_the_editor_page_panel_and_save_run_as_many_queries_for_2000_streams_as_for_100(
    client, user, make_replication
):
    small = visit_and_save(client, make_replication("small", streams=100))
    big = visit_and_save(client, make_replication("big", streams=2000))

    assert big == small


# --- pages, filter, sort ---------------------------------------------------------


def test_the_streams_come_50_to_a_page(client, user, make_replication):
    make_replication("big", streams=120)

    first = client.get("/r/big/")
    third = client.get("/r/big/streams/", {"page": 3}, headers=HTMX)

    assert shown_streams(first) == [f"public.t{i:04}" for i in range(50)]
    assert "Page 1 of 3 · 120 streams" in first.content.decode()
    assert shown_streams(third) == [f"public.t{i:04}" for i in range(100, 120)]
    assert "Page 3 of 3 · 120 streams" in third.content.decode()


@pytest.mark.parametrize(
    ("page", "shown"), [("99", 3), ("0", 1), ("-4", 1), ("abc", 1), ("", 1), ("9" * 30, 3), ("1e3", 1)]
)
def test_an_unusable_page_number_shows_a_real_page(client, user, make_replication, page, shown):
    make_replication("big", streams=120)

    response = client.get("/r/big/streams/", {"page": page}, headers=HTMX)

    assert response.status_code == 200
    assert f"Page {shown} of 3 · 120 streams" in response.content.decode()


def test_the_filter_matches_stream_names_and_objects(client, user, make_replication):
    make_replication(
        "mixed",
        streams={
            "public.users": {"object": "raw.people"},
            "public.orders": {"object": "raw.sales"},
            "public.user_events": {"object": "raw.events"},
        },
    )

    by_name = client.get("/r/mixed/streams/", {"q": "USER"}, headers=HTMX)
    by_object = client.get("/r/mixed/", {"q": "sales"})
    none = client.get("/r/mixed/streams/", {"q": "zzz"}, headers=HTMX)

    assert shown_streams(by_name) == ["public.users", "public.user_events"]
    assert shown_streams(by_object) == ["public.orders"]
    assert "No stream matches “zzz”." in none.content.decode()


def test_the_streams_sort_by_name_and_back(client, user, make_replication):
    make_replication(
        "mixed",
        streams={
            "zeta": {"object": "raw.z", "mode": "truncate"},
            "Alpha": {"object": "raw.a", "mode": "incremental", "primary_key": ["id"]},
            "mid": {"object": "raw.m"},
        },
    )

    file_order = client.get("/r/mixed/streams/", headers=HTMX)
    by_name = client.get("/r/mixed/streams/", {"sort": "name"}, headers=HTMX)
    backwards = client.get("/r/mixed/streams/", {"sort": "-name"}, headers=HTMX)
    by_mode = client.get("/r/mixed/streams/", {"sort": "mode"}, headers=HTMX)
    unknown = client.get("/r/mixed/streams/", {"sort": "<script>"}, headers=HTMX)

    assert shown_streams(file_order) == ["zeta", "Alpha", "mid"]
    assert shown_streams(by_name) == ["Alpha", "mid", "zeta"]
    assert shown_streams(backwards) == ["zeta", "mid", "Alpha"]
    # mid inherits full-refresh from defaults.
    assert shown_streams(by_mode) == ["mid", "Alpha", "zeta"]
    assert shown_streams(unknown) == ["zeta", "Alpha", "mid"]
    assert b"<script>" not in unknown.content


# --- settings and defaults -------------------------------------------------------


def test_saving_settings_stores_them_as_a_new_version(client, user, demo, form_values):
    data = settings_data(client, form_values, "demo")
    data.update(
        {
            "source": "LOCAL2",
            "env": "SLING_THREADS: 4",
            "hooks": "end:\n  - type: log\n    message: done",
            "defaults-mode": "truncate",
        }
    )

    response = client.post("/r/demo/settings/", data, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"replicationChanged": {}}'
    html = response.content.decode()
    assert '<p class="ok">Saved.</p>' in html
    assert '<input type="hidden" id="version" name="version" value="2" hx-swap-oob="true">' in html
    demo.refresh_from_db()
    assert (demo.source, demo.target, demo.version) == ("LOCAL2", "DEMO_SQLITE", 2)
    assert demo.env == {"SLING_THREADS": 4}
    assert demo.hooks == {"end": [{"type": "log", "message": "done"}]}
    # Only the changed default changed; the others stay as they were.
    assert demo.defaults == {
        "mode": "truncate",
        "source_options": {"format": "csv", "header": True},
        "meta": {"dagster": {"group": "shop"}},
    }
    revision = demo.revisions.get(version=2)
    assert (revision.author, revision.summary) == (user, "settings")
    assert "source: LOCAL2\n" in revision.yaml
    assert "SLING_THREADS: 4" in revision.yaml


def test_saving_unchanged_settings_keeps_the_config(client, user, demo, form_values):
    before = call_export("demo")

    response = client.post("/r/demo/settings/", settings_data(client, form_values, "demo"), headers=HTMX)

    assert response.status_code == 200
    assert call_export("demo") == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # The line where the unclosed bracket opens.
        ("env", "a: [1", "line 1: not valid YAML"),
        ("env", "- just\n- a list", "expected a mapping"),
        ("hooks", "start: {", "not valid YAML"),
        ("defaults-columns", "[id]", "expected a mapping"),
    ],
)
def test_invalid_yaml_is_refused_naming_the_field(client, user, demo, form_values, field, value, message):
    data = settings_data(client, form_values, "demo")
    data.update({"source": "CHANGED", field: value})

    response = client.post("/r/demo/settings/", data, headers=HTMX)

    assert response.status_code == 422
    html = response.content.decode()
    # The message sits in the field's own box, under its label (`hooks` has an id of its own
    # on the page: a stream's form beside it has a `hooks` too).
    box_id = "id_replication_hooks" if field == "hooks" else f"id_{field}"
    box = re.search(rf'<div class="field has-error[^"]*">\s*<label for="{box_id}">.*?</div>', html, re.S)
    assert box is not None
    assert message in htmllib.unescape(box.group())
    errors = {**response.context["settings_form"].errors, **response.context["defaults_form"].errors}
    assert list(errors) == [field.removeprefix("defaults-")]
    assert message in errors[field.removeprefix("defaults-")][0]
    demo.refresh_from_db()
    assert (demo.source, demo.version, demo.revisions.count()) == ("LOCAL", 1, 1)


def test_defaults_that_break_the_streams_are_refused_with_the_problems(client, user, shop, form_values):
    data = settings_data(client, form_values, "shop")
    # The shop streams have no keys: incremental by default breaks every one.
    data["defaults-mode"] = "incremental"

    response = client.post("/r/shop/settings/", data, headers=HTMX)

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#notices"
    html = response.content.decode()
    assert "Not saved: fix these first." in html
    assert "incremental mode needs `primary_key` and/or `update_key`" in html
    shop.refresh_from_db()
    assert (shop.defaults, shop.version) == ({"mode": "full-refresh"}, 1)


def test_renaming_sends_the_browser_to_the_new_address(client, user, demo, form_values):
    data = settings_data(client, form_values, "demo")
    data["name"] = "shop-demo"

    response = client.post("/r/demo/settings/", data, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/r/shop-demo/"
    demo.refresh_from_db()
    assert (demo.name, demo.version) == ("shop-demo", 2)
    assert demo.streams.count() == 3
    assert client.get("/r/demo/").status_code == 404
    assert client.get("/r/shop-demo/").status_code == 200


def test_renaming_onto_another_replication_is_refused(client, user, demo, shop, form_values):
    data = settings_data(client, form_values, "demo")
    data["name"] = "shop"

    response = client.post("/r/demo/settings/", data, headers=HTMX)

    assert response.status_code == 422
    assert "a replication named `shop` exists" in response.content.decode()
    demo.refresh_from_db()
    assert (demo.name, demo.version) == ("demo", 1)
    assert shop.streams.count() == 3


@pytest.mark.parametrize("version", [None, "abc"])
def test_a_save_without_a_usable_version_is_refused(client, user, demo, form_values, version):
    data = settings_data(client, form_values, "demo")
    data["source"] = "BLIND"
    if version is None:
        del data["version"]
    else:
        data["version"] = version

    response = client.post("/r/demo/settings/", data, headers=HTMX)

    assert 400 <= response.status_code < 500
    demo.refresh_from_db()
    assert demo.source == "LOCAL"


# --- two people, one replication -----------------------------------------------


def test_the_second_of_two_saves_from_one_version_is_refused_with_the_first_change(
    client, user, other_client, demo, form_values
):
    alice = settings_data(client, form_values, "demo")
    bob = settings_data(other_client, form_values, "demo")
    assert alice["version"] == bob["version"] == "1"
    alice["source"] = "ALICE_SOURCE"
    bob["target"] = "BOB_TARGET"

    first = client.post("/r/demo/settings/", alice, headers=HTMX)
    second = other_client.post("/r/demo/settings/", bob, headers=HTMX)

    assert first.status_code == 200
    assert second.status_code == 409
    assert second["HX-Retarget"] == "#notices"
    html = second.content.decode()
    assert "Not saved: demo was changed by someone else since you opened it" in html
    assert "(you edited version 1, it is now version 2)" in html
    assert "<del>-source: LOCAL</del>" in html
    assert "<ins>+source: ALICE_SOURCE</ins>" in html
    demo.refresh_from_db()
    assert (demo.source, demo.target, demo.version) == ("ALICE_SOURCE", "DEMO_SQLITE", 2)
    assert list(demo.revisions.values_list("version", flat=True)) == [2, 1]


def test_a_conflict_without_htmx_is_a_page_of_its_own(client, user, other_client, demo, form_values):
    bob = settings_data(other_client, form_values, "demo")
    client.post("/r/demo/settings/", {**settings_data(client, form_values, "demo"), "source": "A"})

    response = other_client.post("/r/demo/settings/", {**bob, "source": "B"})

    assert response.status_code == 409
    assert "<html" in response.content.decode()
    assert "was changed by someone else" in response.content.decode()
    demo.refresh_from_db()
    assert demo.source == "A"


# --- YAML: download, preview, import -----------------------------------------------


def call_export(name: str) -> str:
    out = io.StringIO()
    call_command("export_replication", name, stdout=out)
    return out.getvalue()


def test_the_download_is_what_export_replication_writes(client, user, demo):
    response = client.get("/r/demo/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="demo.yaml"'
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response.content.decode() == call_export("demo")
    assert "file://demo/data/orders.csv:" in response.content.decode()


def test_the_preview_shows_the_yaml_escaped(client, user, make_replication):
    make_replication("evil", streams={"public.t": {"object": "raw.t", "description": "<script>x</script>"}})

    response = client.get("/r/evil/yaml/", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.startswith('<pre class="yaml" tabindex="0">source: PG\ntarget: SNOW\n')
    assert "description: &lt;script&gt;x&lt;/script&gt;" in html


def test_the_import_page_offers_paste_and_upload(client, user, demo):
    response = client.get("/r/demo/import/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<textarea name="text"' in html
    assert '<input type="file" name="file"' in html
    assert 'enctype="multipart/form-data"' in html


IMPORTED = """\
source: LOCAL
target: DEMO_SQLITE
defaults:
  mode: full-refresh
streams:
  file://demo/data/customers.csv:
    object: main.people
"""


def test_a_pasted_import_shows_the_diff_and_asks_first(client, user, demo):
    before = call_export("demo")

    response = client.post("/r/demo/import/", {"text": IMPORTED})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Changes against the current version" in html
    assert "<del>-    object: main.customers</del>" in html
    assert "<ins>+    object: main.people</ins>" in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert '<input type="hidden" name="version" value="1">' in html
    demo.refresh_from_db()
    assert demo.version == 1
    assert call_export("demo") == before


def test_a_confirmed_import_replaces_the_replication(client, user, demo):
    response = client.post("/r/demo/import/", {"text": IMPORTED, "confirm": "yes", "version": "1"})

    assert response.status_code == 302
    assert response["Location"] == "/r/demo/"
    demo.refresh_from_db()
    assert demo.version == 2
    assert list(demo.streams.values_list("name", "config")) == [
        ("file://demo/data/customers.csv", {"object": "main.people"})
    ]
    revision = demo.revisions.get(version=2)
    assert (revision.author, revision.summary) == (user, "imported YAML")
    assert call_export("demo") == revision.yaml


def test_a_confirmed_import_from_an_old_version_is_a_conflict(client, user, demo, form_values):
    client.post("/r/demo/settings/", {**settings_data(client, form_values, "demo"), "source": "NEWER"})

    response = client.post("/r/demo/import/", {"text": IMPORTED, "confirm": "yes", "version": "1"})

    assert response.status_code == 409
    demo.refresh_from_db()
    assert (demo.source, demo.version, demo.streams.count()) == ("NEWER", 2, 3)


def test_an_uploaded_file_imports_like_a_pasted_one(client, user, demo):
    upload = SimpleUploadedFile("replication.yaml", IMPORTED.encode(), content_type="application/yaml")

    preview = client.post("/r/demo/import/", {"file": upload})

    assert preview.status_code == 200
    assert "<ins>+    object: main.people</ins>" in preview.content.decode()
    demo.refresh_from_db()
    assert demo.streams.count() == 3
    # The confirmation form carries the uploaded text back, byte for byte.
    assert base64.b64decode(preview.context["exact"]).decode() == IMPORTED
    confirmed = client.post(
        "/r/demo/import/", {"exact": preview.context["exact"], "confirm": "yes", "version": 1}
    )
    assert confirmed.status_code == 302
    assert demo.streams.get().config == {"object": "main.people"}


def test_broken_yaml_is_refused_with_its_line(client, user, demo):
    # Line 5 is where the reader gives up on the indentation.
    text = "source: A\ntarget: B\nstreams:\n  x: 1\n y: 2\n"

    response = client.post("/r/demo/import/", {"text": text, "confirm": "yes", "version": "1"})

    assert response.status_code == 422
    html = response.content.decode()
    assert '<span class="muted">line 5</span>' in html
    assert "not valid YAML: did not find expected key" in html
    demo.refresh_from_db()
    assert (demo.source, demo.version, demo.streams.count()) == ("LOCAL", 1, 3)


def test_an_invalid_replication_is_refused_with_the_line_of_the_problem(client, user, demo):
    text = "source: A\ntarget: B\nstreams:\n  public.users:\n    object: raw.users\n    mode: incremental\n"

    response = client.post("/r/demo/import/", {"text": text, "confirm": "yes", "version": "1"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "incremental mode needs `primary_key` and/or `update_key`" in html
    assert '<span class="muted">line 6</span>' in html
    demo.refresh_from_db()
    assert (demo.source, demo.version) == ("LOCAL", 1)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 422, "paste YAML or choose a file"),
        ({"text": "   \n"}, 422, "paste YAML or choose a file"),
        ({"text": "\x00\x01binary"}, 422, "Null characters are not allowed."),
        ({"text": "x" * 100_000}, 422, "expected a mapping"),
        ({"text": "- a\n- b"}, 422, "expected a mapping"),
        ({"text": "a: &a [*a]"}, 422, "unknown alias `*a`"),
        # Valid YAML with hostile names: shown escaped in the diff, still waiting for "yes".
        (
            {"text": "source: <script>alert(1)</script>\ntarget: B\nstreams:\n  '<script>': {object: x}\n"},
            200,
            "+source: &lt;script&gt;alert(1)&lt;/script&gt;",
        ),
    ],
)
def test_import_answers_hostile_input_without_saving(client, user, demo, data, status, message):
    response = client.post("/r/demo/import/", data)

    assert response.status_code == status
    html = response.content.decode()
    assert message in html
    assert "<script>alert(1)</script>" not in html
    demo.refresh_from_db()
    assert (demo.source, demo.version, demo.streams.count()) == ("LOCAL", 1, 3)


def test_import_answers_a_binary_upload_with_422(client, user, demo):
    upload = SimpleUploadedFile("x.yaml", b"\xff\xfe\x00garbage", content_type="application/octet-stream")

    response = client.post("/r/demo/import/", {"file": upload})

    assert response.status_code == 422
    demo.refresh_from_db()
    assert demo.version == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"version": "1", "name": "x" * 100_000, "source": "s" * 100_000, "target": "t"},
        {"version": "1", "name": "demo", "source": "A", "target": "B", "env": "x" * 100_000},
        {"version": "1", "name": "<script>", "source": "<script>", "target": "B"},
        {"version": "1", "name": "demo", "source": "A", "target": "B", "defaults-single": "maybe"},
        {"version": "1", "name": "demo", "source": "A", "target": "B", "defaults-mode": "sideways"},
        {"version": "-1", "name": "demo", "source": "A", "target": "B"},
    ],
)
def test_settings_answer_hostile_input_with_4xx(client, user, demo, data):
    response = client.post("/r/demo/settings/", data, headers=HTMX)

    assert 400 <= response.status_code < 500
    assert "<script>" not in response.content.decode()
    demo.refresh_from_db()
    assert (demo.name, demo.source, demo.version) == ("demo", "LOCAL", 1)


def test_a_huge_version_number_is_not_a_server_error(client, user, demo, form_values):
    data = {**settings_data(client, form_values, "demo"), "version": "9" * 20, "source": "A"}

    response = client.post("/r/demo/settings/", data, headers=HTMX)

    assert 400 <= response.status_code < 500
    demo.refresh_from_db()
    assert (demo.source, demo.version) == ("LOCAL", 1)


def test_settings_are_checked_as_you_type_without_saving(client, user, demo, form_values):
    data = settings_data(client, form_values, "demo")
    data["defaults-mode"] = "incremental"  # the demo's customers and products have no keys
    data["env"] = "SLING_THREADS: 2"

    response = client.post("/r/demo/settings/check/", data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.count("incremental mode needs `primary_key` and/or `update_key`") == 2
    demo.refresh_from_db()
    assert (demo.version, demo.defaults["mode"], demo.env) == (1, "full-refresh", {})


def test_unreadable_settings_are_named_as_you_type(client, user, demo, form_values):
    data = {**settings_data(client, form_values, "demo"), "env": "a: [1"}

    response = client.post("/r/demo/settings/check/", data, headers=HTMX)

    assert response.status_code == 200
    assert "<code>env</code>" in response.content.decode()
    assert "line 1: not valid YAML" in response.content.decode()


def test_a_long_name_may_wrap_after_its_separators_only_and_a_short_one_not_at_all():
    from studio.templatetags.wrapping import breakable

    assert breakable("main.customers") == "main.customers"
    long = "file://landing/2024/orders_by-region.csv"
    assert breakable(long) == "file:/<wbr>/<wbr>landing/<wbr>2024/<wbr>orders_<wbr>by-<wbr>region.<wbr>csv"
    assert breakable("<b>&") == "&lt;b&gt;&amp;"
    assert breakable("x" * 30 + ".<script>") == "x" * 30 + ".<wbr>&lt;script&gt;"
