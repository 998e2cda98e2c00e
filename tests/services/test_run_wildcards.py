"""A wildcard stream run by the real sling: the streams it expanded into are recorded under it,
and the wildcard itself ends with their outcome, not `skipped`."""

from __future__ import annotations

import sqlite3

import pytest
from run_support import replication, sqlite_connection, write_csv

from studio import models
from studio.selectors.monitoring import replication_history
from studio.selectors.runs import run_list, run_stream_rows
from studio.services.executor import run_execute
from studio.services.runs import run_create

pytestmark = [pytest.mark.sling, pytest.mark.usefixtures("data_dir"), pytest.mark.django_db]


def source_tables(path, tables: dict[str, int]) -> None:
    with sqlite3.connect(path) as db:
        for table, rows in tables.items():
            db.execute(f"create table {table} (id integer primary key, name text)")
            db.executemany(f"insert into {table} values (?, ?)", [(i, f"n{i}") for i in range(rows)])  # noqa: S608


def test_a_schema_wildcard_records_each_table_under_it(tmp_path):
    source_tables(tmp_path / "source.sqlite", {"users": 3, "events": 5})
    sqlite_connection("SOURCE_DB", tmp_path / "source.sqlite")
    sqlite_connection("TARGET_DB", tmp_path / "target.sqlite")
    replication(
        "copy",
        "source: SOURCE_DB\ntarget: TARGET_DB\n"
        "defaults:\n  mode: full-refresh\n  object: main.{stream_table}_copy\n"
        "streams:\n  main.*:\n",
    )
    run = run_create(replication="copy")

    run_execute(run)

    assert run.status == "succeeded"
    rows = [(s.name, s.status, s.rows, s.expanded_from) for s in run_stream_rows(run)]
    assert rows[0] == ("main.*", "succeeded", 8, "")
    assert sorted(rows[1:]) == [
        ('"main"."events"', "succeeded", 5, "main.*"),
        ('"main"."users"', "succeeded", 3, "main.*"),
    ]
    # The run's total counts each row once, not once for the table and again for the wildcard.
    assert run_list(replication="copy").get().rows_total == 8
    assert [point["rows"] for point in replication_history("copy")] == [8]


def test_a_file_wildcard_records_each_file_under_it_beside_a_plain_stream(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    write_csv(folder / "one.csv", 2)
    write_csv(folder / "two.csv", 4)
    write_csv(tmp_path / "plain.csv", 1)
    sqlite_connection("TARGET_DB", tmp_path / "target.sqlite")
    wildcard = f"file://{folder}/*.csv"
    replication(
        "files",
        "source: LOCAL\ntarget: TARGET_DB\n"
        "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
        "  object: main.{stream_file_name}\n"
        f"streams:\n  {wildcard}:\n  file://{tmp_path}/plain.csv:\n    object: main.plain\n",
    )
    run = run_create(replication="files")

    run_execute(run)

    rows = [(s.name, s.status, s.rows, s.expanded_from) for s in run_stream_rows(run)]
    assert rows == [
        (wildcard, "succeeded", 6, ""),
        (f"{folder}/one.csv", "succeeded", 2, wildcard),
        (f"{folder}/two.csv", "succeeded", 4, wildcard),
        (f"file://{tmp_path}/plain.csv", "succeeded", 1, ""),
    ]
    assert models.RunStream.objects.filter(run=run, status="skipped").count() == 0
