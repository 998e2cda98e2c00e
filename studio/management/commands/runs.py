from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from studio import models
from studio.management.output import fail, table
from studio.selectors.runs import run_list


class Command(BaseCommand):
    help = "List runs, newest first: id, replication, status, trigger, times, rows and streams."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", default="", help="only this replication's runs")
        parser.add_argument("--json", action="store_true", help="a JSON list instead of a table")
        parser.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")

    def handle(self, *args: Any, name: str, limit: int, **options: Any) -> str:
        if limit < 1:
            fail(self, ["error: --limit must be at least 1"])
        runs = list(run_list(replication=name).select_related("schedule", "retry_of")[:limit])
        if options["json"]:
            return json.dumps([document(run) for run in runs], indent=2)
        if not runs:
            return f"no runs of {name}" if name else "no runs"
        rows = [("id", "replication", "status", "trigger", "created", "started", "ended", "rows", "streams")]
        for run in runs:
            streams = run.run_streams.all()
            rows.append(
                (
                    str(run.pk),
                    run.replication_name,
                    run.status,
                    run.trigger_label,
                    _time(run.created),
                    _time(run.started),
                    _time(run.finished),
                    "" if run.rows_total is None else f"{run.rows_total:,}",
                    f"{sum(s.status == 'succeeded' for s in streams)}/{len(streams)} succeeded"
                    if streams
                    else "-",
                )
            )
        return table(rows, right=(0, 7))


def _time(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def document(run: models.Run) -> dict[str, Any]:
    return {
        "id": run.pk,
        "replication": run.replication_name,
        "status": run.status,
        "trigger": run.trigger,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "schedule": run.schedule_id,
        "retry_of": run.retry_of_id,
        "attempt": run.attempt,
        "created": run.created.isoformat(),
        "started": run.started.isoformat() if run.started else None,
        "ended": run.finished.isoformat() if run.finished else None,
        "rows": run.rows_total,
        "error": run.error,
        "streams": [
            {"name": s.name, "status": s.status, "rows": s.rows, "seconds": s.duration}
            for s in run.run_streams.all()
        ],
    }
