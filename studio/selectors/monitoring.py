"""Reads for monitoring: stale streams, what is failing now, the runs of the last day,
the next scheduled runs, and the history of a replication or a stream (for its charts)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from replication.freshness import stale_since, stream_lags
from replication.util import paused_gc
from studio import models

Status = models.Run.Status
StreamStatus = models.RunStream.Status
FINISHED = (Status.SUCCEEDED, Status.FAILED)
HISTORY = 30


@dataclass(frozen=True, slots=True)
class StaleStream:
    replication_id: int
    replication: str
    stream: str
    lag_minutes: float
    last_success: datetime | None
    since: datetime


def stale_streams(
    *, now: datetime | None = None, pairs: Iterable[tuple[str, str]] | None = None
) -> list[StaleStream]:
    """The streams (all, or those of the (replication, stream) `pairs`) whose last success
    is older than their freshness allows: their `meta.dagster.freshness_policy.maximum_lag_minutes`,
    else their replication's freshness setting, else STUDIO_FRESHNESS_MINUTES. Oldest first."""
    now = now or timezone.now()
    chosen = models.Replication.objects.select_related("policy")
    rows = models.Stream.objects.order_by("replication", "position")
    if pairs is not None:
        pairs = set(pairs)
        chosen = chosen.filter(name__in={rep for rep, _ in pairs})
        rows = rows.filter(name__in={stream for _, stream in pairs})
    streams: dict[int, dict[str, Any]] = {}
    with paused_gc():
        for replication_id, name, config in rows.filter(replication__in=chosen).values_list(
            "replication_id", "name", "config"
        ):
            streams.setdefault(replication_id, {})[name] = config
    lags = {}
    for rep in chosen:
        policy = getattr(rep, "policy", None)
        default = policy.freshness_minutes if policy and policy.freshness_minutes else None
        default = default or settings.STUDIO_FRESHNESS_MINUTES
        for stream, lag in stream_lags(rep.as_config(streams.get(rep.pk, {})), default).items():
            if pairs is None or (rep.name, stream) in pairs:
                lags[rep.name, stream] = (rep, lag)
    if not lags:
        return []
    successes = models.RunStream.objects.filter(
        status=StreamStatus.SUCCEEDED, run__replication_name__in={name for name, _ in lags}
    )
    if pairs is not None:
        successes = successes.filter(name__in={stream for _, stream in lags})
    successes = successes.values_list("run__replication_name", "name").annotate(last=Max("run__finished"))
    last = {(rep, name): when for rep, name, when in successes}
    stale = []
    for (name, stream), (rep, lag) in lags.items():
        success = last.get((name, stream))
        since = stale_since(last_success=success, known_since=rep.created, lag_minutes=lag, now=now)
        if since is not None:
            stale.append(StaleStream(rep.pk, name, stream, lag, success, since))
    return sorted(stale, key=lambda s: (s.since, s.replication, s.stream))


def failing_now() -> list[dict[str, Any]]:
    """What is failing now, per replication: the streams whose last settled run failed, and a
    replication whose last run was refused before it started (its error)."""
    latest = (
        models.RunStream.objects.filter(status__in=[StreamStatus.SUCCEEDED, StreamStatus.FAILED])
        .values("run__replication_name", "name")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    failed = (
        models.RunStream.objects.filter(pk__in=Subquery(latest), status=StreamStatus.FAILED)
        .select_related("run")
        .order_by("-run_id", "position")
    )
    groups: dict[str, dict[str, Any]] = {}
    for row in failed:
        group = groups.setdefault(
            row.run.replication_name, {"replication": row.run.replication_name, "streams": []}
        )
        group["streams"].append(row)
        group.setdefault("run", row.run)
    last_finished = models.Run.objects.filter(replication=OuterRef("pk"), status__in=FINISHED).order_by("-pk")
    refused = models.Run.objects.filter(
        pk__in=Subquery(
            models.Replication.objects.annotate(last=Subquery(last_finished.values("pk")[:1])).values("last")
        ),
        status=Status.FAILED,
        started__isnull=True,
    )
    for run in refused:
        group = groups.setdefault(run.replication_name, {"replication": run.replication_name, "streams": []})
        group["refused"] = run
        group.setdefault("run", run)
    return sorted(groups.values(), key=lambda g: -g["run"].pk)


def runs_since(moment: datetime) -> QuerySet[models.Run]:
    return models.Run.objects.filter(created__gte=moment).select_related("requested_by")


def day_summary(*, now: datetime | None = None) -> dict[str, Any]:
    """The runs of the last 24 hours: counts by status, and per hour for the chart."""
    now = now or timezone.now()
    start = now - timedelta(hours=24)
    runs = list(runs_since(start).values_list("created", "status"))
    hours: list[Counter[str]] = [Counter() for _ in range(24)]
    for created, status in runs:
        hours[min(23, int((created - start).total_seconds() // 3600))][status] += 1
    return {
        # (status, count) pairs: a template reads `counts.items` of a Counter as the count of "items".
        "counts": sorted(Counter(status for _, status in runs).items()),
        "total": len(runs),
        "hours": hours,
        "start": start,
    }


def recent_runs(*, now: datetime | None = None, limit: int = 12) -> list[models.Run]:
    now = now or timezone.now()
    return list(runs_since(now - timedelta(hours=24)).order_by("-created", "-pk")[:limit])


def next_fires(*, limit: int = 8) -> list[models.Schedule]:
    """The enabled schedules, soonest first."""
    return list(
        models.Schedule.objects.filter(enabled=True, next_fire__isnull=False)
        .select_related("replication")
        .order_by("next_fire", "pk")[:limit]
    )


def paused_schedules() -> list[models.Schedule]:
    """The paused schedules: the dashboard names them, or it would say there are none."""
    return list(models.Schedule.objects.filter(enabled=False).select_related("replication").order_by("pk"))


# --- history ------------------------------------------------------------------------------


def replication_history(name: str, limit: int = HISTORY) -> list[dict[str, Any]]:
    """The last finished runs of a replication, oldest first: status, seconds, rows."""
    # A wildcard's line already sums the streams it expanded into.
    totals = models.RunStream.objects.filter(run=OuterRef("pk"), expanded_from="")
    totals = totals.values("run").annotate(total=Sum("rows"))
    runs = (
        models.Run.objects.filter(replication_name=name, status__in=FINISHED, started__isnull=False)
        .annotate(rows_total=Subquery(totals.values("total")))
        .order_by("-pk")[:limit]
    )
    return [
        {
            "id": run.pk,
            "status": run.status,
            "seconds": run.duration,
            "rows": run.rows_total,
            "when": run.created,
        }
        for run in reversed(runs)
    ]


def stream_histories(
    name: str, *, only: str = "", limit: int = HISTORY, streams: int = 100
) -> dict[str, list[dict[str, Any]]]:
    """{stream: its last settled runs, oldest first}, for the replication's streams that ran
    (the `streams` most recently run), or `only` that one."""
    rows = models.RunStream.objects.filter(
        run__replication_name=name, status__in=[StreamStatus.SUCCEEDED, StreamStatus.FAILED]
    )
    if only:
        rows = rows.filter(name=only)
    rows = rows.select_related("run").order_by("-run_id")[: limit * streams]
    histories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.name not in histories and len(histories) >= streams:
            continue
        if len(histories[row.name]) < limit:
            point = {"status": row.status, "seconds": row.duration, "rows": row.rows, "when": row.run.created}
            histories[row.name].append({"id": row.run_id, **point})
    return {stream: list(reversed(history)) for stream, history in histories.items()}


def history(*, replication: str, stream: str = "") -> dict[str, Any]:
    """The charts of a runs page: the last runs of the replication (or of one stream) with
    their success rate, and each stream's (of a replication's page)."""
    streams = stream_histories(replication, only=stream)
    runs = streams.get(stream, []) if stream else replication_history(replication)
    rows = (
        [] if stream else [(name, points, success_rate(points)) for name, points in sorted(streams.items())]
    )
    return {"runs": runs, "rate": success_rate(runs), "streams": rows}


def success_rate(history: list[dict[str, Any]]) -> float | None:
    """The share of succeeded runs in `history` (None when it is empty)."""
    if not history:
        return None
    return sum(h["status"] == StreamStatus.SUCCEEDED for h in history) / len(history)


def alerts_of_run(run: models.Run) -> QuerySet[models.Alert]:
    return models.Alert.objects.filter(run=run).order_by("pk")


def stale_keys(pairs: list[tuple[str, str]], *, now: datetime | None = None) -> set[tuple[str, str]]:
    """Of the (replication, stream) pairs, those stale now."""
    if not pairs:
        return set()
    return {(s.replication, s.stream) for s in stale_streams(now=now, pairs=pairs)}


def dashboard(*, now: datetime | None = None) -> dict[str, Any]:
    """The home page: what is failing now, the runs of the last 24 hours, the next
    scheduled runs and the stale streams."""
    now = now or timezone.now()
    return {
        "failing": failing_now(),
        "day": day_summary(now=now),
        "recent": recent_runs(now=now),
        "upcoming": next_fires(),
        "paused": paused_schedules(),
        "stale": stale_streams(now=now),
        "now": now,
    }
