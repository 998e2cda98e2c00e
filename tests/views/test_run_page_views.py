"""The run page of a run that did not go as planned: refused before sling started, failed with a
retry to come, a retry waiting out its backoff, and a long run with some failures."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from studio import models
from studio.services.automation import runs_follow_up
from studio.services.connections import connection_save
from studio.services.retries import policy_save
from studio.services.runs import run_create

HX = {"HX-Request": "true"}


def ended(replication, status, streams=()):
    """A run recorded as sling ended it (no sling: these tests are about the page), its streams as
    (name, status, error)."""
    now = timezone.now()
    run = models.Run.objects.create(
        replication=replication,
        replication_name=replication.name,
        status=status,
        started=now - timedelta(seconds=10),
        finished=now,
    )
    for i, (name, stream_status, error) in enumerate(streams):
        models.RunStream.objects.create(run=run, position=i, name=name, status=stream_status, error=error)
    return run


def test_a_refused_run_has_no_empty_log_and_no_run_again_that_would_be_refused(client, user, shop):
    refused = run_create(replication="shop")  # PG and SNOW are no connections of the studio

    page = client.get(f"/runs/{refused.pk}/").text

    assert refused.refused and "connection `PG` is not defined" in refused.error
    assert 'id="no-log"' in page and 'id="log-lines"' not in page
    assert "None: sling never started (the run was refused, see why above)." in page
    assert "Run again</button>" not in page
    assert "Running it again would be refused too: connection `PG` is not defined" in page


def test_a_refused_run_offers_run_again_once_what_refused_it_is_fixed(client, user, shop):
    refused = run_create(replication="shop")
    for name in ("PG", "SNOW"):
        connection_save(name=name, fields={"type": "postgres", "host": "db.internal"})

    page = client.get(f"/runs/{refused.pk}/").text

    assert "Run again</button>" in page
    assert "would be refused" not in page


def test_a_failed_run_names_its_retry_and_when_it_starts(client, user, shop, known_connections):
    policy_save(replication=shop, base_version=0, retries=1, retry_backoff=90, freshness_minutes=None)
    failed = ended(shop, "failed")
    now = timezone.now()

    runs_follow_up(now=now)

    retry = models.Run.objects.get(retry_of=failed)
    starts = timezone.localtime(now + timedelta(seconds=90)).strftime("%H:%M:%S")
    assert retry.not_before == now + timedelta(seconds=90)
    failed_page = client.get(f"/runs/{failed.pk}/").text
    assert (
        f'Tried again as <a href="/runs/{retry.pk}/">run #{retry.pk}</a>:\n    queued, starts at {starts}'
        " (a failure alert waits for its outcome)."
    ) in failed_page
    assert f"· starts at {starts} (after the retry's backoff)" in client.get(f"/runs/{retry.pk}/").text
    assert f"starts {starts}" in client.get("/runs/").text


def test_a_long_runs_page_counts_its_streams_and_shows_its_failures_first_or_alone(client, user, shop):
    streams = [(f"public.t{i:03}", "succeeded", "") for i in range(130)]
    streams[7] = ("public.t007", "failed", "~ table is locked")
    streams[99] = ("public.t099", "failed", "~ disk full")
    run = ended(shop, "failed", streams)

    page = client.get(f"/runs/{run.pk}/").text
    failed = client.get(f"/runs/{run.pk}/?show=failed").text

    assert (
        '130 streams:\n    <span class="status succeeded">128 succeeded</span> '
        '<span class="status failed">2 failed</span>'
    ) in page
    assert '<a href="?show=failed">Show only the 2 failed</a>' in page
    # The failures come first, in file order; then the rest.
    rows = [line for line in page.splitlines() if '<td class="mono">public.t' in line]
    assert [row.split(">")[1].split("<")[0] for row in rows[:3]] == [
        "public.t007",
        "public.t099",
        "public.t000",
    ]
    assert failed.count('<td class="mono">public.t') == 2 and "~ disk full" in failed
    assert f'<a href="/runs/{run.pk}/">Show all of them</a>' in failed
