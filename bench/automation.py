"""Automation benchmark: what a worker's pass costs (`automation_tick`: due schedules,
ended runs, freshness, alert delivery) and what the dashboard costs, at 10,000 streams.

- one pass with nothing due (what every worker does every few seconds);
- firing 200 due schedules in one pass (each a claimed row, a fire and a queued run);
- the freshness check over every stream (once a minute), every stream with a limit;
- the dashboard page, in-process with Django's test client.

Run with `make bench` or `.venv/bin/python bench/automation.py --streams N --repeat R`.
Prints numbers; it is not a test. A throwaway SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from foundation import replication_yaml, setup_django  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def run(streams: int, schedules: int, repeat: int) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from studio import models
    from studio.services.automation import automation_tick
    from studio.services.freshness import freshness_check
    from studio.services.replications import replication_import
    from studio.services.schedules import fire_due, schedule_create

    settings.STUDIO_FRESHNESS_MINUTES = 60  # every stream has a limit
    replication, _ = replication_import(name="big", text=replication_yaml(streams))
    for i in range(schedules):
        replication_import(
            name=f"small{i}",
            text="source: LOCAL\ntarget: LOCAL\nstreams:\n  file://x.csv: {object: file://y.csv}\n",
        )
    start = timezone.now()
    for rep in models.Replication.objects.exclude(pk=replication.pk):
        schedule_create(replication=rep, cron_expression="* * * * *", now=start)
    rows: list[tuple[str, list[float]]] = []

    rows.append(
        (
            "a pass, nothing due (no freshness)",
            timed(lambda: automation_tick(now=start, freshness=False), repeat),
        )
    )
    minute = [start]

    def fire() -> None:
        minute[0] += timedelta(minutes=1)
        fired = fire_due(now=minute[0].replace(second=1))
        assert len(fired) >= schedules, len(fired)
        models.StreamLock.objects.all().delete()  # as if the runs had ended

    rows.append((f"fire {schedules} due schedules", timed(fire, repeat)))
    rows.append(
        (
            f"freshness of {streams:,} streams",
            timed(lambda: freshness_check(now=start + timedelta(days=1)), repeat),
        )
    )
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password")
    client = Client()
    client.force_login(user)
    rows.append(("dashboard page", timed(lambda: client.get("/", HTTP_HOST="127.0.0.1"), repeat)))

    print(f"{'step':<42} {'median ms':>9} {'min ms':>9}")
    print("-" * 62)
    for name, times in rows:
        print(f"{name:<42} {statistics.median(times) * 1000:>9.0f} {min(times) * 1000:>9.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    data_dir = setup_django()
    try:
        run(args.streams, args.schedules, args.repeat)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
