"""Schedules fired with a controlled clock: `fire_due(now=...)` is what every worker calls.

The clock is never mocked: each test hands the service the moment it means.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult
from run_support import csv_to_sqlite

from studio import models
from studio.errors import Conflict, Refused
from studio.services import schedules as service
from studio.services.runs import run_create
from studio.services.schedules import fire_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]

NOON = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
Fire = models.ScheduleFire.Status


def at(hh: int, mm: int, ss: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hh, mm, ss, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3, "b.csv": 3})
    return models.Replication.objects.get(name="shop")


def every(replication, expression="*/5 * * * *", *, now=NOON, **fields):
    return service.schedule_create(replication=replication, cron_expression=expression, now=now, **fields)


def test_it_fires_at_the_due_time_and_not_before(shop):
    schedule = every(shop)
    assert schedule.next_fire == at(12, 5)

    early = fire_due(now=at(12, 4, 59))
    fired = fire_due(now=at(12, 5, 2))
    again = fire_due(now=at(12, 5, 3))

    assert early == [] and again == []
    assert [(f.due, f.status) for f in fired] == [(at(12, 5), Fire.FIRED)]
    run = fired[0].run
    assert (run.status, run.trigger, run.schedule_id, run.requested_by) == (
        "queued",
        "schedule",
        schedule.pk,
        None,
    )
    assert DBTaskResult.objects.get().args_kwargs == {"args": [run.pk], "kwargs": {}}
    schedule.refresh_from_db()
    assert schedule.next_fire == at(12, 10)


def test_each_due_time_fires_once_however_many_workers_read_it(shop):
    schedule = every(shop)
    # Two workers read the same due schedule before either claims it.
    reading = (schedule.pk, schedule.version, schedule.next_fire)
    plan = service.cron.plan(
        schedule.cron, "UTC", due=schedule.next_fire, now=at(12, 5, 1), grace=timedelta(minutes=5)
    )

    first = service._fire(*reading, plan)
    second = service._fire(*reading, plan)

    assert [f.status for f in first] == [Fire.FIRED]
    assert second == []  # its UPDATE named a next fire that had moved on
    assert models.Run.objects.filter(trigger="schedule").count() == 1


def test_the_streams_and_mode_of_a_schedule_are_those_of_its_runs(shop, tmp_path):
    a = f"file://{tmp_path}/a.csv"
    schedule = every(shop, "0 * * * *", streams=[a], mode="truncate")

    fire = fire_due(now=at(13, 0, 1))[0]

    assert (fire.run.streams, fire.run.mode) == ([a], "truncate")
    assert list(fire.run.run_streams.values_list("name", flat=True)) == [a]
    assert schedule.fires.get() == fire


def test_a_schedule_s_range_is_its_runs_range_and_a_bad_one_is_refused_by_its_field(shop, tmp_path):
    a = f"file://{tmp_path}/a.csv"
    schedule = every(shop, "0 * * * *", streams=[a], span=" 1,100 ")

    fire = fire_due(now=at(13, 0, 1))[0]

    assert schedule.range == "1,100"
    assert (fire.run.status, fire.run.range) == ("queued", "1,100"), fire.run.error
    with pytest.raises(Refused) as refused:
        service.schedule_update(
            schedule=schedule,
            base_version=schedule.version,
            cron_expression="0 * * * *",
            tz="UTC",
            streams=[a],
            mode="",
            span="2024-01-01",
        )
    assert refused.value.problems[0].path == ("range",)
    assert 'is not "start,end"' in refused.value.problems[0].message
    schedule.refresh_from_db()
    assert schedule.range == "1,100"  # nothing half-saved


def test_a_missed_time_within_the_grace_time_runs_once_and_the_older_ones_are_recorded_as_missed(
    shop, settings
):
    settings.STUDIO_SCHEDULE_GRACE_MINUTES = 5
    schedule = every(shop)  # due at 12:05, 12:10, ...

    # No worker from 12:04 to 13:02: twelve due times passed; 13:00 is 2 minutes old.
    fires = fire_due(now=at(13, 2))

    assert [(f.status, f.due, f.count, f.last_due) for f in fires] == [
        (Fire.MISSED, at(12, 5), 11, at(12, 55)),
        (Fire.FIRED, at(13, 0), 1, None),
    ]
    assert "11 due times from 2026-12-01 12:05 to 2026-12-01 12:55 UTC" in fires[0].reason
    assert models.Run.objects.count() == 1  # no storm of catch-up runs
    schedule.refresh_from_db()
    assert schedule.next_fire == at(13, 5)


def test_a_time_older_than_the_grace_time_is_missed_not_run(shop, settings):
    settings.STUDIO_SCHEDULE_GRACE_MINUTES = 5
    schedule = every(shop, "0 * * * *")  # next: 13:00

    fires = fire_due(now=at(15, 30))

    assert [(f.status, f.due, f.count, f.last_due) for f in fires] == [(Fire.MISSED, at(13, 0), 3, at(15, 0))]
    assert not models.Run.objects.exists()
    schedule.refresh_from_db()
    assert schedule.next_fire == at(16, 0)


def test_a_single_missed_time_says_no_worker_fired_it(shop, settings):
    settings.STUDIO_SCHEDULE_GRACE_MINUTES = 1
    every(shop, "0 * * * *")

    (missed,) = fire_due(now=at(13, 3))

    assert (missed.status, missed.count) == (Fire.MISSED, 1)
    assert missed.reason == "no worker fired it within 1 minutes of its time"


def test_a_fire_whose_streams_still_run_is_skipped_with_the_reason(shop, tmp_path):
    every(shop)
    first = fire_due(now=at(12, 5, 1))[0]

    second = fire_due(now=at(12, 10, 1))[0]

    a = f"file://{tmp_path}/a.csv"
    assert (second.status, second.run) == (Fire.SKIPPED, None)
    assert second.reason == f"stream `{a}` is already queued in run #{first.run.pk}: this time is skipped"
    # Nothing recorded as a failed run, and the lock still belongs to the first run.
    assert list(models.Run.objects.values_list("pk", "status")) == [(first.run.pk, "queued")]


def test_a_busy_stream_held_by_a_manual_run_skips_the_fire_too(shop):
    manual = run_create(replication=shop)
    every(shop)

    (fire,) = fire_due(now=at(12, 5, 1))

    assert fire.status == Fire.SKIPPED
    assert f"run #{manual.pk}" in fire.reason


def test_a_scheduled_run_refused_for_another_reason_is_a_failed_run(shop):
    every(shop)
    models.Connection.objects.filter(name="TARGET_DB").delete()

    (fire,) = fire_due(now=at(12, 5, 1))

    assert fire.status == Fire.FIRED
    assert fire.run.status == "failed"
    assert fire.reason == fire.run.error
    assert fire.run.error.startswith("connection `TARGET_DB` is not defined")


def test_a_paused_schedule_does_not_fire_and_resumes_without_catching_up(shop):
    schedule = every(shop)

    service.schedule_pause(schedule=schedule)
    while_paused = fire_due(now=at(12, 20))
    service.schedule_resume(schedule=schedule, now=at(12, 21))
    after = fire_due(now=at(12, 25, 1))

    assert while_paused == []
    assert [(f.status, f.due) for f in after] == [(Fire.FIRED, at(12, 25))]


def test_the_clock_going_back_does_not_fire_a_due_time_twice(shop):
    schedule = every(shop)
    fire_due(now=at(12, 5, 1))
    # Someone set the next fire back to a time that already fired (an old backup, a clock jump).
    models.Schedule.objects.filter(pk=schedule.pk).update(next_fire=at(12, 5))

    again = fire_due(now=at(12, 5, 30))

    assert again == []
    assert models.Run.objects.count() == 1
    schedule.refresh_from_db()
    assert schedule.next_fire == at(12, 10)  # and it moved on


def test_times_follow_the_schedules_time_zone_across_a_clock_change(shop):
    # 02:30 does not exist in Berlin on 29 March 2026: cron (and cronsim) run it at 03:00.
    schedule = every(shop, "30 2 * * *", tz="Europe/Berlin", now=datetime(2026, 3, 28, 12, tzinfo=UTC))

    assert schedule.next_fire == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    fire_due(now=datetime(2026, 3, 29, 1, 0, 5, tzinfo=UTC))
    schedule.refresh_from_db()
    assert schedule.next_fire == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"cron_expression": "*/5 * * *"}, "cron", "cron `*/5 * * *` has 4 fields; expected 5"),
        ({"cron_expression": "0 25 * * *"}, "cron", "bad hour `25` (allowed: 0-23"),
        ({"tz": "Mars/Olympus"}, "timezone", "unknown time zone `Mars/Olympus`"),
        ({"streams": ["nope"]}, "streams", "no stream named `nope` in this replication"),
        ({"mode": "sideways"}, "mode", "unknown mode `sideways`"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(shop, fields, field, message):
    with pytest.raises(Refused) as refused:
        service.schedule_create(replication=shop, **{"cron_expression": "* * * * *", **fields})

    (problem,) = refused.value.problems
    assert problem.path == (field,)
    assert message in problem.message
    assert not models.Schedule.objects.exists()


def test_it_refuses_to_schedule_a_disabled_stream(shop, tmp_path):
    a = f"file://{tmp_path}/a.csv"
    models.Stream.objects.filter(name=a).update(config={"object": "main.a", "disabled": True})

    with pytest.raises(Refused, match="is disabled"):
        every(shop, streams=[a])


def test_an_edit_of_an_old_version_is_refused_with_the_other_change(shop):
    schedule = every(shop)
    mine = models.Schedule.objects.get(pk=schedule.pk)
    service.schedule_update(
        schedule=schedule,
        base_version=1,
        cron_expression="0 * * * *",
        tz="UTC",
        streams=[],
        mode="",
        now=NOON,
    )

    with pytest.raises(Conflict) as conflict:
        service.schedule_update(
            schedule=mine,
            base_version=1,
            cron_expression="*/10 * * * *",
            tz="UTC",
            streams=[],
            mode="",
            now=NOON,
        )

    assert conflict.value.diff == "0 * * * * (UTC), all streams"
    schedule.refresh_from_db()
    assert (schedule.cron, schedule.version, schedule.next_fire) == ("0 * * * *", 2, at(13, 0))


def test_an_edit_moves_the_next_fire_and_a_claim_read_before_it_fires_nothing(shop):
    schedule = every(shop)
    reading = (schedule.pk, schedule.version, schedule.next_fire)
    plan = service.cron.plan(
        schedule.cron, "UTC", due=schedule.next_fire, now=at(12, 5, 1), grace=timedelta(minutes=5)
    )
    service.schedule_update(
        schedule=schedule,
        base_version=1,
        cron_expression="*/5 * * * *",
        tz="UTC",
        streams=[],
        mode="truncate",
        now=NOON,
    )

    assert service._fire(*reading, plan) == []  # the version moved on: the edited schedule fires next
    assert [f.run.mode for f in fire_due(now=at(12, 5, 1))] == ["truncate"]
