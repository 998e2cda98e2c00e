"""Sling's progress bar, read live: with SLING_SHOW_PROGRESS=true sling 1.4.11 draws it on
stderr without a terminal, a tick a second (elapsed, rows so far, rows/s, bytes), each
followed by a space and none by a newline (core/sling/pbar.go, cheggaaa/pb v2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replication import sling
from replication.config import ReplicationConfig

STREAM = "file:///data/big.csv"
# The start of what a real 1,000,000-row CSV -> SQLite run printed on stderr.
BAR = (
    "1s 11,000 ? p/s 340 kB 2s 38,250 27302 r/s 1.2 MB 3s 50,500 26317 r/s 1.6 MB "
    "4s 64,012 25508 r/s 2.1 MB 1m5s 994,750 17696 r/s 34 MB "
)


def reader() -> sling.LogReader:
    log = sling.LogReader([STREAM])
    log.stdout(json.dumps({"lvl": "info", "msg": f"Sling Replication | LOCAL -> DB | {STREAM}"}))
    return log


def test_each_tick_updates_the_running_stream_at_once():
    log = reader()

    shown = log.output("1s 11,000 ? p/s 340 kB ")
    first = log.streams[STREAM].progress
    log.output("2s 38,250 27302 r/s 1.2 MB ")

    assert shown == []  # ticks are not log lines
    assert first == sling.Progress(rows=11_000, rate=None, elapsed=1.0, size="340 kB")
    assert log.streams[STREAM].progress == sling.Progress(
        rows=38_250, rate=27302.0, elapsed=2.0, size="1.2 MB"
    )


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(BAR) - 1), unique=True, max_size=12))
def test_ticks_read_the_same_however_the_pipe_cuts_them(cuts):
    log = reader()
    seen = []
    start = 0
    for cut in [*sorted(cuts), len(BAR)]:
        assert log.output(BAR[start:cut]) == []
        start = cut
        progress = log.streams[STREAM].progress
        if progress is not None and (not seen or seen[-1] != progress):
            seen.append(progress)

    assert [p.rows for p in seen] == sorted({p.rows for p in seen})  # never backwards, never a half tick
    assert seen[-1] == sling.Progress(rows=994_750, rate=17696.0, elapsed=65.0, size="34 MB")


def test_a_message_shown_in_the_bar_counts_as_logged_once():
    # pbar.go appends `| status` when sling sets a message while the bar is drawn; it then
    # shows on every tick after.
    log = reader()
    done = 'inserted 1200 rows into "main"."big" in 2 secs [600 r/s]'

    log.output(f"1s 1,100 ? p/s 40 kB | {done} 2s 1,200 600 r/s 44 kB | {done} ")
    log.output(f"3s 1,200 400 r/s 44 kB | {done}\n")
    log.stdout(json.dumps({"lvl": "info", "msg": "execution succeeded"}))

    result = log.streams[STREAM]
    assert (result.status, result.rows, result.target) == ("succeeded", 1200, '"main"."big"')


def test_the_error_report_after_a_bar_still_names_the_failed_stream():
    log = reader()
    log.stdout(json.dumps({"lvl": "info", "msg": "execution failed"}))

    shown = log.output(
        "1s 5,000 ? p/s 100 kB \nfatal:\n--- file:///data/big.csv ---\n~ could not write\ndisk full\n"
    )

    assert shown == ["fatal:", "--- file:///data/big.csv ---", "~ could not write", "disk full"]
    assert log.streams[STREAM].error == "~ could not write\ndisk full"


@pytest.mark.sling
def test_a_real_run_reports_rows_so_far_while_it_runs(tmp_path):
    source = tmp_path / "big.csv"
    source.write_text("id,name\n" + "".join(f"{i},name {i}\n" for i in range(100_000)))
    stream = f"file://{source}"
    config = ReplicationConfig(
        source="LOCAL",
        target="DB",
        streams={stream: {"object": "main.big"}},
        defaults={"mode": "full-refresh", "source_options": {"format": "csv", "header": True}},
    )
    prepared = sling.prepare(config, binary=sling.find_binary(), workdir=tmp_path / "run")
    env = sling.environment({"DB": f"sqlite://{tmp_path}/target.sqlite"}, home=tmp_path / "home")
    live: list[sling.Progress] = []

    def progress(results: list[sling.StreamResult]) -> None:
        (result,) = results
        if result.status == sling.RUNNING and result.progress and result.progress not in live:
            live.append(result.progress)

    result = sling.execute(prepared, env=env, cwd=Path(tmp_path), on_progress=progress)

    assert result.status == "succeeded", result.error
    assert result.streams[0].rows == 100_000
    assert live, "no progress was seen while the stream ran"
    assert all(0 < p.rows <= 100_000 and p.elapsed >= 1 for p in live)
    assert [p.rows for p in live] == sorted(p.rows for p in live)


EVENT = json.dumps({"lvl": "info", "msg": "wrote 38250 rows to file:///out.csv in 2 secs [19125 r/s]"})
# What one pipe holds when sling writes both: a tick (stderr, no newline), a JSON event (stdout)
# right after it, the end of the stream, then the error report (stderr).
MERGED = (
    "1s 11,000 ? p/s 340 kB "
    + EVENT
    + "\n"
    + json.dumps({"lvl": "info", "msg": "execution failed"})
    + "\n\x1b[31mfatal:\n--- "
    + STREAM
    + " ---\nno space left\x1b[0m\n"
)


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(MERGED) - 1), unique=True, max_size=12))
def test_sling_s_stdout_and_stderr_read_through_one_pipe_keep_their_order(cuts):
    log = reader()
    shown = []
    start = 0
    for cut in [*sorted(cuts), len(MERGED)]:
        shown += log.output(MERGED[start:cut])
        start = cut

    assert shown == [
        "INF wrote 38250 rows to file:///out.csv in 2 secs [19125 r/s]",
        "INF execution failed",
        "fatal:",
        f"--- {STREAM} ---",
        "no space left",
    ]
    result = log.streams[STREAM]
    assert (result.status, result.rows, result.error) == ("failed", 38250, "no space left")
    assert result.progress == sling.Progress(rows=11_000, rate=None, elapsed=1.0, size="340 kB")
