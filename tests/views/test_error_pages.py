"""The studio's error pages, and requests it cannot read (issue 12, problem 7).

A 404 or a 500 is the studio's page, with its navigation, whatever DEBUG says; a request it
cannot read is a 400 that says why, never a 500, and starts nothing.
"""

from __future__ import annotations

import pytest
from django.test import Client

from studio import models

NAV = '<a href="/connections/"'
HTMX = {"HX-Request": "true"}


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize(
    "path", ["/no/such/page/", "/r/no-such-replication/", "/runs/999999/", "/connections/NOPE/"]
)
def test_a_missing_page_is_the_studios_404(client, user, debug, path):
    response = client.get(path)

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in html
    assert "There is nothing at this address" in html
    assert NAV in html
    assert "Traceback" not in html and "URLconf" not in html


def test_an_address_without_its_final_slash_is_still_redirected(client, user):
    response = client.get("/connections")

    assert response.status_code == 301
    assert response["Location"] == "/connections/"


def test_a_missing_part_asked_by_htmx_goes_to_the_notices(client, user, debug):
    response = client.get("/r/no-such-replication/streams/", headers=HTMX)

    assert response.status_code == 404
    assert response["HX-Retarget"] == "#notices"
    assert "<html" not in response.content.decode()


def test_a_failing_view_is_the_studios_500(user, debug, monkeypatch):
    # A fake failure: no real input makes this view fail, which is the point of the other tests.
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("studio.views.runs.selectors.run_list", broken)
    browser = Client(raise_request_exception=False)
    browser.force_login(user)

    response = browser.get("/runs/")

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert NAV in html
    assert "boom" not in html and "Traceback" not in html


def test_garbage_stream_ids_start_no_run(client, user, demo):
    response = client.post("/r/demo/run/", {"streams": ["abc"]})

    assert response.status_code == 400
    assert "`abc` is not a stream id: tick the streams to run" in response.content.decode()
    assert not models.Run.objects.exists()


@pytest.mark.parametrize("ids", [["1", "abc"], ["9" * 30], ["-1"], [""]])
def test_any_garbage_among_the_ids_refuses_the_run(client, user, demo, ids):
    response = client.post("/r/demo/run/", {"streams": ids}, headers=HTMX)

    assert response.status_code == 400
    assert response["HX-Retarget"] == "#notices"
    assert not models.Run.objects.exists()


def test_ticked_stream_ids_still_run_those_streams(client, user, demo):
    first = demo.streams.order_by("position").first()

    response = client.post("/r/demo/run/", {"streams": [str(first.pk)]})

    assert response.status_code == 302
    assert models.Run.objects.get().streams == [first.name]


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "../../etc/passwd", "a/b"])
def test_the_run_list_of_a_name_no_replication_can_have_is_a_400(client, user, name):
    response = client.get("/runs/", {"replication": name})

    assert response.status_code == 400
    assert "is not a replication name" in response.content.decode()


def test_discover_with_a_nul_in_its_pattern_says_so(client, user, demo):
    response = client.post("/connections/DEMO_SQLITE/discover/", {"pattern": "main.\x00x"}, headers=HTMX)

    assert response.status_code == 200
    assert "a NUL character cannot be given to sling" in response.content.decode()
