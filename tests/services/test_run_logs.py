"""Logs that travel (issue 12): a run's log goes to the database as it comes, a chunk at a time,
so the run page shows it whichever machine executed the run; the local file is a copy."""

from __future__ import annotations

import pytest
from run_support import csv_to_sqlite

from studio import models
from studio.selectors.runs import run_log
from studio.services.executor import run_execute
from studio.services.runs import run_create

pytestmark = [pytest.mark.sling, pytest.mark.usefixtures("data_dir")]


@pytest.mark.django_db
def test_the_log_in_the_database_is_the_log(tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3})

    run = run_execute(run_create(replication="shop"))

    whole = "".join(run.log_chunks.values_list("text", flat=True))
    assert whole == run.log_file.read_text()
    assert whole.startswith("$ ") and "--- run succeeded (sling exit code 0) ---" in whole
    page = run_log(run=run)
    assert (page.text, page.last) == (whole, run.log_chunks.count())
    assert run_log(run=run, after=page.last).text == ""


@pytest.mark.django_db
def test_the_run_page_shows_the_log_of_a_run_executed_elsewhere(client, user, tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3})
    run = run_execute(run_create(replication="shop"))
    # Another machine executed it: its data folder, and the log's copy there, are not here.
    run.log_file.unlink()

    page = client.get(f"/runs/{run.pk}/").content.decode()

    assert "--- run succeeded (sling exit code 0) ---" in page
    assert "execution succeeded" in page


@pytest.mark.django_db
def test_the_log_reaches_the_database_while_the_run_runs(tmp_path):
    # About 6 s of work for sling: chunks are there long before it ends.
    csv_to_sqlite(tmp_path, {"big.csv": 200_000})
    run = run_create(replication="shop")
    seen: list[tuple[str, int]] = []

    def line(text: str) -> None:
        # Looked at from the executing process itself, as each line comes.
        seen.append((models.Run.objects.get(pk=run.pk).status, run.log_chunks.count()))

    run_execute(run, on_line=line)

    assert any(status == "running" and chunks >= 2 for status, chunks in seen), seen


@pytest.mark.django_db
@pytest.mark.parametrize("offset", ["9" * 30, "-1", "abc", "1e3", ""])
def test_an_offset_that_is_not_a_chunk_number_is_a_400_saying_so(client, user, tmp_path, offset):
    csv_to_sqlite(tmp_path, {"a.csv": 3})
    run = run_execute(run_create(replication="shop"))

    response = client.get(f"/runs/{run.pk}/log/", {"offset": offset})

    assert response.status_code == 400
    assert "`offset` is the number of the last log chunk shown: 0 or more" in response.content.decode()
