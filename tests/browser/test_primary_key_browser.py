"""A primary key of one column, typed in the stream panel, reads as that column wherever
the studio shows it (it was once spelt out letter by letter in the streams table)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_single_primary_key_shows_as_its_column_name(page):
    page.goto(f"{page.base}/r/demo/")
    page.click("text=file://demo/data/products.csv")
    page.wait_for_selector("#stream-form")
    page.fill("#id_primary_key", "product_id")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".panel-head .ok")

    page.reload()
    row = page.locator("tr", has_text="file://demo/data/products.csv")
    assert "pk: product_id" in row.inner_text()
    assert "p, r, o" not in page.inner_text("#streams")
    # The panel shows it back as typed.
    page.click("text=file://demo/data/products.csv")
    page.wait_for_selector("#stream-form")
    assert page.input_value("#id_primary_key") == "product_id"

    # The lineage panel's effective config says the same.
    page.goto(f"{page.base}/lineage/node/?key=target/main/products")
    assert "primary_key: product_id" in page.inner_text("body")
