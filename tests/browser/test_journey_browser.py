"""The main journey end to end, in Chromium: sign in, add a connection, import YAML,
edit a stream, see the graph, run a stream, watch the log finish, export YAML."""

from __future__ import annotations

import io
import sqlite3
import threading

import pytest
from django.conf import settings
from django.core.management import call_command

from studio import models
from studio.tasks import execute_run

pytestmark = [pytest.mark.browser, pytest.mark.sling, pytest.mark.django_db(transaction=True)]

SHOP = """\
source: LOCAL
target: SHOP_DB
defaults:
  mode: full-refresh
  source_options: {format: csv, header: true}
streams:
  file://demo/data/customers.csv:
    object: main.customers
  file://demo/data/orders.csv:
    object: main.orders
"""


def test_the_main_journey(page, tmp_path):
    shop_db = tmp_path / "shop.sqlite"

    # Add a connection.
    page.goto(f"{page.base}/connections/new/")
    page.fill("#id_name", "SHOP_DB")
    page.select_option("#id_type", "sqlite")
    page.locator("#id_instance").wait_for()  # the type's fields swap in
    page.fill("#id_url", f"sqlite://{shop_db}")
    page.click("text=Save connection")
    page.locator(".flash", has_text="Saved connection SHOP_DB").wait_for()

    # Import YAML into a new replication, confirming after the diff.
    page.goto(f"{page.base}/replications/")
    page.fill("#id_name", "shop")
    page.fill("#id_source", "LOCAL")
    page.fill("#id_target", "SHOP_DB")
    page.click("button:has-text('Create')")
    page.wait_for_url("**/r/shop/")
    page.click("text=Import YAML")
    page.fill("#id_text", SHOP)
    page.click("text=Preview changes")
    assert "+  file://demo/data/orders.csv:" in page.inner_text("pre.diff")
    page.click("text=Replace shop with this")
    page.locator(".flash", has_text="Replaced `shop`").wait_for()

    # Edit a stream.
    page.get_by_role("link", name="file://demo/data/orders.csv", exact=True).first.click()
    page.locator("#stream-form").wait_for()
    page.select_option("#id_mode", "incremental")
    page.fill("#id_primary_key", "order_id")
    page.fill("#id_update_key", "ordered_at")
    page.click("text=Save stream")
    page.locator(".panel-head .ok").wait_for()

    # See the graph: the edited stream's asset and its source.
    page.goto(f"{page.base}/lineage/?replication=shop")
    page.locator("#cy canvas").first.wait_for()
    drawn = page.text_content("#lineage-graph")  # the list of drawn nodes beside the canvas
    assert "target/main/orders" in drawn
    assert "file_demo_data_orders/csv" in drawn

    # Run the stream from the editor and watch the log finish (the worker executes it).
    page.goto(f"{page.base}/r/shop/")
    page.get_by_role("link", name="file://demo/data/orders.csv", exact=True).first.click()
    page.locator("#stream-form").wait_for()
    page.click("#stream-panel >> text=Run stream")
    page.wait_for_url("**/runs/*/")
    # What the worker's task does with the queued run (the worker command itself installs
    # signal handlers, which only the main thread may; tests/commands/test_worker.py runs it for real).
    queued = models.Run.objects.get(status="queued")
    worker = threading.Thread(target=execute_run.call, args=(queued.pk,))
    worker.start()
    page.locator("#run-status .status.succeeded").first.wait_for(timeout=60_000)
    page.locator("#log-lines", has_text="execution succeeded").wait_for(timeout=10_000)
    worker.join(timeout=60)
    assert "300" in page.inner_text("#run-status")
    with sqlite3.connect(shop_db) as db:
        assert db.execute("select count(*) from orders").fetchone() == (300,)

    # Export YAML: the download is what export_replication writes.
    page.goto(f"{page.base}/r/shop/")
    with page.expect_download() as download:
        page.click("text=Download YAML")
    exported = io.StringIO()
    call_command("export_replication", "shop", stdout=exported)
    with open(download.value.path()) as downloaded:
        assert downloaded.read() == exported.getvalue()
    assert "primary_key: order_id" in exported.getvalue()
    assert models.Run.objects.get().status == "succeeded"
    assert settings.DATA_DIR.exists()
