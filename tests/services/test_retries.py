"""Retries: a failed run tried again under its replication's policy, recorded as trigger
`retry`, with the backoff doubling; and the failure alert only when no attempt is left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult
from run_support import csv_to_sqlite, write_csv

from studio import models
from studio.errors import Conflict, Refused
from studio.services.alerts import channel_create
from studio.services.automation import runs_follow_up
from studio.services.executor import run_execute
from studio.services.retries import policy_save
from studio.services.runs import run_cancel, run_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path):
    csv_to_sqlite(tmp_path, {"missing.csv": -1})
    return models.Replication.objects.get(name="shop")


def retry_of(run, now):
    """What the worker's pass does at `now` after `run` ended: the retry it queued."""
    runs_follow_up(now=now)
    return models.Run.objects.filter(retry_of=run).first()


@pytest.mark.sling
def test_a_failed_run_is_retried_with_a_doubling_backoff_then_alerted(shop):
    policy_save(replication=shop, base_version=0, retries=2, retry_backoff=60, freshness_minutes=None)
    channel_create(replication=shop, webhook="http://127.0.0.1:9/hook", events=["failure"])

    first = run_execute(run_create(replication="shop"))
    second = retry_of(first, T)
    task = DBTaskResult.objects.get(args_kwargs__args=[second.pk])
    run_execute(second)
    third = retry_of(second, T + timedelta(minutes=2))
    third_task = DBTaskResult.objects.get(args_kwargs__args=[third.pk])
    run_execute(third)
    last = retry_of(third, T + timedelta(minutes=5))

    assert [r.status for r in (first, second, third)] == ["failed"] * 3
    assert (second.trigger, second.retry_of, second.attempt) == ("retry", first, 2)
    assert (third.trigger, third.retry_of_id, third.attempt) == ("retry", second.pk, 3)
    # Queued for after the backoff: 60 s after the first failure, then 120 s after the second.
    assert task.run_after == T + timedelta(seconds=60)
    assert third_task.run_after == T + timedelta(minutes=2, seconds=120)
    assert last is None  # two retries, no more
    # One failure alert, for the last attempt: the earlier failures were being retried.
    (alert,) = models.Alert.objects.all()
    assert alert.run == third
    assert alert.text.splitlines()[0] == f"❌ shop: run #{third.pk} failed (retry of #{second.pk}, attempt 3)"


@pytest.mark.sling
def test_a_retry_runs_the_failed_streams_only(tmp_path):
    csv_to_sqlite(tmp_path, {"a.csv": 3, "missing.csv": -1, "b.csv": 2}, name="mixed")
    mixed = models.Replication.objects.get(name="mixed")
    policy_save(replication=mixed, base_version=0, retries=1, retry_backoff=1, freshness_minutes=None)

    first = run_execute(run_create(replication="mixed"))
    second = retry_of(first, T)

    assert first.status == "failed"
    assert second.streams == [f"file://{tmp_path}/missing.csv"]
    assert list(second.run_streams.values_list("name", flat=True)) == second.streams


@pytest.mark.sling
def test_a_retry_that_succeeds_ends_the_chain(shop, tmp_path):
    policy_save(replication=shop, base_version=0, retries=3, retry_backoff=1, freshness_minutes=None)
    first = run_execute(run_create(replication="shop"))
    second = retry_of(first, T)
    write_csv(tmp_path / "missing.csv", 4)

    run_execute(second)

    assert second.status == "succeeded"
    assert retry_of(second, T) is None


def test_runs_that_never_started_or_were_cancelled_are_not_retried(shop):
    policy_save(replication=shop, base_version=0, retries=3, retry_backoff=1, freshness_minutes=None)
    cancelled = run_cancel(run=run_create(replication="shop"))
    models.Connection.objects.filter(name="TARGET_DB").delete()
    refused = run_create(replication="shop")  # a missing connection: it would be refused again

    runs_follow_up(now=T)

    assert (cancelled.status, refused.status) == ("cancelled", "failed")
    assert not models.Run.objects.filter(trigger="retry").exists()


@pytest.mark.sling
def test_without_a_policy_a_failed_run_is_not_retried(shop):
    run = run_execute(run_create(replication="shop"))

    assert run.status == "failed"
    assert retry_of(run, T) is None


def test_the_policy_refuses_an_edit_of_an_old_version_and_bad_numbers(shop):
    policy_save(replication=shop, base_version=0, retries=1, retry_backoff=30, freshness_minutes=60)

    with pytest.raises(Conflict):
        policy_save(replication=shop, base_version=0, retries=2, retry_backoff=30, freshness_minutes=60)
    with pytest.raises(Refused, match="retries must be 0 to 10"):
        policy_save(replication=shop, base_version=1, retries=11, retry_backoff=30, freshness_minutes=60)

    policy = policy_save(
        replication=shop, base_version=1, retries=2, retry_backoff=45, freshness_minutes=None
    )
    assert (policy.version, policy.retries, policy.retry_backoff, policy.freshness_minutes) == (
        2,
        2,
        45,
        None,
    )
