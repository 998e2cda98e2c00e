"""The rough edges a new user hit (issue 15), each driven in Chromium as that user would."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from django.conf import settings

from studio import models

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each stretch of a name between its break opportunities (<wbr>) lies on one line: the name
# wraps at its separators only, never inside a word.
SEGMENTS_ON_ONE_LINE = """(selector) => {
  const link = document.querySelector(selector);
  return [...link.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => {
    const range = document.createRange();
    range.selectNodeContents(n);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    return tops.size;
  });
}"""


def sign_in(chromium: Any, base: str, who: str) -> Any:
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login/")
    page.fill("#id_username", who)
    page.fill("#id_password", who)
    page.click("button.primary")
    page.wait_for_url(f"{base}/")
    return page


def demo_sqlite_url() -> str:
    return f"sqlite://{settings.DATA_DIR / 'files' / 'demo.sqlite'}"


@pytest.fixture
def tables(demo_db: None) -> None:
    """Tables `main.orders` and `main.customers` in the demo's SQLite database."""
    with sqlite3.connect(settings.DATA_DIR / "files" / "demo.sqlite") as db:
        db.execute("create table orders (order_id integer primary key, amount real)")
        db.execute("create table customers (customer_id integer primary key, name text)")
    db.close()


# Connections


@pytest.mark.sling
def test_a_new_connection_is_tested_with_the_values_typed_before_it_is_saved(page, tables):
    page.goto(f"{page.base}/connections/new/")
    page.select_option("#id_type", "sqlite")
    page.locator("#id_instance").wait_for()  # the sqlite fields swapped in (postgres has a url too)
    page.fill("#id_url", demo_sqlite_url())
    page.click("#connection-form button:has-text('Test')")
    page.locator("#test-result", has_text="works").wait_for()
    assert page.inner_text("#test-result") == "✓ NEW_CONNECTION: connection works"
    # Tested, not saved.
    assert list(models.Connection.objects.values_list("name", flat=True)) == ["DEMO_SQLITE"]

    page.fill("#id_url", "sqlite:///no/such/folder/x.db")
    page.click("#connection-form button:has-text('Test')")
    page.locator("#test-result .error").wait_for()
    assert "works" not in page.inner_text("#test-result")


@pytest.mark.sling
def test_the_edit_page_tests_discovers_and_deletes_the_connection(page, tables):
    page.goto(f"{page.base}/connections/DEMO_SQLITE/")
    page.click("#connection-form button:has-text('Test')")
    page.locator("#test-result", has_text="DEMO_SQLITE: connection works").wait_for()
    page.click(".page-head button:has-text('Discover')")
    page.locator("#discover", has_text="Discovered in DEMO_SQLITE").wait_for()
    page.click(".page-head a:has-text('Delete')")
    page.wait_for_url("**/connections/DEMO_SQLITE/delete/")
    # It asks first, naming what uses the connection.
    assert page.inner_text("#using") == "demo (target)"
    assert models.Connection.objects.filter(name="DEMO_SQLITE").exists()
    page.click("button:has-text('Delete DEMO_SQLITE')")
    page.wait_for_url(f"{page.base}/connections/")
    assert not models.Connection.objects.filter(name="DEMO_SQLITE").exists()


def test_the_file_type_says_what_url_it_wants_and_a_type_change_keeps_what_was_typed(page):
    page.goto(f"{page.base}/connections/new/")
    # No name yet: changing the type shows no error.
    page.select_option("#id_type", "file")
    page.locator("#connection-fields .help", has_text="file:///srv/data/").wait_for()
    assert page.locator("#connection-fields .error").count() == 0
    page.fill("#id_name", "MY_FILES")
    page.fill("#id_url", "file:///srv/data/")
    page.select_option("#id_type", "s3")
    page.locator("#connection-fields .help", has_text="s3://bucket/prefix/").wait_for()
    assert page.input_value("#id_name") == "MY_FILES"
    assert page.locator("#connection-fields .error").count() == 0


# Source and target


def test_source_and_target_come_from_the_known_connections_and_an_unknown_one_is_a_problem(page):
    page.goto(f"{page.base}/replications/")
    for box in ("#id_source", "#id_target"):
        assert page.get_attribute(box, "list") == "connection-names"
    offered = page.eval_on_selector_all("#connection-names option", "(os) => os.map((o) => o.value)")
    assert {"DEMO_SQLITE", "LOCAL"} <= set(offered)
    # A name not among them can still be typed.
    page.fill("#id_name", "to_nowhere")
    page.fill("#id_source", "LOCAL")
    page.fill("#id_target", "NOT_YET_DEFINED")
    page.click("aside button:has-text('Create')")
    page.wait_for_url("**/r/to_nowhere/")
    page.click("form.add-stream input[name=name]")
    page.fill("form.add-stream input[name=name]", "file://demo/data/orders.csv")
    page.fill("form.add-stream input[name=object]", "main.orders")
    page.click("form.add-stream button")
    page.locator("#stream-count", has_text="1 stream").wait_for()
    page.reload()
    assert "connection `NOT_YET_DEFINED` is not defined" in page.inner_text("main")


# Discover -> Add streams


@pytest.mark.sling
def test_discovered_streams_start_a_new_replication_and_land_in_the_editor(page, tables):
    page.goto(f"{page.base}/connections/DEMO_SQLITE/")
    page.click(".page-head button:has-text('Discover')")
    page.locator("#discover", has_text="Discovered in DEMO_SQLITE").wait_for()
    # Nothing reads from DEMO_SQLITE yet: the form offers a new replication, with an object.
    assert "No replication reads from DEMO_SQLITE yet" in page.inner_text("#discover")
    assert page.input_value("#add-object") == "{target_schema}.{stream_schema}_{stream_table}"
    page.check("#discover input[value='main.orders']")
    page.fill("#new-name", "sqlite_copy")
    page.fill("#new-target", "DEMO_SQLITE")
    page.fill("#add-object", "main.copy_{stream_table}")
    page.click("#discover button.primary")
    page.wait_for_url("**/r/sqlite_copy/")
    # The editor, styled, with the stream and its object.
    assert page.locator("link[rel=stylesheet]").count() >= 1
    assert "Added 1 stream(s) from DEMO_SQLITE to sqlite_copy." in page.inner_text(".flash")
    assert page.inner_text("#stream-count") == "1 stream"
    assert "main.copy_orders" in page.inner_text("#streams")

    # Now a replication reads it: discovering again adds to it.
    page.goto(f"{page.base}/connections/DEMO_SQLITE/")
    page.click(".page-head button:has-text('Discover')")
    page.locator("#add-to").wait_for()
    assert page.eval_on_selector_all("#add-to option", "(os) => os.map((o) => o.value)") == ["sqlite_copy"]
    page.check("#discover input[value='main.customers']")
    page.click("#discover button.primary")
    page.wait_for_url("**/r/sqlite_copy/")
    assert page.inner_text("#stream-count") == "2 streams"


# The page stays true after htmx actions


def test_the_header_count_the_add_form_and_a_bulk_message_follow_each_change(page):
    page.goto(f"{page.base}/r/demo/")
    assert page.inner_text("#stream-count") == "3 streams"
    page.fill("form.add-stream input[name=name]", "file://demo/data/extra.csv")
    page.fill("form.add-stream input[name=object]", "main.extra")
    page.click("form.add-stream button")
    page.locator("#stream-count", has_text="4 streams").wait_for()
    # Emptied for the next one.
    assert page.input_value("form.add-stream input[name=name]") == ""
    assert page.input_value("form.add-stream input[name=object]") == ""

    page.check("#streams input[aria-label='Select file://demo/data/extra.csv']")
    page.select_option("select[name=action]", "disable")
    page.click("button:has-text('Apply to selected')")
    page.locator("#streams p.ok", has_text="Disabled 1 stream.").wait_for()
    assert page.inner_text("#stream-count") == "4 streams"


def test_a_cancelled_run_leaves_no_stopping_notice(page):
    demo = models.Replication.objects.get(name="demo")
    run = models.Run.objects.create(replication=demo, replication_name="demo", status="running")
    page.goto(f"{page.base}/runs/{run.pk}/")
    page.click("button:has-text('Cancel run')")
    page.locator("#run-status .notice", has_text="Stopping").wait_for()
    # What the worker does once sling has stopped (no sling runs in this test).
    models.Run.objects.filter(pk=run.pk).update(status="cancelled")
    page.locator("#run-status .status.cancelled").wait_for()
    assert page.locator("text=Stopping").count() == 0


# Destructive actions ask first


def confirmations(page: Any) -> dict[str, Any]:
    """The questions the page asks (`asked`), answered as `accept` says at the time."""
    seen: dict[str, Any] = {"asked": [], "accept": False}

    def answer(dialog: Any) -> None:
        seen["asked"].append(dialog.message)
        dialog.accept() if seen["accept"] else dialog.dismiss()

    page.on("dialog", answer)
    return seen


def test_a_bulk_delete_asks_first_and_does_nothing_when_refused(page):
    dialogs = confirmations(page)
    page.goto(f"{page.base}/r/demo/")
    page.check("#streams input[aria-label='Select file://demo/data/products.csv']")
    page.select_option("select[name=action]", "delete")
    page.click("button:has-text('Apply to selected')")
    page.wait_for_timeout(500)
    assert dialogs["asked"] == [
        "Delete the 1 ticked stream(s)? A new version is saved without them (History can restore it)."
    ]
    assert models.Stream.objects.filter(name="file://demo/data/products.csv").exists()

    dialogs["accept"] = True
    page.click("button:has-text('Apply to selected')")
    page.locator("#stream-count", has_text="2 streams").wait_for()
    assert not models.Stream.objects.filter(name="file://demo/data/products.csv").exists()
    # Other bulk actions do not ask.
    page.check("#streams input[aria-label='Select file://demo/data/orders.csv']")
    page.select_option("select[name=action]", "disable")
    page.click("button:has-text('Apply to selected')")
    page.locator("#streams p.ok", has_text="Disabled 1 stream.").wait_for()
    assert len(dialogs["asked"]) == 2


def test_a_restore_asks_first(page):
    dialogs = confirmations(page)
    page.goto(f"{page.base}/r/demo/")
    page.fill("form.add-stream input[name=name]", "file://demo/data/extra.csv")
    page.fill("form.add-stream input[name=object]", "main.extra")
    page.click("form.add-stream button")
    page.locator("#stream-count", has_text="4 streams").wait_for()
    page.goto(f"{page.base}/r/demo/history/")
    page.click("button:has-text('Restore')")
    page.wait_for_timeout(500)
    assert dialogs["asked"][0].startswith("Restore version 1?")
    assert models.Replication.objects.get(name="demo").version == 2

    dialogs["accept"] = True
    page.click("button:has-text('Restore')")
    page.wait_for_url("**/r/demo/**")
    assert models.Replication.objects.get(name="demo").version == 3
    assert not models.Stream.objects.filter(name="file://demo/data/extra.csv").exists()


def test_a_schedule_delete_asks_first(page):
    dialogs = confirmations(page)
    demo = models.Replication.objects.get(name="demo")
    models.Schedule.objects.create(replication=demo, cron="0 3 * * *")
    page.goto(f"{page.base}/r/demo/schedules/")
    page.click("#schedules button:has-text('Delete')")
    page.wait_for_timeout(500)
    assert dialogs["asked"][0].startswith("Delete schedule #")
    assert models.Schedule.objects.filter(replication=demo).count() == 1


# The streams table


def test_the_streams_table_takes_the_width_and_wraps_names_only_at_separators(page):
    long_name = "file://demo/data/a_rather_long_folder_name/with_several_parts/and_a_long_file_name_too.csv"
    page.goto(f"{page.base}/r/demo/")
    page.fill("form.add-stream input[name=name]", long_name)
    page.fill("form.add-stream input[name=object]", "main.a_table_with_a_long_name_for_the_test")
    page.click("form.add-stream button")
    page.locator("#stream-count", has_text="4 streams").wait_for()
    page.click("text=file://demo/data/orders.csv")
    page.wait_for_selector("#stream-form")
    streams = page.locator("#streams").bounding_box()
    panel = page.locator("#stream-panel").bounding_box()
    # The table gets more of the width than the stream's panel beside it.
    assert streams["width"] > 1.5 * panel["width"]
    stream = models.Stream.objects.get(name=long_name)
    link = f"#stream-row-{stream.pk} .stream-name a"
    lines = page.evaluate(SEGMENTS_ON_ONE_LINE, link)
    assert len(lines) > 5
    assert set(lines) == {1}


# The runs list


def test_the_runs_list_filters_by_replication_status_and_trigger(page):
    demo = models.Replication.objects.get(name="demo")
    other = models.Replication.objects.create(name="other", source="LOCAL", target="DEMO_SQLITE")
    made = {
        "failed manual": models.Run.objects.create(
            replication=demo, replication_name="demo", status="failed"
        ),
        "ok schedule": models.Run.objects.create(
            replication=demo, replication_name="demo", status="succeeded", trigger="schedule"
        ),
        "other": models.Run.objects.create(replication=other, replication_name="other", status="failed"),
    }
    page.goto(f"{page.base}/runs/")

    def shown() -> set[int]:
        hrefs = page.eval_on_selector_all(
            "table.grid tbody a[href^='/runs/']", "(as) => as.map((a) => a.href)"
        )
        return {int(h.rstrip("/").rsplit("/", 1)[1]) for h in hrefs}

    assert shown() == {r.pk for r in made.values()}
    page.select_option("#run-filters select[name=replication]", "demo")
    page.click("#run-filters button")
    page.wait_for_url("**replication=demo**")
    assert shown() == {made["failed manual"].pk, made["ok schedule"].pk}
    page.select_option("#run-filters select[name=status]", "failed")
    page.click("#run-filters button")
    page.wait_for_url("**status=failed**")
    assert shown() == {made["failed manual"].pk}
    page.select_option("#run-filters select[name=status]", "")
    page.select_option("#run-filters select[name=trigger]", "schedule")
    page.click("#run-filters button")
    page.wait_for_url("**trigger=schedule**")
    assert shown() == {made["ok schedule"].pk}
    page.select_option("#run-filters select[name=trigger]", "retry")
    page.click("#run-filters button")
    page.wait_for_url("**trigger=retry**")
    assert "No run matches these filters." in page.inner_text("table.grid")


# A viewer


def test_a_viewer_sees_read_only_fields_and_no_save(chromium, live_server, demo_db):
    page = sign_in(chromium, live_server.url, "viewer")
    try:
        page.goto(f"{live_server.url}/r/demo/")
        # Each stream's link says what a viewer can do with it.
        assert page.locator("table.streams td.actions a", has_text="Edit").count() == 0
        page.locator("table.streams td.actions a", has_text="View").first.wait_for()
        page.click("text=file://demo/data/orders.csv")
        page.wait_for_selector("#stream-form")
        assert "Read only" in page.inner_text("#stream-panel")
        assert page.is_disabled("#stream-form #id_object")
        assert page.locator("#stream-panel button:has-text('Save stream')").count() == 0
        page.click("text=Settings & defaults")
        assert page.is_disabled("#settings #id_source")
        assert page.locator("button:has-text('Save settings')").count() == 0
        # No bulk action to apply, nor a stream to add.
        assert page.locator("button:has-text('Apply to selected')").count() == 0
        assert page.locator("form.add-stream").count() == 0
    finally:
        page.context.close()


@pytest.mark.sling
def test_discover_offers_an_object_template_to_a_replication_without_one(page, tables):
    models.Replication.objects.create(name="from_sqlite", source="DEMO_SQLITE", target="DEMO_SQLITE")
    page.goto(f"{page.base}/connections/DEMO_SQLITE/")
    page.click(".page-head button:has-text('Discover')")
    page.locator("#add-to").wait_for()
    assert page.inner_text("#add-to option") == "from_sqlite (→ DEMO_SQLITE, no defaults.object)"
    # Into a database: a table named after the source's, in the target's schema.
    assert page.input_value("#add-object") == "{target_schema}.{stream_schema}_{stream_table}"
    page.fill("#add-object", "main.copy_{stream_table}")
    page.check("#discover input[value='main.orders']")
    page.click("#discover button.primary")
    page.wait_for_url("**/r/from_sqlite/")
    assert "main.copy_orders" in page.inner_text("#streams")
    assert models.Replication.objects.get(name="from_sqlite").defaults == {
        "object": "main.copy_{stream_table}"
    }

    # Without an object the streams are refused on a page of the studio, never a bare fragment.
    models.Replication.objects.filter(name="from_sqlite").update(defaults={})
    page.goto(f"{page.base}/connections/DEMO_SQLITE/")
    page.click(".page-head button:has-text('Discover')")
    page.locator("#add-to").wait_for()
    page.fill("#add-object", "")
    page.check("#discover input[value='main.customers']")
    page.click("#discover button.primary")
    page.locator("h1", has_text="Streams not added").wait_for()
    assert 'streams["main.customers"] no `object`' in page.inner_text("main")
    assert page.locator("nav a:has-text('Connections')").count() == 1
    assert "Connections (discover DEMO_SQLITE again)" in page.inner_text("a.crumb")
