"""Two replications that define one asset key, seen as a person would, in Chromium: the
lineage page draws both assets and says why Dagster would refuse them, and each editor
warns of the other. Screenshots go to $LINEAGE_SCREENSHOTS to look at them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from studio.services.replications import replication_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CRM = """\
source: CRM
target: DEMO_SQLITE
streams:
  public.orders:
    object: main.orders
"""


def test_a_conflict_shows_on_the_lineage_page_and_in_both_editors(page, tmp_path):
    shots = Path(os.environ.get("LINEAGE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    replication_import(name="crm", text=CRM)

    page.goto(f"{page.base}/lineage/")
    page.wait_for_selector("body[data-lineage-rendered]")
    notice = page.locator("#lineage-graph .problems", has_text="defined more than once")
    notice.wait_for()
    assert "target/main/orders" in notice.inner_text()
    assert "replication crm (stream public.orders)" in notice.inner_text()
    conflicting = page.evaluate("() => window.lineageGraph.nodes('[conflict]').map((n) => n.data('key'))")
    assert sorted(conflicting) == [
        "target/main/orders @ crm: public.orders",
        "target/main/orders @ demo: file://demo/data/orders.csv",
    ]
    page.screenshot(path=shots / "lineage-conflict.png", full_page=True)

    for name, other in (("demo", "replication crm (stream public.orders)"), ("crm", "replication demo")):
        page.goto(f"{page.base}/r/{name}/")
        problems = page.locator("#problems")
        problems.get_by_text("is also defined by").first.wait_for()
        assert other in problems.inner_text()
        page.screenshot(path=shots / f"editor-conflict-{name}.png", full_page=True)
