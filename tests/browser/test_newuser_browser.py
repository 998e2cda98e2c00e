"""What a new user hit in a day's work (issue 21), each driven in Chromium as that user would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from test_lineage_browser import until

from studio import models
from studio.services.replications import replication_import, stream_update
from studio.services.runs import run_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def stream_pk(replication: str, name: str) -> int:
    return models.Stream.objects.get(replication__name=replication, name=name).pk


# The editor


def test_typing_in_a_wildcard_stream_checks_it_live_and_keeps_the_edit(page: Any, tmp_path: Path) -> None:
    replication_import(
        name="wild",
        text="source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n"
        f"  file://{tmp_path}/in/events_*.csv: {{object: 'main.wc_{{stream_file_name}}'}}\n",
    )
    page.goto(f"{page.base}/r/wild/")
    page.click("#streams a:has-text('Edit')")
    page.locator("#stream-form").wait_for()

    # The live check answers with the preview: the wildcard's matches button in it, no error page.
    with page.expect_response(lambda r: r.url.endswith("/check/")) as checked:
        page.fill("#id_description", "all the events")
    assert checked.value.status == 200
    page.locator("#stream-preview button:has-text('List the matches')").wait_for()
    assert page.input_value("#id_description") == "all the events"


# The words of the element `selector`'s own text that are split over two lines.
SPLIT_WORDS = """(selector) => {
  const el = document.querySelector(selector);
  const split = [];
  for (const node of el.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE) continue;
    for (const match of node.textContent.matchAll(/[A-Za-z]+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      if (new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1) split.push(match[0]);
    }
  }
  return split;
}"""


@pytest.mark.sling
def test_a_wildcard_whose_matches_are_all_streams_says_why_it_adds_nothing(page: Any, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name in ("a.csv", "b.csv"):
        (tmp_path / "in" / name).write_text("id\n1\n")
    replication_import(
        name="wild",
        text="source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n"
        f"  file://{tmp_path}/in/*.csv: {{object: 'main.{{stream_file_name}}'}}\n"
        f"  file://{tmp_path}/in/a.csv: {{object: main.a}}\n"
        f"  file://{tmp_path}/in/b.csv: {{object: main.b}}\n"
        f"  file://{tmp_path}/in/*.txt: {{object: main.all_text, single: true}}\n",
    )
    page.goto(f"{page.base}/r/wild/")
    page.click("#streams tr:nth-child(1) a:has-text('Edit')")
    page.click("#stream-preview button:has-text('List the matches')")
    said = page.locator("#stream-matches p").inner_text()
    assert said.endswith(
        "adds nothing now: each of the 2 streams it matches is a stream of its own here "
        f"({tmp_path}/in/a.csv, {tmp_path}/in/b.csv), and sling runs them as such, not as this wildcard's."
    )
    assert "Did not match" not in said

    # A wildcard read as one stream: its prose wraps between words, never inside one.
    page.set_viewport_size({"width": 1200, "height": 900})
    page.click("#streams tr:nth-child(4) a:has-text('Edit')")
    said = page.locator("#stream-preview dd", has_text="every match goes")
    said.wait_for()
    assert said.evaluate("(dd) => dd.getClientRects().length && dd.offsetHeight > 30")  # it wraps
    assert page.evaluate(SPLIT_WORDS, "#stream-preview dd.muted") == []


def test_a_long_select_line_is_all_in_sight_in_the_streams_yaml(page: Any) -> None:
    columns = ", ".join(f"column_number_{i}" for i in range(30))
    replication_import(
        name="wide",
        text="source: LOCAL\ntarget: DEMO_SQLITE\nstreams:\n"
        f"  file://demo/data/orders.csv:\n    object: main.o\n    select: [{columns}]\n",
    )
    page.goto(f"{page.base}/r/wide/")
    page.click("#streams a:has-text('Edit')")
    yaml = page.locator("#stream-preview pre.yaml")
    yaml.wait_for()

    assert yaml.evaluate("(pre) => pre.scrollWidth <= pre.clientWidth")
    assert "column_number_29]" in yaml.inner_text()


# Every button of the table is the element at its own centre: nothing covers it.
UNCOVERED = """(selector) => [...document.querySelectorAll(selector)].map((el) => {
  el.scrollIntoView({ block: "center", inline: "center" });
  const r = el.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return el === top || el.contains(top);
})"""
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_at_1024_px_every_streams_edit_and_run_button_can_be_clicked(page: Any) -> None:
    page.set_viewport_size({"width": 1024, "height": 600})
    page.goto(f"{page.base}/r/demo/")

    assert page.evaluate(UNCOVERED, "#streams td.actions a, #streams td.actions button") == [True] * 6
    # The stream's panel is under the table at this width: opening it brings it into view.
    page.evaluate("window.scrollTo(0, 0)")
    page.click("#streams tr:nth-child(1) td.actions a:has-text('Edit')")
    page.locator("#stream-form").wait_for()
    page.wait_for_function(
        "document.querySelector('#stream-panel').getBoundingClientRect().top < innerHeight"
    )
    page.click("#streams tr:nth-child(3) td.actions button:has-text('Run')")
    page.wait_for_url("**/runs/*/")


def test_at_390_px_the_pages_fit_the_phone_and_the_navigation_is_reachable(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/r/demo/", "/runs/", "/connections/", "/replications/", "/lineage/"):
        page.goto(f"{page.base}{path}")
        assert page.evaluate(OVERFLOW) == 0, path
    page.locator(".topbar nav a:has-text('Lineage')").click()
    page.wait_for_url("**/lineage/")


# Connections


def test_a_typed_password_survives_changes_of_type_and_is_stored(page: Any) -> None:
    page.goto(f"{page.base}/connections/new/")
    page.fill("#id_name", "WAREHOUSE")
    page.fill("#id_host", "db.internal")
    page.fill("#id_user", "loader")
    page.fill("#id_password", "s3cret-typed")
    page.select_option("#id_type", "mysql")
    page.locator("#id_sslmode").wait_for(state="detached")
    page.select_option("#id_type", "postgres")
    page.locator("#id_sslmode").wait_for()
    # The typed values are put back by the page's script after the swap: wait for them.
    expect(page.locator("#id_host")).to_have_value("db.internal")
    expect(page.locator("#id_password")).to_have_value("s3cret-typed")
    # Through a type without a password box too.
    page.select_option("#id_type", "sqlite")
    page.locator("#id_password").wait_for(state="detached")
    page.select_option("#id_type", "postgres")
    page.locator("#id_password").wait_for()
    expect(page.locator("#id_password")).to_have_value("s3cret-typed")
    page.fill("#id_host", "db.internal")
    # Never written into the page by the server.
    assert "s3cret-typed" not in page.content()

    page.click("button:has-text('Save connection')")
    page.wait_for_url(f"{page.base}/connections/")
    saved = models.Connection.objects.get(name="WAREHOUSE")
    assert saved.secrets == {"password": "s3cret-typed"}
    # The edit page says which secrets it keeps, never their values.
    page.goto(f"{page.base}/connections/WAREHOUSE/")
    assert page.inner_text("#stored-secrets").startswith("Stored secrets (never shown): password.")
    assert page.input_value("#id_password") == ""


@pytest.mark.sling
def test_a_second_test_hides_the_first_answer_while_it_works(page: Any, tmp_path: Path) -> None:
    page.goto(f"{page.base}/connections/new/")
    page.select_option("#id_type", "file")
    page.locator("#id_host").wait_for(state="detached")
    page.fill("#id_url", f"file://{tmp_path}/not-yet/")
    page.click("#connection-form button:has-text('Test')")
    page.locator("#test-result .error", has_text="does not exist").wait_for()

    # The second Test is held until the page has been looked at mid-way.
    held: list[Any] = []
    page.route("**/connections/new/test/", lambda route: held.append(route))
    (tmp_path / "not-yet").mkdir()
    page.click("#connection-form button:has-text('Test')")
    page.wait_for_function("document.querySelector('#test-result').classList.contains('htmx-request')")
    assert page.locator("#test-result .error").is_hidden()
    shown = "getComputedStyle(document.querySelector('#test-result'), '::after').content"
    assert page.evaluate(shown) == '"working…"'
    page.wait_for_function("() => true")  # the route handler takes the request meanwhile
    (route,) = held
    route.continue_()
    page.locator("#test-result .ok", has_text="connection works").wait_for()


# Runs


def test_a_long_runs_page_counts_its_streams_and_lists_its_failures_alone(page: Any) -> None:
    # Recorded as sling would have ended it: 130 real streams would take a minute to run.
    demo = models.Replication.objects.get(name="demo")
    run = models.Run.objects.create(
        replication=demo,
        replication_name="demo",
        status="failed",
        started=timezone.now(),
        finished=timezone.now(),
    )
    for i in range(130):
        failed = i in (41, 117)
        models.RunStream.objects.create(
            run=run,
            position=i,
            name=f"file://demo/data/part_{i:03}.csv",
            status="failed" if failed else "succeeded",
            error="~ could not read the file" if failed else "",
        )

    page.goto(f"{page.base}/runs/{run.pk}/")
    assert page.inner_text("#run-counts").startswith("130 streams: 128 succeeded 2 failed")
    # The failures lead the table.
    assert page.inner_text("#run-status tbody tr:first-child td.mono") == "file://demo/data/part_041.csv"
    page.click("#run-counts a:has-text('Show only the 2 failed')")
    page.wait_for_url(f"**/runs/{run.pk}/?show=failed")
    assert page.locator("#run-status tbody tr").count() == 2
    page.click("#run-counts a:has-text('Show all of them')")
    page.wait_for_url(f"**/runs/{run.pk}/")
    assert page.locator("#run-status tbody tr").count() == 130


# Rough edges


def test_the_editors_filter_order_and_page_are_in_the_address(page: Any) -> None:
    replication_import(
        name="many",
        text="source: DEMO_SQLITE\ntarget: DEMO_SQLITE\nstreams:\n"
        + "".join(f"  main.t{i:03}: {{object: 'main.copy_{i:03}'}}\n" for i in range(120)),
    )
    page.goto(f"{page.base}/r/many/")
    page.fill("#stream-filters input[name=q]", "t0")
    page.wait_for_url("**/r/many/?q=t0")
    page.select_option("#stream-filters select[name=sort]", "-name")
    page.wait_for_url("**/r/many/?q=t0&sort=-name")
    page.click(".pager a:has-text('Next')")
    page.wait_for_url("**/r/many/?q=t0&sort=-name&page=2")

    # A reload (or the link sent to someone) shows the same table: filter, order and page.
    page.reload()
    assert page.input_value("#stream-filters input[name=q]") == "t0"
    assert page.input_value("#stream-filters select[name=sort]") == "-name"
    assert "Page 2 of 2" in page.inner_text(".pager")
    assert page.inner_text("#streams tbody tr:first-child td.stream-name a") == "main.t049"


def test_the_bulk_bar_asks_for_an_action_shows_the_key_only_to_set_one_and_keeps_it(page: Any) -> None:
    page.goto(f"{page.base}/r/demo/")
    action, key = page.locator("#bulk select[name=action]"), page.locator("#bulk select[name=key]")
    # Nothing chosen yet, and no key list beside an action that takes none.
    assert action.input_value() == ""
    assert not key.is_visible()
    action.select_option("disable")
    assert not key.is_visible()
    action.select_option("set")
    key.wait_for()

    key.select_option("description")
    page.fill("#bulk input[name=value]", "from the shop")
    page.check("#streams input[aria-label='Select file://demo/data/orders.csv']")
    page.click("button:has-text('Apply to selected')")
    page.locator("#streams p.ok", has_text="Set `description` on 1 stream.").wait_for()
    # The next streams take the same edit without choosing it again.
    assert action.input_value() == "set"
    assert key.input_value() == "description"
    assert page.input_value("#bulk input[name=value]") == "from the shop"


def test_a_new_replication_starts_from_an_uploaded_replication_yaml(page: Any, tmp_path: Path) -> None:
    document = tmp_path / "replication.yaml"
    document.write_text(
        "source: DEMO_SQLITE\ntarget: DEMO_SQLITE\nstreams:\n  main.orders: {object: main.copy_orders}\n"
    )
    page.goto(f"{page.base}/replications/")
    page.click("text=start from a replication.yaml")
    page.fill("#id_name", "from_file")
    page.set_input_files("#id_file", str(document))
    page.click("button:has-text('Create from this YAML')")

    page.wait_for_url("**/r/from_file/")
    assert "Imported `from_file`: 1 stream(s)." in page.inner_text("body")
    assert page.inner_text("#streams tbody td.stream-name a") == "main.orders"


def test_last_run_leaves_a_row_once_a_restore_moves_its_target(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    orders = "file://demo/data/orders.csv"
    demo = models.Replication.objects.get(name="demo")
    # Version 2 writes orders elsewhere, and a run of it ends (recorded as sling would end it).
    stream_update(
        replication=demo,
        config=demo.as_config(),
        old=orders,
        new=orders,
        own={"object": "main.orders_v2"},
        base_version=1,
    )
    run = run_create(replication="demo", streams=[orders])
    run.run_streams.update(status="succeeded", rows=3)
    models.Run.objects.filter(pk=run.pk).update(status="succeeded", finished=timezone.now())
    row = f"#stream-row-{stream_pk('demo', orders)} td:nth-child(7)"
    page.goto(f"{page.base}/r/demo/")
    assert page.inner_text(row).startswith("succeeded")

    # Back to version 1: the stream writes main.orders again, which that run never wrote.
    page.goto(f"{page.base}/r/demo/history/")
    page.click("button[form=restore-1]")
    page.wait_for_url("**/r/demo/")
    assert page.inner_text(row) == "never"


# Lineage over 300 assets: the view folds them into groups.

ON_PATH = "() => window.lineageGraph.nodes('.on-path').map((n) => n.data('kind')).sort()"
IN_SIGHT = """(key) => {
  const cy = window.lineageGraph;
  const n = cy.nodes().filter((n) => n.data("key") === key)[0];
  if (!n) return false;
  const p = n.renderedPosition();
  return p.x >= 0 && p.y >= 0 && p.x <= cy.width() && p.y <= cy.height();
}"""


LAST = "target/main/table_159"


def click_at(page: Any, node: str, arg: str) -> None:
    """A click on the canvas where the node `node(arg)` is drawn."""
    at = page.evaluate(f"(a) => ({node})(a).renderedPosition()", arg)
    canvas = page.locator("#cy").bounding_box()
    page.mouse.click(canvas["x"] + at["x"], canvas["y"] + at["y"])


@pytest.fixture
def folded(page: Any) -> Any:
    streams = "".join(f"  main.table_{i:03}:\n" for i in range(160))
    replication_import(
        name="big",
        text=f"source: SRC\ntarget: DST\ndefaults:\n  object: raw.{{stream_table}}\nstreams:\n{streams}",
    )
    page.goto(f"{page.base}/lineage/?replication=big")
    page.wait_for_selector("body[data-lineage-rendered]")
    assert page.evaluate("() => window.lineageGraph.nodes(\"[kind = 'group']\").length") > 0
    return page


def test_a_path_through_a_folded_view_lights_up_the_groups_it_runs_through(folded: Any) -> None:
    page = folded
    page.fill("input[name=from]", "main/table_007")
    page.fill("input[name=to]", "target/main/table_007")
    page.click("#lineage-path-form button")
    page.locator("#lineage-path", has_text="Path:").wait_for()

    until(page, ON_PATH, ["group", "group"])
    # The rest is dimmed, not all of it.
    assert page.evaluate("() => window.lineageGraph.nodes('.faded').length") < page.evaluate(
        "() => window.lineageGraph.nodes().length"
    )


def test_find_in_a_folded_view_opens_the_assets_panel(folded: Any) -> None:
    page = folded
    page.fill("#lineage-search input[name=q]", "target/main/table_042")
    page.press("#lineage-search input[name=q]", "Enter")

    page.locator("#lineage-panel .lineage-node[data-key='target/main/table_042']").wait_for()
    until(
        page,
        "() => window.lineageGraph.$('node:selected').map((n) => n.data('key'))",
        ["target/main/table_042"],
    )


def test_a_downstream_asset_just_added_is_in_sight(folded: Any) -> None:
    page = folded
    # Open the group of the targets, then the panel of the last one, as a user clicks them.
    click_at(page, "(u) => window.lineageGraph.nodes().filter((n) => n.data('unit') === u)[0]", "DST")
    page.click("#lineage-panel [data-expand]")
    page.wait_for_function("() => window.lineageGraph.nodes(\"[kind = 'box']\").length === 1")
    page.evaluate(
        "(k) => window.lineageGraph.center(window.lineageGraph.nodes().filter((n) => n.data('key') === k))",
        LAST,
    )
    click_at(page, "(k) => window.lineageGraph.nodes().filter((n) => n.data('key') === k)[0]", LAST)
    page.locator(f"#lineage-panel .lineage-node[data-key='{LAST}']").wait_for()

    page.click("#lineage-panel >> text=Add an asset reading this")
    page.fill("#id_key", "marts/table_159_daily")
    page.click("#lineage-panel button.primary")
    page.locator("#lineage-panel .lineage-node[data-key='marts/table_159_daily']").wait_for()
    # Drawn as itself (not a group of one), where the canvas shows it.
    until(page, IN_SIGHT, True, "marts/table_159_daily")
