"""The run page's "Run the failed streams again": only the streams that failed in a run, queued
as a new run by the service the API's `runs/{id}/again/` calls too (real sling runs the first)."""

from __future__ import annotations

import pytest
from run_support import csv_to_sqlite

from studio import models
from studio.services.executor import run_execute
from studio.services.runs import run_create

pytestmark = [pytest.mark.sling, pytest.mark.usefixtures("data_dir")]
BUTTON = "Run the failed streams again"


@pytest.mark.django_db
def test_the_failed_streams_of_a_run_run_again_from_its_page(client, user, tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3, "gone.csv": -1})  # gone.csv does not exist: it fails
    failed = run_execute(run_create(replication="shop"))
    assert failed.status == "failed"
    assert BUTTON in client.get(f"/runs/{failed.pk}/").content.decode()

    response = client.post(f"/runs/{failed.pk}/again/", {"failed": "1"})

    again = models.Run.objects.latest("pk")
    assert again.pk != failed.pk and response.status_code == 302
    assert response["Location"].endswith(f"/runs/{again.pk}/")
    assert (again.status, again.streams, again.requested_by) == (
        "queued",
        [f"file://{tmp_path}/gone.csv"],
        user,
    )


@pytest.mark.django_db
def test_a_run_without_a_failed_stream_has_none_to_run_again(client, user, tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3})
    done = run_execute(run_create(replication="shop"))
    assert done.status == "succeeded"
    assert BUTTON not in client.get(f"/runs/{done.pk}/").content.decode()

    response = client.post(f"/runs/{done.pk}/again/", {"failed": "1"}, follow=True)

    assert f"run #{done.pk} has no failed stream to run again" in response.content.decode()
    assert models.Run.objects.count() == 1


@pytest.mark.django_db
def test_run_with_options_queues_the_mode_and_range_and_a_bad_range_is_a_refused_run(client, user, tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3})
    page = client.get("/r/shop/").content.decode()
    assert "Run with options" in page and 'name="range"' in page

    client.post("/r/shop/run/", {"mode": "truncate", "range": "1,3"})
    queued = models.Run.objects.latest("pk")
    client.post("/r/shop/run/", {"range": "2024-01-01"})
    refused = models.Run.objects.latest("pk")

    assert (queued.status, queued.mode, queued.range) == ("queued", "truncate", "1,3"), queued.error
    assert refused.status == "failed" and refused.sling_pid is None
    assert 'the range `2024-01-01` is not "start,end"' in refused.error
