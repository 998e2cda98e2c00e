from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from replication.config import ReplicationConfig
from studio import models
from studio.services.replications import replication_save

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stream_edited_in_the_browser_downloads_as_export_writes_it(page, tmp_path):
    page.goto(f"{page.base}/r/demo/")
    page.click("text=file://demo/data/products.csv")
    page.wait_for_selector("#stream-form")
    page.select_option("#id_mode", "truncate")
    page.fill("#id_primary_key", "product_id")
    # Validation as you type: the preview shows the asset key before anything is saved.
    page.fill("#id_object", "main.{stream_file_name}_v2")
    # (Locators, not wait_for_function: the page's CSP forbids eval, as it should.)
    page.locator("#stream-preview", has_text="main.products_v2").wait_for()
    assert "target/main/_stream_file_name__v2" in page.inner_text("#stream-preview")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".panel-head .ok")

    with page.expect_download() as download:
        page.click("text=Download YAML")
    path = tmp_path / "demo.yaml"
    download.value.save_as(path)

    exported = io.StringIO()
    call_command("export_replication", "demo", stdout=exported)
    assert path.read_text() == exported.getvalue()
    assert (
        "    mode: truncate\n    object: main.{stream_file_name}_v2\n    primary_key: product_id\n"
        in exported.getvalue()
    )


def test_a_refused_save_says_why_and_keeps_the_data(page):
    page.goto(f"{page.base}/r/demo/")
    page.click("text=file://demo/data/customers.csv")
    page.wait_for_selector("#stream-form")
    page.select_option("#id_mode", "incremental")
    page.click("text=Save stream")
    page.wait_for_selector("#notices .problems.refused")
    assert "incremental mode needs `primary_key` and/or `update_key`" in page.inner_text("#notices")

    exported = io.StringIO()
    call_command("export_replication", "demo", stdout=exported)
    assert "incremental" not in exported.getvalue().split("customers.csv:")[1].split("file://")[0]


def test_settings_are_checked_as_you_type_and_saved(page):
    page.goto(f"{page.base}/r/demo/")
    page.click("text=Settings & defaults")
    page.fill("#id_env", "SLING_THREADS: [1")
    page.locator("#settings-check", has_text="not valid YAML").wait_for()
    # (One thread: more would be warned of, as sling needs a CLI Pro token for them.)
    page.fill("#id_env", "SLING_THREADS: 1")
    page.locator("#settings-check .problems").wait_for(state="detached")
    page.click("text=Save settings")
    page.locator("#settings .ok").wait_for()

    exported = io.StringIO()
    call_command("export_replication", "demo", stdout=exported)
    assert exported.getvalue().endswith("env:\n  SLING_THREADS: 1\n")


def test_all_streams_the_filter_matches_are_disabled_at_once_from_the_bulk_bar(page):
    streams = {f"public.t{i:04}": {"object": f"raw.t{i:04}"} for i in range(250)}
    config = ReplicationConfig(source="PG", target="SNOW", streams=streams, defaults={"mode": "full-refresh"})
    replication_save(name="big", config=config, summary="created")
    page.goto(f"{page.base}/r/big/")
    assert "250 streams" in page.inner_text("main")
    page.fill("input[name=q]", "t01")
    page.locator("#streams", has_text="all 100 matching").wait_for()

    page.check("#bulk input[name=matching]")
    page.select_option("#bulk select[name=action]", "disable")
    page.click("#bulk .bulk-bar button:not([type=button])")
    page.locator("#streams .badge", has_text="disabled").first.wait_for()  # the filter kept
    # The first page of the 100. (A row keeps its old class until htmx settles the swap: the
    # rows are counted once it has.)
    expect(page.locator("#streams tbody tr.disabled")).to_have_count(50)

    disabled = set(models.Stream.objects.filter(disabled=True).values_list("name", flat=True))
    assert disabled == {f"public.t{i:04}" for i in range(100, 200)}


def test_a_saved_stream_shows_in_its_row_and_the_table_stays_on_its_page(page):
    streams = {f"public.t{i:04}": {"object": f"raw.t{i:04}"} for i in range(120)}
    config = ReplicationConfig(source="PG", target="SNOW", streams=streams, defaults={"mode": "full-refresh"})
    replication_save(name="big", config=config, summary="created")
    pk = models.Stream.objects.get(name="public.t0070").pk
    page.goto(f"{page.base}/r/big/")
    page.click("#streams .pager a:has-text('Next')")
    page.locator("#streams .pager", has_text="Page 2 of 3").wait_for()
    page.click("#streams a:text-is('public.t0070')")
    page.wait_for_selector("#stream-form")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    page.select_option("#stream-panel #id_mode", "incremental")
    page.fill("#stream-panel #id_update_key", "updated_at")
    page.click("#stream-panel button.primary")
    page.locator("#stream-panel .ok", has_text="Saved").wait_for()

    row = page.locator(f"#stream-row-{pk}")
    assert "incremental" in row.inner_text() and "uk: updated_at" in row.inner_text()
    assert "Page 2 of 3" in page.inner_text("#streams .pager")
    # The save's answer carried the row and the problems: nothing else was fetched.
    assert [url for url in asked if "/check/" not in url] == [f"{page.base}/r/big/streams/{pk}/"]
    page.click("#streams .pager a:has-text('Next')")  # the pager still works from there
    page.locator("#streams .pager", has_text="Page 3 of 3").wait_for()
