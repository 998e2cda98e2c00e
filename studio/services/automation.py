"""The workers' pass over everything that happens on a clock: due schedules fired, the
ends of runs acted on (a retry queued, alerts recorded), stale streams found, alerts
delivered. `automation_tick` is one pass (give it `now` to control the clock);
`automation_forever` is the loop a worker runs beside its tasks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import close_old_connections, transaction
from django.utils import timezone

from studio import models
from studio.services import audit
from studio.services.alerts import alerts_deliver, run_alerts
from studio.services.executor import DATABASE_DOWN, OUTAGE
from studio.services.freshness import freshness_check
from studio.services.retries import run_retry
from studio.services.schedules import fire_due

ENDED = (models.Run.Status.SUCCEEDED, models.Run.Status.FAILED, models.Run.Status.CANCELLED)
FRESHNESS_EVERY = timedelta(minutes=1)
log = logging.getLogger(__name__)


def runs_follow_up(*, now: datetime | None = None, limit: int = 100) -> list[models.Run]:
    """Act on the runs that ended since the last pass, each once (claimed by one worker,
    in the transaction that records what follows): a failed run gets its retry, or, when
    none follows, its failure alert; a success after failures its recovery alert."""
    now = now or timezone.now()
    ended = models.Run.objects.filter(followed_up=False, status__in=ENDED).order_by("pk")
    done = []
    for pk in list(ended.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            if not models.Run.objects.filter(pk=pk, followed_up=False).update(followed_up=True):
                continue
            run = models.Run.objects.select_related("replication", "requested_by").get(pk=pk)
            if run_retry(run=run, now=now) is None:
                run_alerts(run=run, now=now)
        done.append(run)
    return done


class _Freshness:
    """Freshness is read less often than the rest: it reads every stream's config."""

    last: datetime | None = None


def automation_tick(*, now: datetime | None = None, freshness: bool = True) -> None:
    """One pass: fire what is due, follow up ended runs, check freshness (at most once a
    minute), deliver the alerts due. What it starts (scheduled runs, retries) is the worker's
    doing in the audit trail."""
    now = now or timezone.now()
    with audit.acting(audit.worker()):
        fire_due(now=now)
        runs_follow_up(now=now)
    if freshness and (
        _Freshness.last is None or now - _Freshness.last >= FRESHNESS_EVERY or now < _Freshness.last
    ):
        _Freshness.last = now
        freshness_check(now=now)
    alerts_deliver(now=now)


def automation_forever(
    *,
    every: float,
    stop: threading.Event | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> None:
    """`automation_tick` every `every` seconds until `stop` is set; an error (the database
    away, say) is reported and the next pass tries again."""
    stop = stop or threading.Event()
    checked = None
    while not stop.is_set():
        started = time.monotonic()
        try:
            fresh = checked is None or started - checked >= FRESHNESS_EVERY.total_seconds()
            automation_tick(freshness=fresh)
            checked = started if fresh else checked
        except DATABASE_DOWN as exc:
            OUTAGE.down(exc)  # said once per outage, by whichever part of the worker sees it first
        except Exception as exc:
            report(f"automation: {type(exc).__name__}: {exc}")
            log.exception("automation pass failed")
        finally:
            close_old_connections()
        stop.wait(max(0.0, every - (time.monotonic() - started)))
