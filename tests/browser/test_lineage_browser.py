"""The lineage page in Chromium: select, click a node, read its panel, highlight a path,
export, add a downstream asset. Screenshots go to a temporary folder (or to
$LINEAGE_SCREENSHOTS, to look at them) and node boxes are checked for overlaps."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from studio import models

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDERS = "target/main/orders"
# Reads cytoscape's own geometry; page.evaluate is allowed by the page's CSP (it is not eval).
BOXES = """() => window.lineageGraph.nodes("[kind != 'box']").map((n) => {
  const b = n.boundingBox({ includeLabels: false });
  return { key: n.data("key") || n.data("unit"), x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 };
})"""
RENDERED = """(key) => {
  const n = window.lineageGraph.nodes().filter((n) => n.data("key") === key)[0];
  return n ? n.renderedPosition() : null;
}"""
LABEL_FITS = """() => window.lineageGraph.nodes("[w]").every((n) => {
  const label = n.boundingBox({ includeNodes: false, includeEdges: false });
  const node = n.boundingBox({ includeLabels: false });
  return label.w <= node.w + 1 && label.h <= node.h + 1;
})"""


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("LINEAGE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def errors(page) -> list[str]:
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    page.on("console", lambda message: found.append(message.text) if message.type == "error" else None)
    return found


def until(page, script: str, expected, arg=None, timeout_ms: int = 5_000):
    """Poll `script` in the page until it returns `expected` (wait_for_function needs eval)."""
    value = None
    for _ in range(timeout_ms // 100):
        value = page.evaluate(script, arg)
        if value == expected:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"{script} gave {value!r}, not {expected!r}")


def drawn(page) -> None:
    page.wait_for_selector("body[data-lineage-rendered]")


def assert_no_overlaps(page) -> None:
    boxes = page.evaluate(BOXES)
    for a, b in itertools.combinations(boxes, 2):
        overlap = a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"]
        assert not overlap, f"{a['key']} overlaps {b['key']}"
    # Every label fits inside its node: no text runs over a border.
    assert page.evaluate(LABEL_FITS)


def click_node(page, key: str) -> None:
    position = page.evaluate(RENDERED, key)
    assert position, f"{key} is not drawn"
    canvas = page.locator("#cy").bounding_box()
    page.mouse.click(canvas["x"] + position["x"], canvas["y"] + position["y"])


def test_select_click_and_read_the_panel(page, shots, errors):
    page.goto(f"{page.base}/lineage/")
    drawn(page)
    page.select_option("select[name=replication]", "demo")
    page.click("#lineage-controls button.primary")
    page.wait_for_url("**replication=demo**")
    page.locator("#lineage-graph .lineage-status", has_text="9 assets").wait_for()
    page.screenshot(path=shots / "lineage-demo.png")
    assert_no_overlaps(page)

    page.fill("input[name=select]", f"+{ORDERS}")
    page.press("input[name=select]", "Enter")
    page.locator(f"#cy[data-selection='+{ORDERS}']").wait_for(state="attached")
    assert f"+{ORDERS}" in page.inner_text("#lineage-graph .lineage-status")
    page.wait_for_url(f"**select=%2B{ORDERS.replace('/', '%2F')}**")
    keys = page.evaluate("() => window.lineageGraph.nodes().map((n) => n.data('key'))")
    assert sorted(keys) == ["file_demo_data_orders/csv", ORDERS]

    click_node(page, ORDERS)
    panel = page.locator(f"#lineage-panel .lineage-node[data-key='{ORDERS}']")
    panel.wait_for()
    text = panel.inner_text()
    for fact in ("main.orders", "DEMO_SQLITE", "incremental", "EFFECTIVE CONFIG", "primary_key: [order_id]"):
        assert fact in text
    stream = models.Stream.objects.get(name="file://demo/data/orders.csv")
    assert panel.locator(f"a[href='/r/demo/streams/{stream.pk}/']").count() == 1
    assert page.evaluate("() => window.lineageGraph.$('node:selected').data('key')") == ORDERS
    page.screenshot(path=shots / "lineage-panel.png")
    assert_no_overlaps(page)

    # Focus: two levels downstream of the selected node, from the panel.
    panel.locator("button[value=down]").click()
    page.locator(f"#cy[data-selection='{ORDERS}+2']").wait_for(state="attached")
    keys = page.evaluate("() => window.lineageGraph.nodes().map((n) => n.data('key'))")
    assert set(keys) == {
        ORDERS,
        "analytics/customer_orders",
        "analytics/revenue_by_product",
        "reports/weekly_revenue",
    }
    assert errors == []


def test_a_bad_selector_is_explained_without_losing_the_page(page, errors):
    page.goto(f"{page.base}/lineage/")
    drawn(page)

    page.fill("input[name=select]", "+target/main/nope")
    page.press("input[name=select]", "Enter")

    page.locator("#lineage-graph .problems", has_text="`+target/main/nope` matches no asset").wait_for()
    assert page.locator("#lineage-controls").is_visible()
    assert [e for e in errors if "422" not in e] == []


def test_path_highlight_grouping_and_exports(page, shots, errors):
    page.goto(f"{page.base}/lineage/")
    drawn(page)

    page.fill("input[name=from]", "file_demo_data_products/csv")
    page.fill("input[name=to]", "reports/weekly_revenue")
    page.click("#lineage-path-form button")
    page.locator("#lineage-path", has_text="Path:").wait_for()
    on_path = page.evaluate("() => window.lineageGraph.nodes('.on-path').map((n) => n.data('key')).sort()")
    assert on_path == [
        "analytics/revenue_by_product",
        "file_demo_data_products/csv",
        "reports/weekly_revenue",
        "target/main/products",
    ]
    page.screenshot(path=shots / "lineage-path.png")

    with page.expect_download() as png:
        page.click("button[data-lineage-action=png]")
    assert png.value.suggested_filename == "lineage.png"
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as svg:
        page.click("button[data-lineage-action=svg]")
    svg_text = Path(svg.value.path()).read_text()
    assert svg_text.startswith("<svg xmlns=") and "target/main/products" in svg_text
    (shots / "lineage.svg").write_text(svg_text)

    page.select_option("select[name=group]", "schema")
    page.click("#lineage-controls button.primary")
    until(
        page,
        "() => window.lineageGraph.nodes(\"[kind = 'box']\").map((n) => n.data('label')).sort()",
        ["DEMO_SQLITE.main", "LOCAL demo/data", "analytics", "reports"],
    )
    page.screenshot(path=shots / "lineage-grouped.png")
    assert_no_overlaps(page)
    box_bounds = page.evaluate(
        "() => window.lineageGraph.nodes(\"[kind = 'box']\").map((n) => n.boundingBox())"
    )
    for a, b in itertools.combinations(box_bounds, 2):
        assert not (a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"])
    assert errors == []


def test_a_downstream_asset_added_from_the_panel_appears_in_the_graph(page, errors):
    page.goto(f"{page.base}/lineage/")
    drawn(page)
    click_node(page, ORDERS)
    page.locator("#lineage-panel .lineage-node").wait_for()

    page.click("#lineage-panel >> text=Add an asset reading this")
    page.fill("#id_key", "marts/orders_daily")
    page.fill("#id_description", "Orders per day")
    page.click("#lineage-panel button.primary")

    page.locator("#lineage-panel .lineage-node[data-key='marts/orders_daily']").wait_for()
    # The graph fetched itself again (graphChanged) and draws the new asset.
    until(
        page,
        "(key) => window.lineageGraph.nodes().some((n) => n.data('key') === key)",
        True,
        "marts/orders_daily",
    )
    assert models.DownstreamAsset.objects.get(key="marts/orders_daily").deps == [ORDERS]
    assert errors == []
