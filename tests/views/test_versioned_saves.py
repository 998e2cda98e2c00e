"""Two people editing one connection or one downstream asset (issue 12, problem 3).

Each edit form names the version it was made from; the second of two saves from one version
is refused with a 409 that shows the first person's change, as replications' saves are, and
nothing of the first change is lost.
"""

from __future__ import annotations

from html import unescape

import pytest

from studio import models
from studio.services.connections import connection_save

HTMX = {"HX-Request": "true"}


@pytest.fixture
def warehouse(db):
    return connection_save(
        name="WAREHOUSE",
        fields={
            "type": "postgres",
            "host": "db1",
            "port": "5432",
            "user": "u",
            "password": "pw-1x",
            "database": "dw",
        },
    )


def connection_form(browser, form_values) -> dict[str, str]:
    return form_values(browser.get("/connections/WAREHOUSE/").content, "card")


def test_the_second_of_two_connection_saves_from_one_version_is_refused_with_the_first_change(
    client, user, other_client, warehouse, form_values
):
    alice = connection_form(client, form_values)
    bob = connection_form(other_client, form_values)
    assert alice["version"] == bob["version"] == "1"

    # A new host: the password typed again (tests/views/test_connection_secrets_go_where_typed.py).
    first = client.post("/connections/WAREHOUSE/", {**alice, "host": "db2", "password": "pw-1x"})
    second = other_client.post("/connections/WAREHOUSE/", {**bob, "port": "6543"})

    assert first.status_code == 302
    assert second.status_code == 409
    html = unescape(second.content.decode())
    assert "Not saved: WAREHOUSE was changed by someone else since you opened it" in html
    assert "(you edited version 1, it is now version 2)" in html
    assert "<del>-host: db1</del>" in html
    assert "<ins>+host: db2</ins>" in html
    assert 'href="/connections/WAREHOUSE/"' in html
    # Bob's edit is still in the form to copy; the password never is.
    assert 'value="6543"' in html
    assert "pw-1x" not in html
    warehouse.refresh_from_db()
    assert (warehouse.params["host"], warehouse.params["port"], warehouse.version) == ("db2", "5432", 2)
    assert warehouse.secrets == {"password": "pw-1x"}


def test_a_change_of_a_secret_only_is_a_conflict_too_without_showing_it(
    client, user, other_client, warehouse, form_values
):
    bob = connection_form(other_client, form_values)
    client.post("/connections/WAREHOUSE/", {**connection_form(client, form_values), "password": "pw-2y"})

    response = other_client.post("/connections/WAREHOUSE/", {**bob, "port": "6543"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Their save changed nothing shown here: only secret fields, which are never shown" in html
    assert "pw-2y" not in html and "pw-1x" not in html


def test_a_refused_save_still_names_the_version_it_edits(client, user, other_client, warehouse, form_values):
    bob = connection_form(other_client, form_values)
    refused = other_client.post("/connections/WAREHOUSE/", {**bob, "port": "99999999"})
    assert refused.status_code == 422
    client.post(
        "/connections/WAREHOUSE/", {**connection_form(client, form_values), "host": "db2", "password": "pw"}
    )

    # Bob fixes the port in the form he got back, which still says version 1.
    again = form_values(refused.content, "card")
    response = other_client.post("/connections/WAREHOUSE/", {**again, "port": "6543"})

    assert again["version"] == "1"
    assert response.status_code == 409
    warehouse.refresh_from_db()
    assert warehouse.params["host"] == "db2"


def test_an_edit_without_its_version_is_refused(client, user, warehouse, form_values):
    data = connection_form(client, form_values)
    del data["version"]

    response = client.post("/connections/WAREHOUSE/", {**data, "host": "db2"})

    assert response.status_code == 422
    assert "the edited version is missing: reload the page" in response.content.decode()
    warehouse.refresh_from_db()
    assert warehouse.params["host"] == "db1"


def test_the_second_of_two_downstream_saves_from_one_version_is_refused_with_the_first_change(
    client, user, other_client, demo, form_values
):
    asset = models.DownstreamAsset.objects.get(key="reports/weekly_revenue")
    url = f"/lineage/downstream/{asset.pk}/"
    alice = form_values(client.get(url, headers=HTMX).content)
    bob = form_values(other_client.get(url, headers=HTMX).content)
    assert alice["version"] == bob["version"] == "1"

    first = client.post(url, {**alice, "description": "Sent on Mondays at nine"}, headers=HTMX)
    second = other_client.post(url, {**bob, "group": "finance"}, headers=HTMX)

    assert first.status_code == 200
    assert second.status_code == 409
    html = unescape(second.content.decode())
    assert "Not saved: reports/weekly_revenue was changed by someone else since you opened it" in html
    assert "<del>-description: The Monday revenue e-mail</del>" in html
    assert "<ins>+description: Sent on Mondays at nine</ins>" in html
    asset.refresh_from_db()
    assert (asset.description, asset.group, asset.version) == ("Sent on Mondays at nine", "reports", 2)
