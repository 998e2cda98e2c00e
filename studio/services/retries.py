"""A replication's run policy (retries, backoff, freshness), and the new attempt a failed
run gets under it: trigger `retry`, queued to start after the backoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from studio import models
from studio.errors import Refused
from studio.services import audit
from studio.services.runs import StreamBusy, failed_streams, run_queue
from studio.services.versions import versioned_update

RETRIES_MAX = 10
BACKOFF_MAX = timedelta(hours=6)


@transaction.atomic
def policy_save(
    *,
    replication: models.Replication,
    base_version: int,
    retries: int,
    retry_backoff: int,
    freshness_minutes: int | None,
    schema_changes: str | None = None,
) -> models.RunPolicy:
    """Save the policy edited from `base_version` (0: never saved); `Conflict` when someone
    saved it since, `Refused` on numbers out of range. `schema_changes` (warn, refuse; None:
    as it is) is what a run meets when its tables would lose or retype a column."""
    if not 0 <= retries <= RETRIES_MAX:
        raise Refused.field("retries", f"retries must be 0 to {RETRIES_MAX}")
    if not 1 <= retry_backoff <= BACKOFF_MAX.total_seconds():
        raise Refused.field("retry_backoff", "the backoff must be 1 s to 6 hours")
    if freshness_minutes is not None and freshness_minutes < 1:
        raise Refused.field("freshness_minutes", "freshness must be at least 1 minute")
    if schema_changes not in (None, "warn", "refuse"):
        raise Refused.field("schema_changes", "schema changes are `warn` or `refuse`")
    fields: dict[str, object] = {
        "retries": retries,
        "retry_backoff": retry_backoff,
        "freshness_minutes": freshness_minutes,
    }
    if schema_changes is not None:
        fields["schema_changes"] = schema_changes
    policy, created = models.RunPolicy.objects.get_or_create(
        replication=replication, defaults={**fields, "version": 1}
    )
    if created and base_version == 0:
        _audit(policy, audit.field_changes({}, fields))
        return policy
    versioned_update(policy, base_version, changed=_described, name=f"the run policy of {replication.name}")
    before = {name: getattr(policy, name) for name in fields}
    models.RunPolicy.objects.filter(pk=policy.pk).update(**fields)
    policy.refresh_from_db()
    _audit(policy, audit.field_changes(before, fields))
    return policy


def _audit(policy: models.RunPolicy, changes: dict[str, Any]) -> None:
    audit.record(
        "changed",
        policy,
        object_name=f"run policy of {policy.replication.name}",
        summary=_described(policy),
        details={"replication": policy.replication.name, "version": policy.version, "fields": changes},
    )


def _described(policy: models.RunPolicy) -> str:
    """A policy in a line: what someone else's save made of it."""
    return (
        f"retries {policy.retries}, backoff {policy.retry_backoff} s, "
        f"freshness {policy.freshness_minutes or 'none'} min, schema changes: {policy.schema_changes}"
    )


def retry_delay(policy: models.RunPolicy, attempt: int) -> timedelta:
    """How long after failed attempt `attempt` (1 = the first run) the next one starts."""
    return min(timedelta(seconds=policy.retry_backoff * 2 ** (attempt - 1)), BACKOFF_MAX)


def run_retry(*, run: models.Run, now: datetime) -> models.Run | None:
    """The next attempt of the failed `run` (its failed streams; all of its streams when sling
    failed none of them), queued to start after the backoff, when its replication's policy
    has one left; None otherwise. A run refused before it started
    (a missing connection, say) is not retried: it would be refused again. Neither is
    one whose streams someone runs again meanwhile."""
    if run.status != models.Run.Status.FAILED or run.started is None or run.replication is None:
        return None
    policy = models.RunPolicy.objects.filter(replication=run.replication).first()
    if policy is None or run.attempt > policy.retries:
        return None
    try:
        return run_queue(
            replication=run.replication,
            streams=failed_streams(run) or run.streams,
            mode=run.mode,
            trigger=models.Run.Trigger.RETRY,
            schedule=run.schedule,
            retry_of=run,
            refuse_busy=True,
            after=now + retry_delay(policy, run.attempt),
        )
    except StreamBusy:
        return None
