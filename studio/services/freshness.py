"""Freshness episodes: a stream that turns stale opens an episode (and its `stale`
alerts, once), which ends when the stream is fresh again. The unique open episode per
stream makes "once" hold across workers."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from studio import models
from studio.selectors.monitoring import stale_streams
from studio.services.alerts import stale_alerts


def freshness_check(*, now: datetime | None = None) -> list[models.StaleEpisode]:
    """Open an episode (and record its alerts) for each stream stale at `now` without
    one; end the episodes of streams fresh again. Returns the episodes it opened."""
    now = now or timezone.now()
    stale = {(s.replication_id, s.stream): s for s in stale_streams(now=now)}
    open_ = {(e.replication_id, e.stream): e for e in models.StaleEpisode.objects.filter(ended__isnull=True)}
    ended = [e.pk for key, e in open_.items() if key not in stale]
    models.StaleEpisode.objects.filter(pk__in=ended).update(ended=now)
    opened = []
    for key, s in stale.items():
        if key in open_:
            continue
        try:
            with transaction.atomic():
                episode = models.StaleEpisode.objects.create(
                    replication_id=s.replication_id,
                    stream=s.stream,
                    since=s.since,
                    last_success=s.last_success,
                    lag_minutes=s.lag_minutes,
                )
                stale_alerts(episode=episode, now=now)
        except IntegrityError:
            continue  # another worker opened it
        opened.append(episode)
    return opened
