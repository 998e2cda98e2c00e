"""The source's columns in the stream panel, in a real browser against the real sling: read them,
pick a primary key from the list, see a misspelt update_key flagged, open the first rows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

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
