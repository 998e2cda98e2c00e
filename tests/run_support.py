"""Helpers of the run tests: real files, real sling, a data folder per test."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from django.core.management import call_command

from studio import models
from studio.services.connections import connection_save
from studio.services.replications import replication_import


def write_csv(path: Path, rows: int, *, start: int = 0) -> Path:
    lines = ["id,name,amount"] + [f"{i},name {i},{i % 100}.5" for i in range(start, start + rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def sqlite_connection(name: str, path: Path) -> models.Connection:
    return connection_save(name=name, fields={"type": "sqlite", "url": f"sqlite://{path}"})


def replication(name: str, text: str) -> models.Replication:
    stored, _ = replication_import(name=name, text=text)
    return stored


def csv_to_sqlite(tmp_path: Path, files: dict[str, int], *, name: str = "shop") -> Path:
    """A replication `name`: each CSV file (name -> rows) into a table of TARGET_DB; returns the target."""
    target = tmp_path / "target.sqlite"
    sqlite_connection("TARGET_DB", target)
    streams = ""
    for file, rows in files.items():
        if rows >= 0:
            write_csv(tmp_path / file, rows)
        streams += f"  file://{tmp_path / file}:\n    object: main.{Path(file).stem}\n"
    replication(
        name,
        "source: LOCAL\ntarget: TARGET_DB\n"
        "defaults:\n  mode: full-refresh\n  source_options: {format: csv, header: true}\n"
        f"streams:\n{streams}",
    )
    return target


def count_rows(database: Path, table: str) -> int:
    with sqlite3.connect(database) as db:
        return db.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608 - a test's own name


def tables(database: Path) -> set[str]:
    if not database.exists():
        return set()
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}


def command(*args: str) -> tuple[int, str, str]:
    """`manage.py run_replication ARGS`: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("run_replication", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()
