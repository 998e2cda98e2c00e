"""What a load balancer and a monitoring system ask the studio: is it ready (`/readyz`), and its
metrics in Prometheus's format (`/metrics`). Everything is read from the database at the time it
is asked, so the answer is the same whichever web process gives it and counts the work of every
worker on every machine (nothing is counted in one process's memory)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from axes.models import AccessAttempt
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from studio import configured, models
from studio.services.workers import SILENT_AFTER_SECONDS
from studio.signins import SSO_USER, TOKEN_USER

# Seconds: a few-second stream up to an hours-long run.
BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)
_migrated = False


def readiness() -> tuple[bool, dict[str, str]]:
    """Whether the studio can do its work, and each check's answer ("ok", or why not)."""
    checks = {"database": _database()}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations()
        silent = timezone.now() - timedelta(seconds=SILENT_AFTER_SECONDS)
        heard = models.WorkerBeat.objects.filter(last_seen__gte=silent).count()
        checks["workers"] = (
            f"ok: {heard} heard from" if heard else f"no worker heard from in {SILENT_AFTER_SECONDS:.0f} s"
        )
    checks["sling"] = "ok" if configured.sling_version() else "no sling binary (SLING_BINARY)"
    checks["sandbox"] = configured.sandbox_problem() or "ok"
    return all(v.startswith("ok") for v in checks.values()), checks


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        connection.close()  # a new connection at the next ask, once it is back
        return f"not reachable: {type(exc).__name__}"
    return "ok"


def _migrations() -> str:
    # Applied migrations stay applied while this process lives (an upgrade restarts it): read the
    # migration graph until it is, then no more (the graph costs milliseconds; polled each second).
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return f"{len(plan)} migration(s) not applied: run `manage.py migrate`"
        _migrated = True
    return "ok"


def metrics() -> bytes:
    """Every metric in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return generate_latest(registry)


class _Collector:
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        runs = CounterMetricFamily("studio_runs", "Runs by status and trigger", labels=["status", "trigger"])
        for row in models.Run.objects.values("status", "trigger").annotate(n=Count("id")).order_by():
            runs.add_metric([row["status"], row["trigger"]], row["n"])
        yield runs

        took = ExpressionWrapper(F("finished") - F("started"), output_field=DurationField())
        ended = models.Run.objects.filter(finished__isnull=False, started__isnull=False).annotate(took=took)
        yield _histogram(
            "studio_run_duration_seconds",
            "Runs' durations, start to end",
            ended,
            "took",
            lambda b: timedelta(seconds=b),
            total=(ended.aggregate(s=Sum("took"))["s"] or timedelta()).total_seconds(),
        )
        streams = models.RunStream.objects.filter(duration__isnull=False)
        yield _histogram(
            "studio_stream_duration_seconds",
            "Streams' durations as sling reports them",
            streams,
            "duration",
            float,
            total=streams.aggregate(s=Sum("duration"))["s"] or 0.0,
        )
        rows = CounterMetricFamily(
            "studio_rows_moved", "Rows sling reported moved, by stream status", labels=["status"]
        )
        for row in models.RunStream.objects.values("status").annotate(n=Sum("rows")).order_by():
            rows.add_metric([row["status"]], row["n"] or 0)
        yield rows

        queued = models.Run.objects.filter(status=models.Run.Status.QUEUED).aggregate(
            n=Count("id"), oldest=Min("created")
        )
        yield GaugeMetricFamily("studio_queue_depth", "Runs queued, not started", value=queued["n"])
        oldest = (now - queued["oldest"]).total_seconds() if queued["oldest"] else 0.0
        yield GaugeMetricFamily("studio_queue_oldest_seconds", "Age of the oldest queued run", value=oldest)

        # Streams side by side (studio/services/parallel.py): a run's pending streams that no part
        # holds wait while the run says why (`Run.waiting`: a connection's or the run's limit).
        waiting = models.RunStream.objects.filter(
            run__status=models.Run.Status.RUNNING,
            status=models.RunStream.Status.PENDING,
            holder="",
        ).exclude(run__waiting="")
        yield GaugeMetricFamily(
            "studio_streams_waiting",
            "Streams of running runs waiting for room under a connection's limit",
            value=waiting.count(),
        )
        in_use = GaugeMetricFamily(
            "studio_connection_processes",
            "Sling processes using each connection now (counted against its limit)",
            labels=["connection"],
        )
        for row in models.RunSlot.objects.values("connection").annotate(n=Count("id")).order_by("connection"):
            in_use.add_metric([row["connection"]], row["n"])
        yield in_use

        late = models.Schedule.objects.filter(enabled=True, next_fire__lt=now).aggregate(
            first=Min("next_fire")
        )
        lag = (now - late["first"]).total_seconds() if late["first"] else 0.0
        yield GaugeMetricFamily(
            "studio_schedule_lag_seconds", "How far the most overdue schedule is behind its time", value=lag
        )

        alerts = CounterMetricFamily("studio_alerts", "Alerts by delivery status", labels=["status"])
        for row in models.Alert.objects.values("status").annotate(n=Count("id")).order_by():
            alerts.add_metric([row["status"]], row["n"])
        yield alerts

        beats = GaugeMetricFamily(
            "studio_worker_last_heartbeat_seconds",
            "Each worker's last beat (Unix time)",
            labels=["worker", "host", "pid"],
        )
        for beat in models.WorkerBeat.objects.order_by("started"):
            beats.add_metric([beat.worker_id[:8], beat.host, str(beat.pid)], beat.last_seen.timestamp())
        yield beats

        failures = GaugeMetricFamily(
            "studio_signin_failures",
            "Failed sign-ins not yet cleared by a success or the cool-off, by way of signing in",
            labels=["via"],
        )
        special = Q(username__in=[TOKEN_USER, SSO_USER])
        counted = AccessAttempt.objects.aggregate(
            password=Sum("failures_since_start", filter=~special | Q(username__isnull=True)),
            sso=Sum("failures_since_start", filter=Q(username=SSO_USER)),
            token=Sum("failures_since_start", filter=Q(username=TOKEN_USER)),
        )
        for via, n in counted.items():
            failures.add_metric([via], n or 0)
        yield failures


def _histogram(name: str, documentation: str, rows: Any, field: str, unit: Any, total: float) -> Metric:
    """A histogram of `field` over `rows`, counted by the database in one query."""
    counts = rows.aggregate(
        **{f"le{i}": Count("id", filter=Q(**{f"{field}__lte": unit(b)})) for i, b in enumerate(BUCKETS)},
        all=Count("id"),
    )
    buckets = [(str(b), counts[f"le{i}"]) for i, b in enumerate(BUCKETS)] + [("+Inf", counts["all"])]
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=total)
