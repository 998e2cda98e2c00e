"""Health and metrics (issue 27): `/healthz` answers, `/readyz` says what is not ready, `/metrics`
is Prometheus's text format (read here with the Prometheus client's own parser), counted from
the database (tests/commands/test_workers_postgres.py reads it after three real workers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from studio import models
from studio.services.workers import worker_beat


def parsed(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.django_db
def test_ready_once_a_worker_beats(client):
    before = client.get("/readyz")
    worker_beat(worker_id="w1", started=timezone.now())
    after = client.get("/readyz")

    assert client.get("/healthz").json() == {"status": "ok"}
    assert before.status_code == 503
    assert before.json()["checks"]["workers"] == "no worker heard from in 30 s"
    assert after.status_code == 200
    assert after.json() == {
        "ready": True,
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "workers": "ok: 1 heard from",
            "sling": "ok",
            "sandbox": "ok",
        },
    }


@pytest.mark.django_db
def test_a_worker_silent_too_long_is_not_counted(client):
    worker_beat(worker_id="w1", started=timezone.now())
    models.WorkerBeat.objects.update(last_seen=timezone.now() - timedelta(minutes=5))

    assert client.get("/readyz").status_code == 503


@pytest.mark.django_db
def test_metrics_count_what_the_database_holds(client, shop):
    now = timezone.now()
    for status, trigger, took in [
        ("succeeded", "manual", 2),
        ("succeeded", "schedule", 70),
        ("failed", "retry", 400),
    ]:
        run = models.Run.objects.create(
            replication=shop,
            replication_name="shop",
            status=status,
            trigger=trigger,
            started=now - timedelta(seconds=took),
            finished=now,
        )
        models.RunStream.objects.create(
            run=run, position=0, name="public.a", status=status, rows=10, duration=took
        )
    models.Run.objects.create(replication=shop, replication_name="shop")  # queued
    worker_beat(worker_id="w1", started=now)

    found = parsed(client.get("/metrics").content.decode())

    assert found[("studio_runs_total", (("status", "succeeded"), ("trigger", "manual")))] == 1
    assert found[("studio_runs_total", (("status", "failed"), ("trigger", "retry")))] == 1
    assert found[("studio_runs_total", (("status", "queued"), ("trigger", "manual")))] == 1
    assert found[("studio_run_duration_seconds_bucket", (("le", "5.0"),))] == 1
    assert found[("studio_run_duration_seconds_bucket", (("le", "300.0"),))] == 2
    assert found[("studio_run_duration_seconds_count", ())] == 3
    assert found[("studio_run_duration_seconds_sum", ())] == pytest.approx(472)
    assert found[("studio_stream_duration_seconds_bucket", (("le", "+Inf"),))] == 3
    assert found[("studio_rows_moved_total", (("status", "succeeded"),))] == 20
    assert found[("studio_queue_depth", ())] == 1
    assert found[("studio_schedule_lag_seconds", ())] == 0
    assert [k for k in found if k[0] == "studio_worker_last_heartbeat_seconds"]


@pytest.mark.django_db
def test_metrics_count_streams_waiting_on_a_connection_limit(client, shop):
    now = timezone.now()
    run = models.Run.objects.create(
        replication=shop,
        replication_name="shop",
        status="running",
        started=now,
        waiting="waiting for `WAREHOUSE`: 2 of 2 in use",
    )
    for position, (status, holder) in enumerate(
        [("running", "1"), ("running", "2"), ("pending", ""), ("pending", ""), ("pending", "2")]
    ):
        models.RunStream.objects.create(
            run=run, position=position, name=f"public.t{position}", status=status, holder=holder
        )
    for holder in ("1", "2"):
        models.RunSlot.objects.create(
            run=run, holder=holder, connection="WAREHOUSE", host="h", pid=1, heartbeat=now
        )
    models.RunSlot.objects.create(run=run, holder="1", connection="LOCAL", host="h", pid=1, heartbeat=now)

    found = parsed(client.get("/metrics").content.decode())
    models.Run.objects.filter(pk=run.pk).update(waiting="")
    after = parsed(client.get("/metrics").content.decode())

    # The two pending streams no part holds wait; the one part 2 holds is about to start.
    assert found[("studio_streams_waiting", ())] == 2
    assert found[("studio_connection_processes", (("connection", "WAREHOUSE"),))] == 2
    assert found[("studio_connection_processes", (("connection", "LOCAL"),))] == 1
    assert after[("studio_streams_waiting", ())] == 0


@pytest.mark.django_db
def test_metrics_want_the_token_when_one_is_set(client, settings):
    settings.STUDIO_METRICS_TOKEN = "s3cret-token"

    refused = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    given = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})

    assert (refused.status_code, wrong.status_code, given.status_code) == (403, 403, 200)
    assert given["Content-Type"].startswith("text/plain; version=")


@pytest.mark.django_db
def test_metrics_without_a_token_only_for_the_monitoring_network(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


@pytest.mark.django_db
def test_probes_over_plain_http_are_answered_when_pages_redirect_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # production's: the proxy in front may probe over HTTP

    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/login/").status_code == 301
