"""Runs over the API, executed by the real sling: start one and get its id, read its status,
streams and log from an offset, list with the runs page's filters, cancel, and run the failed
streams again."""

from __future__ import annotations

import pytest
from api_client import answer
from django.conf import settings
from run_support import csv_to_sqlite

from studio import models
from studio.services.executor import run_execute

pytestmark = [pytest.mark.sling, pytest.mark.usefixtures("data_dir")]


@pytest.fixture
def shop(tmp_path, api):
    """`shop`: a.csv (3 rows) and gone.csv (no such file: its stream fails) into SQLite."""
    csv_to_sqlite(tmp_path, {"a.csv": 3, "gone.csv": -1})
    return {"a": f"file://{tmp_path}/a.csv", "gone": f"file://{tmp_path}/gone.csv"}


def _executed(run_id: int) -> dict:
    run_execute(models.Run.objects.get(pk=run_id))  # what the worker does with the queued run
    return run_id


def test_a_run_started_read_and_its_failed_streams_run_again(api, shop):
    started = api["operator"]("POST", "/runs/", {"replication": "shop"})

    assert started.status_code == 201
    run = answer(started)
    assert (run["status"], run["requested_by"], run["streams"]) == ("queued", "operator", [])
    _executed(run["id"])
    done = answer(api["viewer"]("GET", f"/runs/{run['id']}/"))
    assert done["status"] == "failed" and done["started"] and done["finished"] and done["seconds"] > 0
    rows = {s["name"]: (s["status"], s["rows"]) for s in done["stream_rows"]}
    assert rows == {shop["a"]: ("succeeded", 3), shop["gone"]: ("failed", None)}
    assert done["rows"] == 3

    again = api["operator"]("POST", f"/runs/{run['id']}/again/", {"failed": True})

    assert again.status_code == 201
    assert answer(again)["streams"] == [shop["gone"]]


def test_the_log_is_read_from_an_offset(api, shop):
    run_id = _executed(
        answer(api["operator"]("POST", "/runs/", {"replication": "shop", "streams": [shop["a"]]}))["id"]
    )

    first = answer(api["viewer"]("GET", f"/runs/{run_id}/log/"))
    assert "execution succeeded" in first["text"].lower() or "inserted 3 rows" in first["text"]
    after = answer(api["viewer"]("GET", f"/runs/{run_id}/log/?offset={first['offset']}"))
    assert after == {"text": "", "offset": first["offset"], "more": False}
    whole = "".join(
        models.RunLogChunk.objects.filter(run_id=run_id).order_by("seq").values_list("text", flat=True)
    )
    assert first["text"] == whole


def test_a_run_sling_would_refuse_is_recorded_and_refused(api, shop):
    refused = api["operator"]("POST", "/runs/", {"replication": "shop", "streams": ["nope.csv"]})

    assert refused.status_code == 422
    problem = answer(refused)
    assert problem["type"] == "urn:sling-studio:problem:run-refused"
    assert "nope.csv" in problem["detail"]
    assert models.Run.objects.get(pk=problem["run"]).status == "failed"
    bad_range = api["operator"]("POST", "/runs/", {"replication": "shop", "range": "2024-01-01"})
    assert bad_range.status_code == 422 and "start,end" in answer(bad_range)["detail"]
    assert api["operator"]("POST", "/runs/", {"replication": "nothing"}).status_code == 404


def test_a_range_reaches_sling_as_every_chosen_streams_source_range(api, shop):
    run = answer(
        api["operator"]("POST", "/runs/", {"replication": "shop", "streams": [shop["a"]], "range": "1,2"})
    )
    assert run["range"] == "1,2"

    _executed(run["id"])

    written = (settings.DATA_DIR / "runs" / str(run["id"]) / "replication.yaml").read_text()
    assert "range: 1,2" in written and "format: csv" in written  # its defaults' options kept


def test_a_queued_run_is_cancelled(api, shop):
    run = answer(api["operator"]("POST", "/runs/", {"replication": "shop"}))

    cancelled = api["operator"]("POST", f"/runs/{run['id']}/cancel/")

    assert answer(cancelled)["status"] == "cancelled"
    assert not models.StreamLock.objects.exists()


def test_the_list_filters_as_the_runs_page(api, shop):
    failed = answer(api["operator"]("POST", "/runs/", {"replication": "shop", "streams": ["nope.csv"]}))[
        "run"
    ]
    queued = answer(api["operator"]("POST", "/runs/", {"replication": "shop"}))["id"]

    listed = answer(api["viewer"]("GET", "/runs/?replication=shop&status=failed"))
    assert [r["id"] for r in listed["items"]] == [failed]
    newest = answer(api["viewer"]("GET", "/runs/?trigger=manual&per_page=1"))
    assert (newest["count"], newest["items"][0]["id"]) == (2, queued)
    # Refused by the rule the runs page refuses it by (its 400 says the same).
    sideways = api["viewer"]("GET", "/runs/?status=sideways")
    assert sideways.status_code == 422 and answer(sideways)["errors"][0]["field"] == "status"
    assert "status is one of queued" in answer(sideways)["detail"]
    assert api["viewer"]("GET", "/runs/999999/").status_code == 404
