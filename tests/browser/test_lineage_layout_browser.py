"""The lineage page as a daily user meets it: labels readable at the first fit, parts of a
selection that do not meet laid out in a grid across the canvas, and Find listing every
asset whose key contains the text typed (a click centres and selects one)."""

from __future__ import annotations

import pytest
import test_lineage_browser
from test_lineage_browser import assert_no_overlaps, drawn, until

from studio.services.replications import replication_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
shots = test_lineage_browser.shots  # the screenshots' folder (a fixture)

TABLES = 40
# On screen: the label size, the drawing's extent and the canvas, read from cytoscape.
GEOMETRY = """() => {
  const cy = window.lineageGraph;
  const box = cy.nodes().renderedBoundingBox({ includeLabels: false });
  const xs = new Set(cy.nodes().map((n) => Math.round(n.position().x)));
  const ys = new Set(cy.nodes().map((n) => Math.round(n.position().y)));
  const canvas = { cw: cy.width(), ch: cy.height() };
  return { label: 11 * cy.zoom(), w: box.w, h: box.h, ...canvas, columns: xs.size, rows: ys.size };
}"""
SELECTED = "() => window.lineageGraph.$('node:selected').map((n) => n.data('key'))"
CENTRED = """(key) => {
  const cy = window.lineageGraph;
  const p = cy.nodes().filter((n) => n.data("key") === key)[0].renderedPosition();
  return Math.abs(p.x - cy.width() / 2) < 40 && Math.abs(p.y - cy.height() / 2) < 40;
}"""


@pytest.fixture
def wide(page):
    streams = "".join(f"  main.table_{i:02}:\n" for i in range(TABLES))
    replication_import(
        name="wide",
        text=f"source: SRC\ntarget: DST\ndefaults:\n  object: raw.{{stream_table}}\nstreams:\n{streams}",
    )
    return page


@pytest.mark.parametrize(
    ("select", "assets", "columns"),
    # Lone targets: a grid. Source -> target pairs: several side by side, not one stack of two columns.
    [("kind:target", TABLES, 3), ("", 2 * TABLES, 3)],
    ids=["lone nodes", "pairs"],
)
def test_parts_that_do_not_meet_fill_the_canvas_with_readable_labels(wide, shots, select, assets, columns):
    page = wide
    page.goto(f"{page.base}/lineage/?replication=wide&select={select}")
    drawn(page)
    page.locator("#lineage-graph .lineage-status", has_text=f"{assets} assets").wait_for()
    page.screenshot(path=shots / f"lineage-{assets}-apart.png")

    shape = page.evaluate(GEOMETRY)
    assert shape["label"] >= 9
    assert shape["columns"] >= columns and shape["rows"] >= 3
    # Most of the canvas's width or height is used.
    assert shape["w"] >= 0.6 * shape["cw"] or shape["h"] >= 0.6 * shape["ch"]
    assert_no_overlaps(page)


def test_find_lists_the_assets_containing_the_text_and_a_click_centres_one(wide, shots):
    page = wide
    page.goto(f"{page.base}/lineage/?replication=wide")
    drawn(page)

    page.fill("#lineage-search input[name=q]", "table_1")
    page.click("#lineage-search button")
    found = page.locator("#lineage-found [data-lineage-find]")
    found.first.wait_for()
    keys = found.evaluate_all("(buttons) => buttons.map((b) => b.dataset.lineageFind)")
    # A substring, anywhere in the key: the sources and the targets of table_10 .. table_19.
    assert len(keys) == 20
    assert all("table_1" in key for key in keys)
    assert "target/main/table_14" in keys
    page.screenshot(path=shots / "lineage-find.png")

    page.click("#lineage-found [data-lineage-find='target/main/table_14']")
    until(page, SELECTED, ["target/main/table_14"])
    until(page, CENTRED, True, "target/main/table_14")
    page.locator("#lineage-panel .lineage-node[data-key='target/main/table_14']").wait_for()

    # Nothing matches: said so, and the canvas is left as it was.
    page.fill("#lineage-search input[name=q]", "nope")
    page.click("#lineage-search button")
    page.locator("#lineage-found", has_text="No asset contains").wait_for()
    assert page.evaluate(SELECTED) == ["target/main/table_14"]


@pytest.mark.parametrize(
    ("typed", "picked"),
    [("get/main/table_07", "target/main/table_07"), ("main/table_07", "main/table_07")],
    ids=["the only match", "the key typed whole"],
)
def test_find_goes_at_once_to_the_only_match_or_the_key_typed(wide, typed, picked):
    page = wide
    page.goto(f"{page.base}/lineage/?replication=wide")
    drawn(page)

    page.fill("#lineage-search input[name=q]", typed)
    page.press("#lineage-search input[name=q]", "Enter")

    until(page, SELECTED, [picked])
