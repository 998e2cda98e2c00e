from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Command as DbWorker
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.management.commands.db_worker import logger as tasks_logger
from django_tasks_db.models import DBTaskResult

from studio.services.automation import automation_forever, automation_tick
from studio.services.executor import BACKOFF_SECONDS, DATABASE_DOWN, OUTAGE, logger, retrying, run_reap
from studio.services.parallel import reap_parts
from studio.services.workers import BEAT_SECONDS, worker_beat, workers_forget


def wait_for_tasks(interval: float) -> None:
    """Return once a task is ready to run, looking every `interval` seconds: a query on
    django_tasks_db's partial index of ready tasks, without the lock taking one needs. A task
    queued to run later (a retry after its backoff) is ready when its time comes: `ready()`
    reads the clock when it is called, so it is called for each look (once, it never saw the
    time pass, and a retry waited for an unrelated run to be queued)."""
    queue = DBTaskResult.objects.filter(backend_name="default", queue_name="default")
    while not queue.ready().exists():
        close_old_connections()
        time.sleep(interval)


class _SaidOnce(logging.Filter):
    """db_worker says it starts (and, in batch mode, stops) each time its loop runs, which is
    each time tasks come after a wait here: say that it starts once, and stops only with --batch."""

    def __init__(self, batch: bool) -> None:
        super().__init__()
        self.batch, self.started = batch, False

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("No more tasks to run"):
            return self.batch
        if message.startswith("Starting worker"):
            said, self.started = self.started, True
            return not said
        return True


class Command(BaseCommand):
    help = (
        "Execute queued runs: reap runs a dead worker left running, then run the tasks worker (db_worker). "
        "A database outage is waited out, never a reason to stop."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=0.1,
            help="seconds between looks at the queue while idle (one indexed query each)",
        )
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
        worker_id = get_random_string(32)
        beat = {"worker_id": worker_id, "started": timezone.now()}
        retrying(lambda: worker_beat(**beat))
        threading.Thread(target=self.beat_forever, args=(beat,), daemon=True).start()
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
        # every code change), in batch mode: it executes what is queued, then returns here to
        # wait for more (`wait_for_tasks`); run again after anything that stops it but a signal.
        worker = Worker(
            queue_names=["default"],
            interval=interval,  # its sleep: only while SQLite is locked
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        tasks_logger.addFilter(_SaidOnce(batch))
        while True:
            try:
                worker.run()
                if batch or not worker.running:
                    break
                wait_for_tasks(interval)
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

    def reap(self) -> None:
        for run in run_reap():
            self.stdout.write(f"run #{run.pk} of {run.replication_name}: failed ({run.error})")
        for run in reap_parts():
            self.stdout.write(f"run #{run.pk} of {run.replication_name}: a part's worker stopped")

    def beat_forever(self, beat: dict[str, Any]) -> None:
        """Say this worker is alive, every few seconds (what /readyz and /metrics read)."""
        while True:
            time.sleep(BEAT_SECONDS)
            try:
                worker_beat(**beat)
                workers_forget()
            except Exception:  # a missed beat is said by the next one; an outage by the reaper
                logger.debug("worker beat failed", exc_info=True)
            finally:
                connection.close()

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
