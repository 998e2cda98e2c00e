"""A stored secret goes only where it was typed for (issue 22, finding 3).

An edit of a connection leaves its password box empty to keep the stored password. Test on the
edit form used to send that password to whatever host the form named, unsaved: a fake PostgreSQL
server of the editor's got it in clear text. Here a loopback listener that records what a client
sends (tests/receivers.py `postgres_receiver`, `sslmode=disable`) stands for that server, and the
real sling is the client. tests/domain/test_carried_secrets.py has each class of field."""

from __future__ import annotations

import json
from html import unescape

import pytest
from receivers import free_port, postgres_receiver

from studio import models
from studio.services.connections import connection_save

PASSWORD = "Stored-Pw-7x"
AGAIN = "type `password` again (a stored secret goes only where it was typed for)"


def stored(port: int, host: str = "127.0.0.1") -> models.Connection:
    fields = {"type": "postgres", "host": host, "port": port, "user": "loader", "database": "dw"}
    return connection_save(name="WAREHOUSE", fields={**fields, "sslmode": "disable", "password": PASSWORD})


def edit_form(client, form_values) -> dict[str, str]:
    data = form_values(client.get("/connections/WAREHOUSE/").content, "card")
    assert data["password"] == ""  # never sent back: the edit leaves it empty
    return data


@pytest.mark.sling
@pytest.mark.parametrize("moved", ["host", "port"])
def test_testing_an_edit_that_moves_the_connection_sends_no_stored_password(
    client, user, data_dir, form_values, moved
):
    with postgres_receiver() as pg:
        # Stored: another host of the same port (127.0.0.2 is loopback, but the receiver listens on
        # 127.0.0.1 only), or another port of the same host; the edit names the receiver's.
        stored(pg.port, host="127.0.0.2") if moved == "host" else stored(free_port())
        edit = {**edit_form(client, form_values), "host": "127.0.0.1", "port": str(pg.port)}

        answer = unescape(client.post("/connections/WAREHOUSE/test/", edit).content.decode())

        assert pg.logins == []
        assert f"`{moved}` changed: {AGAIN}" in answer


@pytest.mark.sling
def test_the_stored_password_goes_to_the_host_it_was_typed_for_and_a_typed_one_anywhere(
    client, user, data_dir, form_values
):
    with postgres_receiver() as typed_for, postgres_receiver() as other:
        stored(typed_for.port)
        same_place = {**edit_form(client, form_values), "schema": "staging"}
        moved = {**same_place, "port": str(other.port), "password": "Typed-Pw-2y"}

        answers = [
            unescape(client.post("/connections/WAREHOUSE/test/", data).content.decode())
            for data in (same_place, moved)
        ]

        # The receivers refuse every password: sling says it could not connect, having sent it.
        assert all("WAREHOUSE: could not connect" in answer for answer in answers)
        assert [(login["user"], login.get("password")) for login in typed_for.logins] == [
            ("loader", PASSWORD)
        ]
        assert [(login["user"], login.get("password")) for login in other.logins] == [
            ("loader", "Typed-Pw-2y")
        ]


def test_saving_an_edit_that_moves_the_connection_asks_for_the_password_at_its_field(
    client, user, form_values
):
    before = stored(5432, host="db.internal")

    response = client.post(
        "/connections/WAREHOUSE/", {**edit_form(client, form_values), "host": "evil.example"}
    )

    assert response.status_code == 422
    html = unescape(response.content.decode())
    message = f"`host` changed: {AGAIN}"
    assert message in html
    assert 'id="id_password"' in html.split(message)[0].rsplit('class="field', 1)[1]  # said at its field
    after = models.Connection.objects.get()
    assert (after.params, after.secrets, after.version) == (before.params, before.secrets, before.version)


def test_the_admin_may_not_move_a_connection_that_has_stored_secrets(admin_client):
    before = stored(5432, host="db.internal")
    page = f"/admin/studio/connection/{before.pk}/change/"

    def post(**params: object):
        data = {"name": "WAREHOUSE", "type": "postgres", "params": json.dumps({**before.params, **params})}
        return admin_client.post(page, data)

    moved = post(host="evil.example")
    assert moved.status_code == 200  # the form again, with why
    assert "`host` changed: the stored secrets would go elsewhere" in unescape(moved.content.decode())
    assert models.Connection.objects.get().params == before.params

    assert post(schema="staging").status_code == 302
    after = models.Connection.objects.get()
    assert (after.params, after.secrets) == ({**before.params, "schema": "staging"}, before.secrets)
