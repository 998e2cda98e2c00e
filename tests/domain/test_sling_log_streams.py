"""Only streams have results (issue 22, finding 7): with `DEBUG=TRACE` sling 1.4.11's error
report lists Go source locations between dashes (`--- proc.go:283 main ---`), shaped like the
header that names a failed stream; they were listed as skipped streams. A result comes only
from a stream the run named or one a wildcard of it expanded into."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from replication import sling
from replication.sling.binary import find_binary

pytestmark = pytest.mark.sling


def run_traced(tmp_path: Path, streams: dict[str, str]) -> tuple[list[sling.StreamResult], str]:
    """The real binary run with DEBUG=TRACE on CSV files into SQLite; its output read by a
    LogReader: (the results, stderr)."""
    lines = "".join(f"  {name}:\n    object: {table}\n" for name, table in streams.items())
    config = tmp_path / "replication.yaml"
    config.write_text(f"source: LOCAL\ntarget: TARGET\nstreams:\n{lines}")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SLING_HOME_DIR": str(tmp_path / "sling"),
        "SLING_LOGGING": "JSON",
        "DEBUG": "TRACE",
        "TARGET": f'{{"type": "sqlite", "instance": "{tmp_path / "target.db"}"}}',
    }
    done = subprocess.run(
        [find_binary(), "run", "-r", str(config)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1  # one stream fails: sling writes its error report
    reader = sling.LogReader(streams)
    for line in done.stdout.splitlines():
        reader.stdout(line)
    reader.output(done.stderr + "\n")
    return reader.finish(done.returncode, cancelled=False), done.stderr


def test_source_locations_in_a_traced_error_report_are_no_streams(tmp_path):
    (tmp_path / "data").mkdir()
    for name in ("a", "b"):
        (tmp_path / "data" / f"{name}.csv").write_text("id,name\n1,x\n2,y\n")
    missing = f"file://{tmp_path}/missing.csv"
    wildcard = f"file://{tmp_path}/data/*.csv"

    results, stderr = run_traced(tmp_path, {wildcard: "main.{stream_file_name}", missing: "main.gone"})

    # What the report really holds: the locations this test is about.
    assert "--- proc.go:" in stderr
    by_name = {r.name: r for r in results}
    expanded = sorted(name for name, r in by_name.items() if r.expanded_from == wildcard)
    assert set(by_name) == {wildcard, missing, *expanded}
    assert [Path(name).name for name in expanded] == ["a.csv", "b.csv"]
    assert (by_name[wildcard].status, by_name[wildcard].rows) == ("succeeded", 4)
    # The failed stream keeps its own error, the trace's locations in it as sling wrote them.
    assert by_name[missing].status == "failed"
    assert "no such file or directory" in by_name[missing].error


def feed(reader: sling.LogReader, *messages: str) -> None:
    for message in messages:
        reader.stdout(f'{{"lvl": "info", "msg": "{message}"}}')


def test_a_stream_sling_reports_that_the_run_has_not_takes_nothing_from_the_one_before():
    reader = sling.LogReader(["main.a"])
    feed(reader, "[1 / 2] running stream main.a", "execution succeeded")
    feed(reader, "[2 / 2] running stream proc.go:283 main", 'inserted 9 rows into "main"."x" in 0 secs')

    results = reader.finish(exit_code=0, cancelled=False)

    assert [(r.name, r.status, r.rows) for r in results] == [("main.a", "succeeded", None)]
