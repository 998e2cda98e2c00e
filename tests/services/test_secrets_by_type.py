"""Secrets by connection type, failing closed (issue 12, problem 4).

Each type's fields are public or secret by the table of Sling's connection types
(`replication.connection_types`); a field not known to be public for its type is
secret, whatever its name, so `apikey`, `pwd` or a `dsn` URL given as extra fields
never show: not on the connections pages, not in the admin, not in the Dagster export.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from replication.connections import carry_secrets, is_secret, merge_secrets, split_secrets
from studio import models
from studio.services.connections import connection_save
from studio.services.dagster import dagster_location
from studio.services.replications import replication_import

APIKEY, PWD, DSN_PASSWORD, TOKEN = "ak-7Hq2x", "pw-9Lm4z", "dsn-3Kd8v", "tk-5Rt1w"
PLANTED = (APIKEY, PWD, DSN_PASSWORD, TOKEN)


@pytest.mark.parametrize(
    ("conn_type", "field"),
    [
        ("postgres", "apikey"),
        ("postgres", "pwd"),
        ("postgres", "dsn"),
        ("mysql", "api-key"),
        ("s3", "x"),
        ("nosuchtype", "host"),  # an unknown type: every field
        ("athena", "user"),  # athena's `user` is an AWS access key id
        ("postgres", "PASSWORD"),  # Sling reads names lower-cased
    ],
)
def test_a_field_not_known_public_for_its_type_is_secret(conn_type, field):
    assert is_secret(conn_type, field)


@pytest.mark.parametrize(
    ("conn_type", "field"),
    [("postgres", "Host"), ("mysql", "allow_cleartext_passwords"), ("snowflake", "private_key_path")],
)
def test_the_public_fields_of_a_type_are_public_whatever_their_names_suggest(conn_type, field):
    assert not is_secret(conn_type, field)


def test_query_values_of_a_url_are_secret_unless_public_for_the_type():
    public, secret = split_secrets(
        "motherduck", {"url": f"motherduck://db?interactive=true&motherduck_token={TOKEN}"}
    )

    assert public == {"url": "motherduck://db?interactive=true"}
    assert secret == {"url:query:motherduck_token": TOKEN}


def test_a_password_in_any_url_valued_field_is_split_out_and_put_back_for_sling():
    fields = {"host": "h", "ssh_tunnel": f"ssh://jump:{PWD}@bastion:22", "url": f"postgres://u:{PWD}@h/db"}

    public, secret = split_secrets("postgres", fields)

    assert public == {"host": "h", "ssh_tunnel": "ssh://jump@bastion:22", "url": "postgres://u@h/db"}
    assert secret == {"ssh_tunnel:password": PWD, "url:password": PWD}
    assert merge_secrets(public, secret) == fields
    # An edit that sends the tunnel again without its password keeps the stored one.
    carried, problems = carry_secrets(
        "postgres", public, stored_type="postgres", public=public, secret=secret
    )
    assert (carried["ssh_tunnel"], problems) == (fields["ssh_tunnel"], [])


def test_a_plain_path_in_a_url_valued_field_stays_as_written():
    assert split_secrets("sqlite", {"instance": "/data/x.db"}) == ({"instance": "/data/x.db"}, {})


@pytest.fixture
def extras(demo):
    """A connection with secrets only its type says are secrets, read by a replication."""
    connection_save(
        name="EXTRAS",
        fields={
            "type": "postgres",
            "host": "db.example.com",
            "user": "loader",
            "apikey": APIKEY,
            "pwd": PWD,
            "dsn": f"postgresql://loader:{DSN_PASSWORD}@db.example.com/dw?token={TOKEN}",
        },
    )
    replication_import(
        name="extras",
        text="source: EXTRAS\ntarget: DEMO_SQLITE\nstreams:\n  public.users:\n    object: main.users\n",
    )
    return models.Connection.objects.get(name="EXTRAS")


def test_extra_secret_fields_are_stored_apart_and_still_given_to_sling(extras):
    assert extras.params == {"host": "db.example.com", "user": "loader"}
    assert set(extras.secrets) == {"apikey", "pwd", "dsn"}
    assert extras.full_params()["dsn"].endswith(f":{DSN_PASSWORD}@db.example.com/dw?token={TOKEN}")


def test_no_viewer_page_admin_page_or_export_shows_them(extras):
    viewer = Client()
    viewer.force_login(get_user_model().objects.get(username="viewer"))
    admin = Client()
    admin.force_login(get_user_model().objects.get(username="demo"))
    outputs = {
        "list": viewer.get("/connections/").content.decode(),
        "admin list": admin.get("/admin/studio/connection/").content.decode(),
        "admin change": admin.get(f"/admin/studio/connection/{extras.pk}/change/").content.decode(),
        **dagster_location(names=["extras"]),
    }

    assert "db.example.com" in outputs["list"]
    assert "apikey=••••••" in outputs["list"]
    for name, text in outputs.items():
        for value in PLANTED:
            assert value not in text, (name, value)
    assert 'dg.EnvVar("EXTRAS_APIKEY")' in outputs["definitions.py"]
