"""A stored secret is carried into an edit only while the edit sends it where it was typed for
(issue 22, finding 3): `replication.connections.carry_secrets`, each class of field that says
where a connection goes. tests/views/test_connection_secrets_go_where_typed.py has the form, Test
and the real sling against a fake PostgreSQL server."""

from __future__ import annotations

import pytest

from replication.connections import carry_secrets, split_secrets

PG = {"type": "postgres", "host": "db.internal", "port": "5432", "user": "loader", "database": "dw"}
PASSWORD = "pw-stored-1"


def carried(stored: dict, edit: dict) -> tuple[dict, list[tuple[tuple, str]]]:
    conn_type = str(stored["type"])
    public, secret = split_secrets(conn_type, {k: v for k, v in stored.items() if k != "type"})
    fields, problems = carry_secrets(
        str(edit["type"]), edit, stored_type=conn_type, public=public, secret=secret
    )
    return fields, [(p.path, p.message) for p in problems]


@pytest.mark.parametrize(
    ("stored", "edit"),
    [
        (PG, {**PG, "schema": "staging", "connect_timeout": "30"}),
        (PG, {**PG, "port": 5432, "host": "db.internal"}),  # the same values, written otherwise
        (
            {"type": "s3", "bucket": "b", "secret_access_key": "sk"},
            {"type": "s3", "bucket": "b", "format": "csv"},
        ),
    ],
    ids=["harmless-fields", "same-values", "s3-format"],
)
def test_an_edit_that_goes_where_the_secret_was_typed_for_keeps_it(stored, edit):
    stored = {**stored, "password": PASSWORD}

    fields, problems = carried(stored, edit)

    assert problems == []
    assert fields["password"] == PASSWORD


@pytest.mark.parametrize(
    ("edit", "moved"),
    [
        ({**PG, "host": "evil.example"}, "`host`"),
        ({**PG, "port": "6543"}, "`port`"),
        ({**PG, "user": "postgres"}, "`user`"),
        ({**PG, "database": "other"}, "`database`"),
        ({**PG, "sslmode": "disable"}, "`sslmode`"),  # a field not known to be harmless: fail closed
        ({**PG, "some_new_option": "x"}, "`some_new_option`"),
        ({k: v for k, v in PG.items() if k != "port"}, "`port`"),  # a field removed
        ({**PG, "type": "mysql"}, "`type`"),
        ({**PG, "url": "postgresql://loader@evil.example/dw"}, "`url`"),
        # A secret typed anew that sling reads as an address: the others must follow it.
        ({**PG, "conn_str": "host=evil.example user=loader"}, "`conn_str`"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_an_edit_that_moves_the_connection_must_type_the_secret_again(edit, moved):
    fields, problems = carried({**PG, "password": PASSWORD}, edit)

    assert "password" not in fields
    assert problems == [
        (
            ("password",),
            f"{moved} changed: type `password` again (a stored secret goes only where it was typed for)",
        )
    ]


def test_a_new_password_typed_with_the_new_host_is_the_one_sent():
    fields, problems = carried(
        {**PG, "password": PASSWORD}, {**PG, "host": "db2.internal", "password": "new"}
    )

    assert (fields["password"], problems) == ("new", [])


def test_a_typed_credential_does_not_move_the_other_secrets():
    stored = {**PG, "password": PASSWORD, "ssh_tunnel": "ssh://jump:tunnel-pw@bastion:22"}

    fields, problems = carried(stored, {**PG, "password": "rotated", "ssh_tunnel": "ssh://jump@bastion:22"})

    assert problems == []
    assert fields["ssh_tunnel"] == "ssh://jump:tunnel-pw@bastion:22"


def test_a_url_without_its_password_keeps_it_only_at_the_same_address():
    stored = {
        "type": "postgres",
        "url": f"postgresql://loader:{PASSWORD}@db.internal:5432/dw?sslmode=require",
    }

    same, kept = carried(
        stored, {"type": "postgres", "url": "postgresql://loader@db.internal:5432/dw?sslmode=require"}
    )
    moved, problems = carried(stored, {"type": "postgres", "url": "postgresql://loader@evil.example:5432/dw"})

    assert (same["url"], kept) == (stored["url"], [])
    assert moved["url"] == "postgresql://loader@evil.example:5432/dw"
    assert problems == [
        (
            ("url",),
            "`url` changed: write its password in `url` again"
            " (a stored secret goes only where it was typed for)",
        )
    ]


def test_a_secret_query_parameter_of_a_url_is_named_when_it_must_be_written_again():
    stored = {"type": "motherduck", "url": "motherduck://db?interactive=true&motherduck_token=tk-1"}

    _, problems = carried(stored, {"type": "motherduck", "url": "motherduck://other?interactive=true"})

    assert [where for where, _ in problems] == [("url",)]
    assert problems[0][1].startswith("`url` changed: write its `motherduck_token` in `url` again")
