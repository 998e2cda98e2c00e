"""How the parts of a run take its streams (issue 23), in one process: batches, the connections'
limits and why a run waits (shown on its page), two streams writing one object, and the
replications that stay one sling process. tests/commands/test_parallel_workers.py runs them on
real workers."""

from __future__ import annotations

import pytest
from django.utils import timezone
from run_support import csv_to_sqlite, replication, sqlite_connection

from replication.config import ReplicationConfig
from replication.parallel import batch, default_limit, one_process_reason
from studio import models
from studio.launcher import Launcher
from studio.services.executor import _claim
from studio.services.parallel import _finish, _take, fans_out
from studio.services.runs import run_create

pytestmark = pytest.mark.django_db


def running(**how) -> models.Run:
    run = run_create(replication="shop", parallel=4, **how)
    assert run.status == "queued", run.error
    assert _claim(run)
    run.refresh_from_db()
    return run


def test_each_part_takes_its_share_of_what_is_left():
    assert [batch(n, 4) for n in (64, 48, 36, 27, 3, 1)] == [16, 12, 9, 7, 1, 1]
    assert batch(64, 1) == 64  # one process: the whole file, as `sling run -r`
    assert (default_limit("sqlite"), default_limit("duckdb"), default_limit("postgres")) == (1, 1, 8)
    assert default_limit("s3") is None and default_limit("file") is None


def test_a_sqlite_target_takes_one_process_and_the_run_says_what_it_waits_for(tmp_path, client, user):
    csv_to_sqlite(tmp_path, {f"s{n}.csv": 1 for n in range(8)})
    run = running()

    first = _take(run, "h:1:1.1")
    second = _take(run, "h:1:1.2")

    # One writer at a time: one process takes every stream (a start each would only cost).
    assert first == [f"file://{tmp_path}/s{n}.csv" for n in range(8)]
    assert second is None  # nothing left for another part


def test_a_connection_s_limit_shares_the_streams_and_makes_the_rest_wait(tmp_path, client, user):
    csv_to_sqlite(tmp_path, {f"s{n}.csv": 1 for n in range(8)})
    models.Connection.objects.filter(name="TARGET_DB").update(max_streams=2)
    run = running()

    first, second, third = (_take(run, f"h:1:1.{part}") for part in (1, 2, 3))

    assert first == [f"file://{tmp_path}/s{n}.csv" for n in range(4)]  # 8 streams over 2 processes
    assert second == [f"file://{tmp_path}/s{n}.csv" for n in (4, 5)]
    assert third == "waiting for `TARGET_DB`: 2 of 2 in use"
    page = client.get(f"/runs/{run.pk}/").text
    assert "waiting for `TARGET_DB`: 2 of 2 in use" in page
    _finish(run, "h:1:1.1")  # a part gives its slots back: the waiting part goes on
    assert _take(run, "h:1:1.3") == [f"file://{tmp_path}/s6.csv"]
    assert models.Run.objects.get(pk=run.pk).waiting == ""


def test_two_streams_writing_one_table_never_run_side_by_side(tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 1, "b.csv": 1})
    models.Connection.objects.filter(name="TARGET_DB").update(max_streams=4)
    run = running()
    models.RunStream.objects.filter(run=run).update(object="main.same")

    taken = _take(run, "h:1:1.1")

    assert taken == [f"file://{tmp_path}/a.csv"]
    assert _take(run, "h:1:1.2") == "waiting for `main.same`: another stream of this run writes it"


def test_the_last_part_ends_the_run_as_sling_would(tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 1, "b.csv": 1})
    models.Connection.objects.filter(name="TARGET_DB").update(max_streams=4)
    run = running()
    a, b = _take(run, "h:1:1.1"), _take(run, "h:1:1.2")
    models.RunStream.objects.filter(run=run, name__in=a).update(status="failed")
    models.RunStream.objects.filter(run=run, name__in=b).update(status="succeeded")

    _finish(run, "h:1:1.1")
    still = models.Run.objects.get(pk=run.pk).status
    _finish(run, "h:1:1.2")

    run.refresh_from_db()
    assert still == "running"  # part 2 held its slot
    assert (run.status, run.error) == ("failed", f"1 stream(s) failed: {a[0]}")
    assert not models.StreamLock.objects.filter(run=run).exists()


def test_a_replication_with_hooks_around_its_streams_stays_one_process(tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 1, "b.csv": 1})
    plain = run_create(replication="shop", parallel=4)
    replication(
        "hooked",
        "source: LOCAL\ntarget: TARGET_DB\nhooks:\n  start:\n    - type: log\n      message: hi\n"
        f"streams:\n  file://{tmp_path}/a.csv:\n    object: main.a\n"
        f"  file://{tmp_path}/b.csv:\n    object: main.b\n",
    )
    hooked = run_create(replication="hooked", parallel=4)

    assert fans_out(plain)
    assert not fans_out(hooked)
    assert "one sling process for every stream: its hooks (start) run once around all streams" in (
        hooked.log_chunks.get().text
    )
    stateful = ReplicationConfig(source="LOCAL", target="TARGET_DB", streams={}, env={"SLING_STATE": "x"})
    assert one_process_reason(stateful) == "its `env: SLING_STATE` keeps state across streams"


def test_with_one_worker_beating_one_process_takes_every_stream(tmp_path):
    csv_to_sqlite(tmp_path, {f"s{n}.csv": 1 for n in range(8)})
    now = timezone.now()
    models.WorkerBeat.objects.create(worker_id="w1", host="h", pid=1, started=now, last_seen=now)
    run = running()

    assert _take(run, "h:1:1.1") == [f"file://{tmp_path}/s{n}.csv" for n in range(8)]


def test_a_part_s_sling_gets_the_connections_of_its_own_streams_only(tmp_path, settings):
    csv_to_sqlite(tmp_path, {"a.csv": 1})
    sqlite_connection("OTHER_DB", tmp_path / "other.sqlite")
    replication(
        "hooks",
        "source: LOCAL\ntarget: TARGET_DB\n"
        f"streams:\n  file://{tmp_path}/a.csv:\n    object: main.a\n"
        f"  file://{tmp_path}/b.csv:\n    object: main.b\n"
        "    hooks:\n      post:\n        - type: query\n"
        "          connection: OTHER_DB\n          query: select 1\n",
    )
    config = models.Replication.objects.get(name="hooks").as_config()

    alone = Launcher.here().run(
        config, streams=[f"file://{tmp_path}/a.csv"], mode=None, workdir=tmp_path / "a"
    )
    both = Launcher.here().run(config, streams=None, mode=None, workdir=tmp_path / "both")

    assert "TARGET_DB" in alone.env and "OTHER_DB" not in alone.env
    assert "OTHER_DB" in both.env
