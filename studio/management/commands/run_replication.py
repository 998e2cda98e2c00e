from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from studio import models
from studio.management.output import fail
from studio.services import runs
from studio.services.executor import run_execute

Status = models.Run.Status


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # start fast: the run is the work
    help = "Run a stored replication (or some of its streams) now through sling; exit 1 if anything failed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--stream", action="append", dest="streams", default=[], help="a stream to run (repeatable)"
        )
        parser.add_argument("--mode", default="", help="override every chosen stream's mode")
        parser.add_argument(
            "--range",
            default="",
            dest="span",
            help="START,END: sling's --range for backfill (dates or numbers)",
        )
        parser.add_argument("--queue", action="store_true", help="queue the run for the worker instead")

    def handle(
        self, *args: Any, name: str, streams: list[str], mode: str, span: str, queue: bool, **options: Any
    ) -> str:
        if queue and not apps.is_installed("django_tasks_db"):
            # studio.settings_run, chosen by hand: manage.py keeps the full settings for --queue.
            raise CommandError("--queue needs the tasks framework: run it with studio.settings")
        create = runs.run_queue if queue else runs.run_create
        run = create(replication=name, streams=streams, mode=mode, span=span)
        if run.status == Status.FAILED:
            fail(self, [f"error: {run.error}"])
        if queue:
            return f"queued run #{run.pk}"
        cancel = threading.Event()
        with _cancel_on_ctrl_c(cancel, self.stderr):
            run = run_execute(run, on_line=self.line, cancel=cancel)
        self.stdout.write("\n" + stream_table(run))
        summary = f"run #{run.pk} {run.status} in {run.duration or 0:.1f} s"
        if run.status != Status.SUCCEEDED:
            self.stderr.write(summary)
            self.stderr.write(f"error: {run.error}")
            raise SystemExit(130 if run.status == Status.CANCELLED else 1)
        return summary

    def line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()


def stream_table(run: models.Run) -> str:
    rows = [("stream", "status", "rows", "seconds", "target")]
    for stream in run.run_streams.all():
        rows.append(
            (
                stream.name,
                stream.status,
                "" if stream.rows is None else f"{stream.rows:,}",
                "" if stream.duration is None else f"{stream.duration:.1f}",
                stream.target,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for name, status, count, seconds, target in rows:
        cells = [
            name.ljust(widths[0]),
            status.ljust(widths[1]),
            count.rjust(widths[2]),
            seconds.rjust(widths[3]),
        ]
        lines.append("  ".join([*cells, target]).rstrip())
    return "\n".join(lines)


@contextmanager
def _cancel_on_ctrl_c(event: threading.Event, stderr: OutputWrapper) -> Iterator[None]:
    """The first Ctrl-C sets `event`, so the run ends cancelled; a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        event.set()
        stderr.write("cancelling the run (Ctrl-C again to stop at once)")

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
