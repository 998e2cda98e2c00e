"""A wildcard stream run from the browser with the real sling: the run page lists, under
`main.*`, each table sling found and copied, with its rows and status."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from studio import models
from studio.services.connections import connection_save
from studio.services.replications import replication_import
from studio.tasks import execute_run

pytestmark = [pytest.mark.browser, pytest.mark.sling, pytest.mark.django_db(transaction=True)]


def test_the_run_page_lists_the_streams_a_wildcard_expanded_into(page, tmp_path):
    source = tmp_path / "source.sqlite"
    with sqlite3.connect(source) as db:
        for table, rows in {"users": 3, "events": 5}.items():
            db.execute(f"create table {table} (id integer primary key, name text)")
            db.executemany(f"insert into {table} values (?, ?)", [(i, f"n{i}") for i in range(rows)])  # noqa: S608
    connection_save(name="SOURCE_DB", fields={"type": "sqlite", "url": f"sqlite://{source}"})
    connection_save(
        name="TARGET_DB", fields={"type": "sqlite", "url": f"sqlite://{tmp_path / 'target.sqlite'}"}
    )
    replication_import(
        name="copy",
        text="source: SOURCE_DB\ntarget: TARGET_DB\n"
        "defaults:\n  mode: full-refresh\n  object: main.{stream_table}_copy\nstreams:\n  main.*:\n",
    )

    page.goto(f"{page.base}/r/copy/")
    page.click("button:has-text('Run replication')")
    page.wait_for_url("**/runs/*/")
    worker = threading.Thread(target=execute_run.call, args=(models.Run.objects.get(status="queued").pk,))
    worker.start()
    page.locator("#run-status h1 .status.succeeded").wait_for(timeout=60_000)
    worker.join()
    page.reload()
    folder = Path(os.environ.get("LINEAGE_SCREENSHOTS") or tmp_path)
    page.screenshot(path=folder / "run-wildcard.png")

    rows = page.locator("#run-status tbody tr").evaluate_all(
        "(rows) => rows.map((r) => [...r.cells].slice(0, 3).map((c) => c.innerText.trim()))"
    )
    assert rows[0] == ["main.*", "succeeded", "8"]
    assert sorted(rows[1:]) == [
        ['↳ "main"."events"', "succeeded", "5"],
        ['↳ "main"."users"', "succeeded", "3"],
    ]
    assert "skipped" not in page.inner_text("#run-status")
    # The editor's table says how the wildcard last went, not that it never ran.
    page.goto(f"{page.base}/r/copy/")
    assert "8 rows" in page.inner_text("#streams")
