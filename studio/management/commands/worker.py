from __future__ import annotations

import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from studio.services.automation import automation_forever, automation_tick
from studio.services.executor import run_reap


class Command(BaseCommand):
    help = "Execute queued runs: reap runs a dead worker left running, then run the tasks worker (db_worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls")
        parser.add_argument("--reap-every", type=float, default=60.0, help="seconds between reaper passes")
        parser.add_argument("--batch", action="store_true", help="execute what is queued, then exit")
        parser.add_argument(
            "--automation-every",
            type=float,
            default=5.0,
            help="seconds between passes over schedules, ended runs (retries, alerts), freshness",
        )

    def handle(self, *args: Any, interval: float, reap_every: float, batch: bool, **options: Any) -> None:
        self.reap()
        # A worker on another host may die while this one lives: look again now and then.
        threading.Thread(target=self.reap_forever, args=(reap_every,), daemon=True).start()
        if batch:
            automation_tick()  # fire what is due now, so the batch runs it
        else:
            # Due schedules, retries, alerts: each worker passes over them; rows claim each one.
            automation = {"every": options["automation_every"], "report": self.stderr.write}
            threading.Thread(target=automation_forever, kwargs=automation, daemon=True).start()
        # No autoreload: it would restart the worker (and stop its run) on every code change.
        call_command(
            "db_worker",
            interval=interval,
            batch=batch,
            reload=False,
            startup_delay=False,
            verbosity=options["verbosity"],
            stdout=self.stdout,
            stderr=self.stderr,
        )
        if batch:
            automation_tick()  # the alerts of what the batch ran

    def reap(self) -> None:
        for run in run_reap():
            self.stdout.write(f"run #{run.pk} of {run.replication_name}: failed ({run.error})")

    def reap_forever(self, every: float) -> None:
        while True:
            time.sleep(every)
            try:
                self.reap()
            except Exception as exc:  # a database hiccup must not kill the reaper
                self.stderr.write(f"reaper: {type(exc).__name__}: {exc}")
            finally:
                close_old_connections()
