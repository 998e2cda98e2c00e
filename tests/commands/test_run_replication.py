"""`manage.py run_replication` with the real sling binary: rows are counted in the targets themselves."""

from __future__ import annotations

import csv
import os
import uuid

import psycopg  # a dependency of the studio (pyproject.toml)
import pytest
from run_support import command, count_rows, csv_to_sqlite, replication, sqlite_connection, tables, write_csv

from studio import models
from studio.services.connections import connection_save

# Run folders and Sling's home in the test's own folder, never the developer's data.
pytestmark = [pytest.mark.sling, pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]


def test_it_loads_csv_files_into_sqlite(tmp_path, data_dir):
    target = csv_to_sqlite(tmp_path, {"customers.csv": 40, "orders.csv": 300})

    code, out, err = command("shop")

    assert (code, err) == (0, "")
    # Counted in the target file, not only read from sling's log.
    assert count_rows(target, "main.customers") == 40
    assert count_rows(target, "main.orders") == 300
    run = models.Run.objects.get()
    assert (run.status, run.exit_code, run.error, run.streams) == ("succeeded", 0, "", [])
    assert [(s.name, s.status, s.rows, s.target) for s in run.run_streams.all()] == [
        (f"file://{tmp_path}/customers.csv", "succeeded", 40, '"main"."customers"'),
        (f"file://{tmp_path}/orders.csv", "succeeded", 300, '"main"."orders"'),
    ]
    assert all(s.duration is not None and s.duration >= 0 for s in run.run_streams.all())
    assert run.started <= run.finished
    assert not models.StreamLock.objects.exists()
    # The log is printed as it comes and kept in the data folder.
    assert "INF inserted 300 rows into" in out
    log = (data_dir / "runs" / str(run.pk) / "sling.log").read_text()
    assert run.log_file == data_dir / "runs" / str(run.pk) / "sling.log"
    assert "INF execution succeeded" in log
    assert log.splitlines()[-1] == "--- run succeeded (sling exit code 0) ---"
    # The summary table: stream, status, rows, seconds, target.
    header = next(line for line in out.splitlines() if line.startswith("stream "))
    assert header.split() == ["stream", "status", "rows", "seconds", "target"]
    rows = [line.split() for line in out.splitlines() if line.startswith("file://")]
    assert rows[-1] == [f"file://{tmp_path}/orders.csv", "succeeded", "300", rows[-1][3], '"main"."orders"']
    assert out.strip().splitlines()[-1].startswith(f"run #{run.pk} succeeded in ")


def test_it_writes_a_sqlite_table_to_a_csv_file(tmp_path):
    source = tmp_path / "source.sqlite"
    with __import__("sqlite3").connect(source) as db:
        db.execute("create table people (id integer, name text)")
        db.executemany("insert into people values (?, ?)", [(i, f"person {i}") for i in range(25)])
    sqlite_connection("SOURCE_DB", source)
    out_file = tmp_path / "out" / "people.csv"
    replication(
        "export",
        "source: SOURCE_DB\ntarget: LOCAL\n"
        f"streams:\n  main.people:\n    object: file://{out_file}\n    mode: full-refresh\n",
    )

    code, _, err = command("export")

    assert (code, err) == (0, "")
    with out_file.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "name"]
    assert rows[1:] == [[str(i), f"person {i}"] for i in range(25)]
    stream = models.RunStream.objects.get()
    assert (stream.status, stream.rows) == ("succeeded", 25)


def test_it_loads_into_postgresql(tmp_path):
    url = os.environ.get("POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("POSTGRES_URL is not set: CI must run the tests inside scripts/with-postgres.sh")
        pytest.skip("POSTGRES_URL is not set (make test sets it)")
    table = f"run_test_{uuid.uuid4().hex[:10]}"
    write_csv(tmp_path / "items.csv", 1234)
    separator = "&" if "?" in url else "?"
    connection_save(name="PG_TARGET", fields={"url": f"{url}{separator}sslmode=disable"})
    replication(
        "to-pg",
        "source: LOCAL\ntarget: PG_TARGET\n"
        f"streams:\n  file://{tmp_path}/items.csv:\n    object: public.{table}\n    mode: full-refresh\n",
    )
    try:
        code, out, err = command("to-pg")

        assert (code, err) == (0, ""), out
        with psycopg.connect(url) as db:
            assert db.execute(f"select count(*) from public.{table}").fetchone() == (1234,)  # noqa: S608
        assert models.RunStream.objects.get().rows == 1234
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"drop table if exists public.{table}")


def test_a_chosen_stream_runs_alone(tmp_path):
    target = csv_to_sqlite(tmp_path, {"customers.csv": 40, "orders.csv": 300})

    code, _, _ = command("shop", "--stream", f"file://{tmp_path}/orders.csv")

    assert code == 0
    assert count_rows(target, "main.orders") == 300
    assert "customers" not in tables(target)
    run = models.Run.objects.get()
    assert run.streams == [f"file://{tmp_path}/orders.csv"]
    assert [s.name for s in run.run_streams.all()] == [f"file://{tmp_path}/orders.csv"]
    # sling was given a file with only that stream.
    config = (run.log_file.parent / "replication.yaml").read_text()
    assert "orders.csv" in config
    assert "customers.csv" not in config


def test_the_mode_option_overrides_the_streams_mode(tmp_path):
    target = csv_to_sqlite(tmp_path, {"orders.csv": 30})
    command("shop")

    code, out, _ = command("shop", "--mode", "snapshot")

    assert code == 0
    assert "run -r" in out and "--mode snapshot" in out
    # A snapshot appends the whole source again.
    assert count_rows(target, "main.orders") == 60


def test_a_failing_stream_fails_the_run_and_the_others_still_load(tmp_path):
    target = csv_to_sqlite(tmp_path, {"missing.csv": -1, "orders.csv": 300})

    code, _, err = command("shop")

    assert code == 1
    assert count_rows(target, "main.orders") == 300
    run = models.Run.objects.get()
    assert run.status == "failed"
    assert run.exit_code == 1
    assert run.error == f"1 stream(s) failed: file://{tmp_path}/missing.csv"
    assert err.splitlines()[-1] == f"error: {run.error}"
    missing, orders = run.run_streams.all()
    assert (missing.status, orders.status, orders.rows) == ("failed", "succeeded", 300)
    assert "no such file or directory" in missing.error
    assert not models.StreamLock.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no replication named `nope`"),
        (
            ["shop", "--stream", "file://elsewhere.csv"],
            "no stream named `file://elsewhere.csv` in this replication",
        ),
        (["shop", "--mode", "sideways"], "unknown mode `sideways`; expected one of: full-refresh, "),
        (["shop", "--range", "2024-01-01"], 'the range `2024-01-01` is not "start,end" (one comma)'),
    ],
    ids=["replication", "stream", "mode", "range"],
)
def test_it_refuses_unknown_names_in_one_line(tmp_path, args, message):
    csv_to_sqlite(tmp_path, {"orders.csv": 3})

    code, _, err = command(*args)

    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {message}")
    run = models.Run.objects.get()
    assert run.status == "failed"
    assert run.error == err.strip().removeprefix("error: ")
    assert run.finished is not None
    assert not models.StreamLock.objects.exists()


def test_it_refuses_a_missing_connection(tmp_path):
    replication(
        "shop", "source: LOCAL\ntarget: NOWHERE_DB\nstreams:\n  file://demo/data/x.csv:\n    object: main.x\n"
    )

    code, _, err = command("shop")

    assert code == 1
    assert err.splitlines() == [
        "error: connection `NOWHERE_DB` is not defined: add it to the studio "
        "or set the environment variable NOWHERE_DB"
    ]
    assert models.Run.objects.get().status == "failed"


def test_a_connection_from_the_environment_is_enough(tmp_path, monkeypatch):
    target = tmp_path / "env-target.sqlite"
    monkeypatch.setenv("ENV_DB", f"sqlite://{target}")
    write_csv(tmp_path / "a.csv", 7)
    replication(
        "shop", f"source: LOCAL\ntarget: ENV_DB\nstreams:\n  file://{tmp_path}/a.csv:\n    object: main.a\n"
    )

    code, _, err = command("shop")

    assert (code, err) == (0, "")
    assert count_rows(target, "main.a") == 7


def test_it_refuses_a_missing_binary(tmp_path, settings):
    csv_to_sqlite(tmp_path, {"orders.csv": 3})
    settings.SLING_BINARY = str(tmp_path / "no-such-sling")

    code, _, err = command("shop")

    assert code == 1
    assert err.splitlines() == [
        f"error: the sling binary is missing: SLING_BINARY={tmp_path}/no-such-sling does not exist"
    ]
    run = models.Run.objects.get()
    assert (run.status, run.error) == ("failed", err.strip().removeprefix("error: "))


def test_it_refuses_a_disabled_stream(tmp_path):
    write_csv(tmp_path / "a.csv", 3)
    sqlite_connection("TARGET_DB", tmp_path / "t.sqlite")
    replication(
        "shop",
        f"source: LOCAL\ntarget: TARGET_DB\nstreams:\n  file://{tmp_path}/a.csv:\n"
        "    object: main.a\n    disabled: true\n",
    )

    code, _, err = command("shop", "--stream", f"file://{tmp_path}/a.csv")

    assert code == 1
    assert err.splitlines() == [f"error: stream `file://{tmp_path}/a.csv` is disabled; enable it to run it"]


def test_a_secret_never_reaches_the_log_or_the_error(tmp_path):
    secret = f"pw-{uuid.uuid4().hex}"
    connection_save(
        name="WAREHOUSE",
        fields={"type": "postgres", "host": "127.0.0.1", "user": "u", "password": secret, "database": "d"},
    )
    # A file named after the secret: sling's error about it would print the secret.
    csv_to_sqlite(tmp_path, {f"{secret}.csv": -1, "orders.csv": 5})

    code, out, err = command("shop")

    assert code == 1
    run = models.Run.objects.get()
    log = run.log_file.read_text()
    assert "no such file or directory" in log
    assert "••••" in log  # it was there, and masked
    printed_log = out.split("\n\n")[0]  # the table after it lists stream names as they are
    for text in (log, printed_log, err, run.error, *run.run_streams.values_list("error", flat=True)):
        assert secret not in text


def test_stream_names_reach_sling_as_data_not_as_arguments(tmp_path):
    marker = tmp_path / "pwned"
    source = tmp_path / "source.sqlite"
    __import__("sqlite3").connect(source).close()
    sqlite_connection("SOURCE_DB", source)
    target = tmp_path / "target.sqlite"
    sqlite_connection("TARGET_DB", target)
    evil = f"; touch {marker}"
    replication(
        "weird",
        "source: SOURCE_DB\ntarget: TARGET_DB\ndefaults: {mode: full-refresh}\nstreams:\n"
        "  '--help':\n    sql: select 1 as one\n    object: main.help\n"
        f"  '{evil}':\n    sql: select 2 as two\n    object: main.evil\n",
    )

    code, out, err = command("weird", "--stream=--help", "--stream", evil)

    assert (code, err) == (0, ""), out
    assert not marker.exists()
    run = models.Run.objects.get()
    # sling read both names from the file and ran them: it printed no usage text.
    config = (run.log_file.parent / "replication.yaml").read_text()
    assert "--help" in config and evil in config
    assert "Usage" not in out
    assert [(s.name, s.status, s.rows) for s in run.run_streams.all()] == [
        ("--help", "succeeded", 1),
        (evil, "succeeded", 1),
    ]
    assert count_rows(target, "main.help") == count_rows(target, "main.evil") == 1
