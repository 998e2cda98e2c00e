from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from replication.connections import MASK
from studio import models

ENV = """\
connections:
  warehouse:
    type: postgres
    host: db.internal
    user: loader
    password: hunter2-pg
    database: analytics
    port: 5432
  Crm_Db:
    url: postgresql://u:s3cret@h:5432/db
  lake:
    type: s3
    bucket: acme-lake
    region: eu-west-1
    access_key_id: AKIAEXAMPLEKEY
    secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLE
  LOCAL_DB:
    url: sqlite:///tmp/studio-test.db

variables:
  ignored: true
"""
SECRETS = ("hunter2-pg", "s3cret", "AKIAEXAMPLEKEY", "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLE")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "env.yaml"
    path.write_text(text)
    return path


def run(path: Path) -> str:
    out = io.StringIO()
    call_command("import_connections", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(path: Path) -> str:
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import_connections", str(path), stdout=io.StringIO(), stderr=err)
    assert exc.value.code == 1
    return err.getvalue()


@pytest.mark.django_db
def test_it_imports_connections_with_upper_case_names(tmp_path):
    out = run(write(tmp_path, ENV))

    assert out.strip() == "imported WAREHOUSE (postgres), CRM_DB (postgres), LAKE (s3), LOCAL_DB (sqlite)"
    assert list(models.Connection.objects.values_list("name", "type")) == [
        ("CRM_DB", "postgres"),
        ("LAKE", "s3"),
        ("LOCAL_DB", "sqlite"),
        ("WAREHOUSE", "postgres"),
    ]


@pytest.mark.django_db
def test_it_keeps_secrets_out_of_params(tmp_path):
    run(write(tmp_path, ENV))

    for connection in models.Connection.objects.all():
        stored = json.dumps(connection.params) + json.dumps(connection.shown_params())
        for secret in SECRETS:
            assert secret not in stored, (connection.name, secret)


@pytest.mark.django_db
def test_it_splits_a_connection_given_by_fields(tmp_path):
    run(write(tmp_path, ENV))

    warehouse = models.Connection.objects.get(name="WAREHOUSE")
    assert warehouse.params == {
        "host": "db.internal",
        "user": "loader",
        "database": "analytics",
        "port": 5432,
    }
    assert warehouse.secrets == {"password": "hunter2-pg"}
    assert warehouse.shown_params() == {
        "host": "db.internal",
        "user": "loader",
        "database": "analytics",
        "port": 5432,
        "password": MASK,
    }
    assert warehouse.full_params() == {
        "host": "db.internal",
        "user": "loader",
        "password": "hunter2-pg",
        "database": "analytics",
        "port": 5432,
    }


@pytest.mark.django_db
def test_it_splits_the_password_out_of_a_url(tmp_path):
    run(write(tmp_path, ENV))

    crm = models.Connection.objects.get(name="CRM_DB")
    assert crm.params == {"url": "postgresql://u@h:5432/db"}
    assert crm.secrets == {"url:password": "s3cret"}
    assert crm.shown_params() == {"url": "postgresql://u@h:5432/db", "password": MASK}
    assert crm.full_params() == {"url": "postgresql://u:s3cret@h:5432/db"}


@pytest.mark.django_db
def test_it_splits_s3_keys(tmp_path):
    run(write(tmp_path, ENV))

    lake = models.Connection.objects.get(name="LAKE")
    assert lake.params == {"bucket": "acme-lake", "region": "eu-west-1"}
    assert lake.secrets == {
        "access_key_id": "AKIAEXAMPLEKEY",
        "secret_access_key": "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLE",
    }
    assert lake.shown_params()["access_key_id"] == MASK
    assert lake.shown_params()["secret_access_key"] == MASK
    assert lake.full_params() == {
        "bucket": "acme-lake",
        "region": "eu-west-1",
        "access_key_id": "AKIAEXAMPLEKEY",
        "secret_access_key": "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLE",
    }


@pytest.mark.django_db
def test_it_stores_a_sqlite_url_without_secrets(tmp_path):
    run(write(tmp_path, ENV))

    local = models.Connection.objects.get(name="LOCAL_DB")
    assert local.type == "sqlite"
    assert local.params == {"url": "sqlite:///tmp/studio-test.db"}
    assert local.secrets == {}
    assert local.full_params() == {"url": "sqlite:///tmp/studio-test.db"}


@pytest.mark.django_db
def test_it_keeps_a_duckdb_url_as_written(tmp_path):
    run(write(tmp_path, "connections:\n  duck:\n    url: duckdb:///tmp/studio-test.duckdb\n"))

    duck = models.Connection.objects.get(name="DUCK")
    assert duck.type == "duckdb"
    assert duck.params == {"url": "duckdb:///tmp/studio-test.duckdb"}
    assert duck.full_params() == {"url": "duckdb:///tmp/studio-test.duckdb"}


@pytest.mark.django_db
def test_it_accepts_a_connection_written_as_a_bare_url(tmp_path):
    run(write(tmp_path, "connections:\n  pg: postgres://me:pw@db:5432/app\n"))

    pg = models.Connection.objects.get(name="PG")
    assert pg.type == "postgres"
    assert pg.params == {"url": "postgres://me@db:5432/app"}
    assert pg.full_params() == {"url": "postgres://me:pw@db:5432/app"}


@pytest.mark.django_db
def test_it_updates_on_reimport(tmp_path):
    run(write(tmp_path, ENV))
    first_pk = models.Connection.objects.get(name="WAREHOUSE").pk
    changed = "connections:\n  warehouse:\n    type: postgres\n    host: db2.internal\n    password: new-pw\n"

    run(write(tmp_path, changed))

    warehouse = models.Connection.objects.get(name="WAREHOUSE")
    assert warehouse.pk == first_pk
    assert warehouse.params == {"host": "db2.internal"}
    assert warehouse.secrets == {"password": "new-pw"}
    assert models.Connection.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "line", "message"),
    [
        (
            "  broken:\n    host: somewhere\n",
            19,
            "error: connections.broken: unknown or missing connection type `None`",
        ),
        ("  broken: 42\n", 19, "error: connections.broken: expected a mapping with `type` or `url`"),
        (
            "  broken: [a, b]\n",
            19,
            "error: connections.broken: expected a mapping with `type` or `url`",
        ),
    ],
    ids=["no-type-no-url", "number", "list"],
)
def test_it_saves_nothing_when_one_connection_is_wrong(tmp_path, bad, line, message):
    # The bad one comes last, after four good ones that must not be saved either.
    text = ENV.replace("\nvariables:", bad + "\nvariables:")
    path = write(tmp_path, text)

    err = refused(path)

    assert err.splitlines() == [f"{path}:{line}: {message}"]
    assert models.Connection.objects.count() == 0


@pytest.mark.django_db
def test_it_leaves_stored_connections_alone_when_refused(tmp_path):
    run(write(tmp_path, ENV))
    text = "connections:\n  warehouse:\n    type: postgres\n    host: elsewhere\n  broken: 42\n"

    refused(write(tmp_path, text))

    assert models.Connection.objects.get(name="WAREHOUSE").params["host"] == "db.internal"


@pytest.mark.django_db
def test_it_refuses_a_file_without_connections(tmp_path):
    path = write(tmp_path, "variables:\n  a: 1\n")

    err = refused(path)

    assert err.splitlines() == [f"{path}: error: connections: expected a `connections:` mapping"]


@pytest.mark.django_db
def test_it_refuses_unreadable_yaml(tmp_path):
    path = write(tmp_path, "connections:\n  pg:\n\ttype: postgres\n")

    err = refused(path)

    assert len(err.splitlines()) == 1
    assert err.startswith(f"{path}:3: error: not valid YAML")


@pytest.mark.django_db
def test_it_reports_a_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"

    err = refused(path)

    assert err.splitlines() == [f"{path}: error: cannot read file: No such file or directory"]
