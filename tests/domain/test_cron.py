"""Cron expressions: checking them, their times in a time zone, their words, and the
scheduler's plan for the due times it finds (run the latest within grace, miss the rest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from replication import cron

GRACE = timedelta(minutes=5)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "cron `* * * *` has 4 fields; expected 5"),
        ("0 0 * * * *", "has 6 fields; expected 5"),
        ("@daily", "has 1 field; expected 5"),
        ("61 * * * *", "cron `61 * * * *`: bad minute `61` (allowed: 0-59"),
        ("0 24 * * *", "bad hour `24` (allowed: 0-23"),
        ("0 0 0 * *", "bad day of month `0` (allowed: 1-31"),
        ("0 0 * 13 *", "bad month `13` (allowed: 1-12 or JAN-DEC"),
        ("0 0 * * 8", "bad day of week `8` (allowed: 0-7 or SUN-SAT"),
        ("0 0 30 2 *", "day of month `30` never comes in month `2`"),
        ("*/x * * * *", "bad minute `*/x`"),
    ],
)
def test_it_refuses_what_cron_would_not_run_saying_which_field(expression, message):
    with pytest.raises(cron.CronError) as error:
        cron.check(expression)
    assert message in str(error.value)


def test_it_keeps_an_expression_with_its_fields_one_space_apart():
    assert cron.check("  */15   6-18 * *  MON-FRI ") == "*/15 6-18 * * MON-FRI"


def test_it_says_an_expression_in_words():
    assert cron.describe("*/5 * * * *") == "Every 5 minutes"
    assert cron.describe("0 6 * * 1-5") == "At 06:00, Monday through Friday"
    assert cron.describe("0 0 L * *") == "At 00:00, on the last day of the month"


def test_the_next_times_are_in_the_schedules_time_zone():
    times = cron.next_times("0 6 * * *", "America/New_York", after=utc(2026, 12, 1, 12), count=2)

    assert [t.isoformat() for t in times] == ["2026-12-02T06:00:00-05:00", "2026-12-03T06:00:00-05:00"]


def test_a_time_skipped_by_the_clock_change_runs_at_the_first_minute_after_and_a_repeated_one_once():
    spring = cron.next_times("30 2 * * *", "Europe/Berlin", after=utc(2026, 3, 28, 12), count=2)
    autumn = cron.next_times("30 2 * * *", "Europe/Berlin", after=utc(2026, 10, 24, 12), count=2)

    assert [t.isoformat() for t in spring] == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    # 02:30 happens twice on 25 October; cron runs it once.
    assert [t.isoformat() for t in autumn] == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(cron.CronError, match="unknown time zone `Europe/Atlantis`"):
        cron.next_times("* * * * *", "Europe/Atlantis", after=utc(2026, 1, 1))


def test_the_plan_of_a_time_just_due_runs_it():
    plan = cron.plan(
        "*/5 * * * *", "UTC", due=utc(2026, 12, 1, 12, 5), now=utc(2026, 12, 1, 12, 5, 3), grace=GRACE
    )

    assert plan == cron.Plan(fire=utc(2026, 12, 1, 12, 5), missed=None, next_fire=utc(2026, 12, 1, 12, 10))


def test_the_plan_after_downtime_runs_the_latest_time_within_grace_and_misses_the_others():
    plan = cron.plan(
        "*/5 * * * *", "UTC", due=utc(2026, 12, 1, 9, 0), now=utc(2026, 12, 1, 12, 3), grace=GRACE
    )

    assert plan.fire == utc(2026, 12, 1, 12, 0)
    assert plan.missed == cron.Missed(first=utc(2026, 12, 1, 9, 0), last=utc(2026, 12, 1, 11, 55), count=36)
    assert plan.next_fire == utc(2026, 12, 1, 12, 5)


def test_the_plan_runs_nothing_when_even_the_latest_time_is_older_than_grace():
    plan = cron.plan("0 3 * * *", "UTC", due=utc(2026, 11, 1, 3), now=utc(2026, 12, 1, 9), grace=GRACE)

    assert plan.fire is None
    assert plan.missed == cron.Missed(first=utc(2026, 11, 1, 3), last=utc(2026, 12, 1, 3), count=31)
    assert plan.next_fire == utc(2026, 12, 2, 3)


def test_the_plan_stops_counting_a_year_of_missed_minutes():
    plan = cron.plan("* * * * *", "UTC", due=utc(2025, 12, 1), now=utc(2026, 12, 1, 0, 0, 30), grace=GRACE)

    assert plan.fire == utc(2026, 12, 1)
    assert plan.missed is not None and plan.missed.count == cron.COUNT_MAX


def test_a_time_not_yet_due_plans_nothing():
    plan = cron.plan("0 * * * *", "UTC", due=utc(2026, 12, 1, 13), now=utc(2026, 12, 1, 12, 59), grace=GRACE)

    assert plan == cron.Plan(fire=None, missed=None, next_fire=utc(2026, 12, 1, 13))
