from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Command as DbWorker
from django_tasks_db.management.commands.db_worker import Worker

from studio.services.automation import automation_forever, automation_tick
from studio.services.executor import BACKOFF_SECONDS, DATABASE_DOWN, OUTAGE, logger, retrying, run_reap


class Command(BaseCommand):
    help = (
        "Execute queued runs: reap runs a dead worker left running, then run the tasks worker (db_worker). "
        "A database outage is waited out, never a reason to stop."
    )

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
        DbWorker(stdout=self.stdout, stderr=self.stderr).configure_logging(options["verbosity"])
        if not logger.handlers:
            handler = logging.StreamHandler(self.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s worker: %(message)s"))
            logger.addHandler(handler)
            logger.propagate = False
        retrying(self.reap)
        # A worker on another host may die while this one lives: look again now and then.
        threading.Thread(target=self.reap_forever, args=(reap_every,), daemon=True).start()
        if batch:
            retrying(automation_tick)  # fire what is due now, so the batch runs it
        else:
            # Due schedules, retries, alerts: each worker passes over them; rows claim each one.
            automation = {"every": options["automation_every"], "report": self.stderr.write}
            threading.Thread(target=automation_forever, kwargs=automation, daemon=True).start()
        # db_worker's own loop (no autoreload: it would restart the worker, and stop its run, on
        # every code change), run again after anything that stops it but a signal to stop.
        worker = Worker(
            queue_names=["default"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        while True:
            try:
                worker.run()
            except DATABASE_DOWN as exc:
                OUTAGE.down(exc)
                # Wait (longer each time) until it answers, then take what is queued again.
                retrying(OUTAGE.check)
                continue
            except Exception:
                logger.exception("the worker's loop failed; going on")
                close_old_connections()
                time.sleep(BACKOFF_SECONDS[1])
                continue
            retrying(automation_tick)  # --batch done: the alerts of what it ran
            return

    def reap(self) -> None:
        for run in run_reap():
            self.stdout.write(f"run #{run.pk} of {run.replication_name}: failed ({run.error})")

    def reap_forever(self, every: float) -> None:
        while True:
            time.sleep(every)
            try:
                self.reap()
            except DATABASE_DOWN as exc:
                OUTAGE.down(exc)
            except Exception:  # the reaper must not die with one bad pass
                logger.exception("reaper pass failed")
            else:
                OUTAGE.up()
            finally:
                connection.close()
