"""A NUL character in a request (issue 24's probes found the API's; the pages had the same): no
column stores one, and on PostgreSQL a parameter that reached a query answered 500. Each is
refused with a 400 before any view reads it, on SQLite and PostgreSQL alike; a form's field
is refused by the form, which names it."""

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


def test_a_nul_in_a_form_is_the_forms_to_refuse_naming_the_field(client, user, demo):
    created = client.post("/new/", {"name": "x\x00y", "source": "LOCAL", "target": "LOCAL"})

    assert created.status_code == 422
    assert "Null characters are not allowed." in created.content.decode()
    assert not models.Replication.objects.filter(name__startswith="x").exists()
