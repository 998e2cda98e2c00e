"""A commented replication.yaml uploaded, one field edited in the editor, downloaded again:
the download differs from the file by that one line (issue 13)."""

from __future__ import annotations

import difflib

import pytest

from studio.services.replications import replication_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWNED = """\
# Orders and customers, loaded nightly. Owner: data team (#data-eng).
source: DEMO_SQLITE
target: DEMO_SQLITE

defaults:
  mode: full-refresh   # everything is small enough
  object: 'main.{stream_table}_copy'

streams:
  # The shop's orders; `status` is free text.
  main.orders:
    description: "Orders, as the shop writes them"

  # Disabled until legal says yes (ticket DATA-112).
  main.customers:
    disabled: true
    object: main.customers_copy   # kept apart from the CRM's
"""


def test_one_field_edited_in_the_browser_changes_one_line_of_the_download(page, tmp_path):
    replication_create(name="owned", source="DEMO_SQLITE", target="DEMO_SQLITE")
    upload = tmp_path / "owned.yaml"
    upload.write_text(OWNED)

    page.goto(f"{page.base}/r/owned/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.click("text=Preview changes")
    page.click("text=Replace owned with this")
    page.get_by_text("Replaced `owned` with the imported YAML.").wait_for()

    # The text as written, comments and all, in the replication.yaml box (loaded when opened).
    page.click("#yaml-preview-box summary")
    page.locator("#yaml-preview", has_text="Owner: data team (#data-eng)").wait_for()

    page.locator("#streams").get_by_role("link", name="main.orders").click()
    page.wait_for_selector("#stream-form")
    page.fill("#id_description", "Orders, as the shop writes them (since 2019)")
    page.click("text=Save stream")
    page.wait_for_selector(".panel-head .ok")
    page.locator("#yaml-preview", has_text="(since 2019)").wait_for()  # open: refreshed by the save

    with page.expect_download() as download:
        page.click("text=Download YAML")
    path = tmp_path / "downloaded.yaml"
    download.value.save_as(path)

    diff = [
        line
        for line in difflib.unified_diff(OWNED.splitlines(), path.read_text().splitlines(), n=0, lineterm="")
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert diff == [
        '-    description: "Orders, as the shop writes them"',
        '+    description: "Orders, as the shop writes them (since 2019)"',
    ]
