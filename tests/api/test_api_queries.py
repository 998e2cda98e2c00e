"""The API's lists cost the same number of queries for 2 items as for 20: no query per row."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio import models


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client("GET", path).status_code == 200
    return len(queries)


def _runs(demo, count: int) -> None:
    operator = get_user_model().objects.get(username="operator")
    for _ in range(count):
        run = models.Run.objects.create(
            replication=demo, replication_name="demo", status="succeeded", requested_by=operator
        )
        models.RunStream.objects.create(run=run, name="file://x.csv", position=0, status="succeeded", rows=3)


def test_the_lists_make_no_query_per_item(api, demo, make_replication):
    viewer = api["viewer"]
    viewer("GET", "/replications/")  # the token's last use written once, before counting
    for i in range(2):
        make_replication(f"few{i}", streams=2)
    _runs(demo, 2)
    few = {path: _queries(viewer, path) for path in ("/replications/", "/runs/")}
    for i in range(18):
        make_replication(f"many{i}", streams=2)
    _runs(demo, 18)

    many = {path: _queries(viewer, path) for path in ("/replications/", "/runs/")}

    assert many == few
