"""The source's columns in the stream panel, in a real browser against the real sling: read them,
pick a primary key from the list, see a misspelt update_key flagged, open the first rows, see a
schema change listed before a run."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from studio.services.columns import columns_discover
from tests.run_support import command, replication, sqlite_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STREAM = "file://demo/data/products.csv"


def _panel_with_columns(page):
    page.goto(f"{page.base}/r/demo/")
    page.click(f"text={STREAM}")
    page.wait_for_selector("#stream-form")
    page.click("text=Read the columns")
    page.wait_for_selector("#stream-columns option[value='product_id']", state="attached")


def test_a_primary_key_is_picked_from_the_columns_sling_read(page):
    _panel_with_columns(page)
    assert page.get_attribute("#id_primary_key", "list") == "stream-columns"
    options = page.eval_on_selector_all("#stream-columns option", "els => els.map(e => [e.value, e.text])")
    assert ["product_id", "bigint"] in options
    # The panel's list: the field focused, the column clicked (the browser's own datalist
    # popup cannot be driven headless).
    page.fill("#id_primary_key", "")
    page.focus("#id_primary_key")
    page.click("#stream-columns-panel button[data-column='product_id']")
    expect(page.locator("#id_primary_key")).to_have_value("product_id")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".panel-head .ok")
    assert page.input_value("#id_primary_key") == "product_id"


def test_a_misspelt_update_key_is_flagged_and_the_first_rows_open(page):
    _panel_with_columns(page)
    page.fill("#id_update_key", "prodct_id")
    flagged = page.wait_for_selector("#stream-preview li.warning:has-text('(update_key) is not a column')")
    assert "did you mean `product_id`?" in flagged.inner_text()
    page.click("text=Show the first rows")
    page.wait_for_selector("#preview-rows")
    header = page.eval_on_selector_all("#preview-rows th", "els => els.map(e => e.textContent)")
    assert header[0] == "product_id"
    assert page.locator("#preview-rows tbody tr").count() > 0


def test_a_schema_change_is_listed_before_a_run(page, tmp_path):
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("create table orders (id integer primary key, customer text, total real)")
        db.execute("insert into orders values (1, 'ann', 2.5)")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    stored = replication(
        "orders",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.orders:\n    object: main.orders\n"
        "    mode: incremental\n    primary_key: [id]\n",
    )
    assert command("orders")[0] == 0
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("alter table orders drop column total")

    page.goto(f"{page.base}/r/orders/streams/{stored.streams.get().pk}/")
    page.click("text=Read the columns")
    row = page.wait_for_selector("#schema-changes tr:has-text('total')")
    assert "no longer sent" in row.inner_text()
    assert "new rows get NULL in it" in row.inner_text()


def test_a_column_is_followed_in_the_lineage(page, tmp_path):
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("create table purchases (id integer primary key, Customer text, secret text)")
    sqlite_connection("SHOP", tmp_path / "shop.db")
    sqlite_connection("TARGET_DB", tmp_path / "target.db")
    replication(
        "purchases",
        "source: SHOP\ntarget: TARGET_DB\nstreams:\n  main.purchases:\n    object: main.purchases\n"
        "    select: [-secret]\n    target_options: {column_casing: lower}\n",
    )
    columns_discover(connection="SHOP", streams=["main.purchases"])

    page.goto(f"{page.base}/lineage/node/?key=target/main/purchases")
    row = page.locator("#lineage-columns tr", has_text="customer")
    assert "(renamed)" in row.inner_text()
    assert "(excluded)" in page.locator("#lineage-columns tr", has_text="secret").inner_text()
    # From the target's column to the source's, and back.
    row.get_by_role("link", name="Customer").click()
    chosen = page.wait_for_selector("#lineage-columns tr.chosen")
    assert chosen.inner_text().startswith("Customer")
    page.locator("#lineage-columns tr.chosen").get_by_role("link", name="customer").click()
    expect(page.locator("#lineage-columns tr.chosen td").first).to_have_text("customer")
    expect(page.locator("#lineage-panel h2")).to_have_text("target/main/purchases")
