"""Freshness: a stream is stale when its last success is older than its dagster freshness
policy (or the studio's setting) allows; a `stale` alert goes out once per episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from replication.config import ReplicationConfig
from studio import models
from studio.selectors.monitoring import stale_streams
from studio.services.alerts import channel_create
from studio.services.freshness import freshness_check
from studio.services.replications import replication_save
from studio.services.retries import policy_save

pytestmark = pytest.mark.django_db

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOURLY = {"meta": {"dagster": {"freshness_policy": {"maximum_lag_minutes": 60}}}}


@pytest.fixture
def shop():
    config = ReplicationConfig(
        source="PG",
        target="SNOW",
        defaults={"mode": "full-refresh"},
        streams={
            "public.orders": {"object": "raw.orders", **HOURLY},
            "public.users": {"object": "raw.users"},
        },
    )
    replication = replication_save(name="shop", config=config)
    models.Replication.objects.filter(pk=replication.pk).update(created=T - timedelta(days=1))
    return replication


def succeeded(stream: str, at: datetime, replication: str = "shop") -> None:
    run = models.Run.objects.create(
        replication=models.Replication.objects.get(name=replication),
        replication_name=replication,
        status="succeeded",
        started=at - timedelta(seconds=5),
        finished=at,
        followed_up=True,
    )
    models.RunStream.objects.create(run=run, position=0, name=stream, status="succeeded", rows=1)


def stale_at(now):
    return [(s.replication, s.stream, s.lag_minutes, s.since) for s in stale_streams(now=now)]


def test_a_stream_is_stale_once_its_last_success_is_older_than_its_dagster_policy(shop):
    succeeded("public.orders", T)

    assert stale_at(T + timedelta(minutes=59)) == []
    assert stale_at(T + timedelta(minutes=61)) == [("shop", "public.orders", 60.0, T + timedelta(minutes=60))]


def test_a_stale_alert_goes_out_once_per_episode(shop):
    channel_create(replication=shop, email="ops@example.com", events=["stale"])
    succeeded("public.orders", T)

    opened = freshness_check(now=T + timedelta(minutes=61))
    still = freshness_check(now=T + timedelta(minutes=62))
    succeeded("public.orders", T + timedelta(minutes=70))
    fresh = freshness_check(now=T + timedelta(minutes=71))
    again = freshness_check(now=T + timedelta(minutes=131))

    assert [e.stream for e in opened] == ["public.orders"] and still == [] and fresh == []
    assert [e.stream for e in again] == ["public.orders"]
    episodes = models.StaleEpisode.objects.order_by("pk")
    assert [(e.since, e.ended) for e in episodes] == [
        (T + timedelta(minutes=60), T + timedelta(minutes=71)),
        (T + timedelta(minutes=130), None),
    ]
    alerts = models.Alert.objects.order_by("pk")
    assert [(a.event, a.episode_id) for a in alerts] == [("stale", episodes[0].pk), ("stale", episodes[1].pk)]
    assert alerts[0].text.startswith(
        "⏰ shop: stream public.orders is stale: its last success was 1.0 h ago (2026-12-01 12:00 UTC); "
        "it should be at most 60 minutes old"
    )


def test_the_studio_setting_covers_streams_without_a_policy_and_the_replications_setting_wins(shop, settings):
    settings.STUDIO_FRESHNESS_MINUTES = 24 * 60
    succeeded("public.orders", T)
    succeeded("public.users", T)

    assert [s[1] for s in stale_at(T + timedelta(hours=23))] == ["public.orders"]
    assert [s[1] for s in stale_at(T + timedelta(hours=25))] == ["public.orders", "public.users"]

    policy_save(replication=shop, base_version=0, retries=0, retry_backoff=60, freshness_minutes=30)
    # The replication's 30 minutes, but the stream's own dagster policy still says 60.
    assert [(s[1], s[2]) for s in stale_at(T + timedelta(minutes=45))] == [("public.users", 30.0)]


def test_a_stream_that_never_succeeded_counts_from_when_the_studio_had_it(shop):
    assert stale_at(T - timedelta(hours=23, minutes=30)) == []
    assert stale_at(T) == [("shop", "public.orders", 60.0, T - timedelta(hours=23))]


def test_a_disabled_stream_is_never_stale(shop):
    models.Stream.objects.filter(name="public.orders").update(config={**HOURLY, "disabled": True})

    assert stale_at(T + timedelta(days=3)) == []
