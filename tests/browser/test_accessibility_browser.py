"""axe-core over every page of the studio, in Chromium: no serious or critical violation.

axe-core comes bundled in the `axe-playwright-python` wheel (nothing is fetched at run time);
it is injected into each page and run as it is shown, panels opened the way a user opens
them. Django's own admin is not ours and is left out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from studio import models
from studio.services.schedules import schedule_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDERS = "target/main/orders"
WILDCARD = "file://demo/data/*.csv"
RENDERED = """(key) => {
  const n = window.lineageGraph.nodes().filter((n) => n.data("key") === key)[0];
  return n ? n.renderedPosition() : null;
}"""


# A status dot told by its colour alone (WCAG 1.4.1, which axe does not check): no sign drawn in
# it, or no words for a screen reader.
COLOUR_ONLY = """() => [...document.querySelectorAll('.status-dot')].filter((dot) =>
  !dot.getAttribute('aria-label') || ['none', 'normal'].includes(getComputedStyle(dot, '::before').content)
).map((dot) => dot.outerHTML)"""


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's serious and critical findings on the page as it is now, and status told by colour."""
    found = Axe().run(page).response["violations"]
    colour_only = page.evaluate(COLOUR_ONLY)
    return [v for v in found if v["impact"] in ("serious", "critical")] + (
        [{"id": "status-by-colour-only", "impact": "serious", "nodes": [{"target": colour_only}]}]
        if colour_only
        else []
    )


def _stream_panel(page: Any) -> None:
    page.click("text=file://demo/data/orders.csv")
    page.wait_for_selector("#stream-form")


def _wildcard_panel(page: Any) -> None:
    page.click(f"text={WILDCARD}")
    page.get_by_role("button", name="List the matches").wait_for()


def _settings(page: Any) -> None:
    page.click("text=Settings & defaults")
    page.wait_for_selector("#id_env", state="visible")


def _yaml_box(page: Any) -> None:
    page.click("#yaml-preview-box summary")
    page.wait_for_selector("#yaml-preview-box pre.yaml")


def _discovered(page: Any) -> None:
    page.click(".page-head button:has-text('Discover')")
    page.wait_for_selector("#discover h2")


def _lineage_panel(page: Any) -> None:
    page.wait_for_selector("body[data-lineage-rendered]")
    position = page.evaluate(RENDERED, ORDERS)
    canvas = page.locator("#cy").bounding_box()
    page.mouse.click(canvas["x"] + position["x"], canvas["y"] + position["y"])
    page.wait_for_selector(f"#lineage-panel .lineage-node[data-key='{ORDERS}']")


def _lineage_drawn(page: Any) -> None:
    page.wait_for_selector("body[data-lineage-rendered]")


def _form_test(page: Any) -> None:
    page.fill("#id_url", "not a url")
    page.click("button:has-text('Test')")
    page.locator("#test-result", has_text="not a connection URL").wait_for()


# Every page, and the panels opened on them: (name, address, what to do once it is loaded).
PAGES: list[tuple[str, str, Callable[[Any], None] | None]] = [
    ("dashboard", "/", None),
    ("replications", "/replications/", None),
    ("new replication from YAML", "/new/yaml/", None),
    ("editor", "/r/demo/", None),
    ("editor, stream panel", "/r/demo/", _stream_panel),
    ("editor, wildcard panel", "/r/demo/", _wildcard_panel),
    ("editor, settings", "/r/demo/", _settings),
    ("editor, replication.yaml", "/r/demo/", _yaml_box),
    ("editor, filtered", "/r/demo/?q=orders", None),
    ("stream page", "/r/demo/streams/{orders}/", None),
    ("import", "/r/demo/import/", None),
    ("history", "/r/demo/history/", None),
    ("history, diff", "/r/demo/history/?a=1&b=2", None),
    ("schedules", "/r/demo/schedules/", None),
    ("replication delete", "/r/demo/delete/", None),
    ("connections", "/connections/", None),
    ("connection new", "/connections/new/", None),
    ("connection new, tested", "/connections/new/", _form_test),
    ("connection edit", "/connections/DEMO_SQLITE/", None),
    ("connection edit, discovered", "/connections/DEMO_SQLITE/", _discovered),
    ("connection delete", "/connections/DEMO_SQLITE/delete/", None),
    ("runs", "/runs/", None),
    ("runs, filtered", "/runs/?replication=demo&status=failed", None),
    ("run", "/runs/{run}/", None),
    ("lineage", "/lineage/", _lineage_drawn),
    ("lineage, node panel", "/lineage/?replication=demo", _lineage_panel),
    ("downstream asset new", "/lineage/downstream/new/", None),
    ("api tokens", "/tokens/", None),
    ("audit", "/audit/", None),
    ("audit, filtered", "/audit/?object_type=replication&action=saved", None),
    ("upgrade", "/upgrade/", None),
    ("not found", "/r/no_such_replication/", None),
]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("A11Y_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _visit_all(
    page: Any, shots: Path, pages: list[tuple[str, str, Any]], prefix: str = ""
) -> dict[str, list[str]]:
    """The serious and critical findings on each of `pages` (none: {}), a screenshot of each."""
    demo = models.Replication.objects.get(name="demo")
    orders = models.Stream.objects.get(replication=demo, name="file://demo/data/orders.csv")
    run = models.Run.objects.create(
        replication=demo, replication_name="demo", status="failed", error="sling exited with code 1"
    )
    # A paused schedule whose last fires are of every kind: the faded row and the status dots.
    paused = schedule_create(replication=demo, cron_expression="0 6 * * *", enabled=False)
    for day, status in ((1, "fired"), (2, "skipped"), (3, "missed")):
        models.ScheduleFire.objects.create(
            schedule=paused,
            due=datetime(2026, 1, day, 6, tzinfo=UTC),
            status=status,
            run=run if status == "fired" else None,
        )
    found: dict[str, list[str]] = {}
    for name, address, then in pages:
        page.goto(page.base + address.format(orders=orders.pk, run=run.pk))
        if then is not None:
            then(page)
        page.screenshot(
            path=shots / f"{prefix}{name.replace(', ', '-').replace(' ', '_')}.png", full_page=True
        )
        bad = violations(page)
        if bad:
            found[name] = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in bad]
    return found


def _second_version(page: Any) -> None:
    """A second version of demo, so that the history has a diff to show: it adds a wildcard."""
    page.goto(f"{page.base}/r/demo/")
    page.fill("form.add-stream input[name=name]", WILDCARD)
    page.fill("form.add-stream input[name=object]", "main.wc_{stream_file_name}")
    page.click("form.add-stream button")
    page.locator("#stream-count", has_text="4 streams").wait_for()


@pytest.mark.parametrize("width", [1024, 1440])
def test_no_page_has_a_serious_accessibility_problem(page, shots, width):
    page.set_viewport_size({"width": width, "height": 900})
    _second_version(page)
    assert _visit_all(page, shots, PAGES, f"{width}-") == {}


def test_no_page_has_a_serious_accessibility_problem_for_a_viewer(chromium, live_server, demo_db, shots):
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    # The sign-in page itself, before anyone is signed in.
    page.screenshot(path=shots / "login.png")
    assert violations(page) == []
    page.fill("#id_username", "viewer")
    page.fill("#id_password", "viewer")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/")
    page.base = live_server.url
    # What a viewer may open: not the forms that need the editor role, nor a diff (one version),
    # nor the audit trail (an admin's).
    editing = (
        "audit",
        "history, diff",
        "import",
        "delete",
        "connection new",
        "connection edit",
        "editor, wildcard",
        "new replication",
    )
    viewer_pages = [p for p in PAGES if not p[0].startswith(editing) and "delete" not in p[0]]
    try:
        assert _visit_all(page, shots, viewer_pages, "viewer-") == {}
    finally:
        context.close()
