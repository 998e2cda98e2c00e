"""A NUL character in a request (issue 24's probes found the API's; the pages had the same): no
column stores one, and on PostgreSQL a parameter that reached a query answered 500. Each is
refused with a 400 before any view reads it, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from studio import models

GETS = [
    "/runs/?stream=a%00",
    "/replications/?q=%00",
    "/r/demo/?q=%00",
    "/r/de%00mo/",
    "/connections/DEMO_SQLITE%00/",
    "/lineage/node/?key=%00",
    "/upgrade/?to=%00",
    "/runs/?replication=demo&%00=x",
]


@pytest.mark.parametrize("path", GETS)
def test_a_nul_in_the_address_or_query_is_a_400(client, user, demo, path):
    answer = client.get(path)

    assert answer.status_code == 400
    assert "NUL character" in answer.content.decode()


def test_a_nul_in_a_form_is_a_400_and_saves_nothing(client, user, demo):
    created = client.post("/new/", {"name": "x\x00y", "source": "LOCAL", "target": "LOCAL"})
    connection = client.post("/connections/new/", {"name": "A\x00", "type": "postgres", "host": "h"})
    htmx = client.post(
        "/r/demo/streams/add/", {"name": "t\x00", "version": "1"}, headers={"HX-Request": "true"}
    )

    assert (created.status_code, connection.status_code, htmx.status_code) == (400, 400, 400)
    assert "NUL character" in htmx.content.decode()  # in the page's notices
    assert not models.Replication.objects.filter(name__startswith="x").exists()
    assert not models.Connection.objects.filter(name__startswith="A").exists()
