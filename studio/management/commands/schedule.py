from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from studio import models
from studio.errors import NotFound, Refused
from studio.management.output import fail, table
from studio.selectors.replications import replication_get
from studio.selectors.schedules import schedule_get, schedule_list, schedule_preview
from studio.services import schedules as service

# The option each field of a refusal comes from.
OPTIONS = {"cron": "--cron", "timezone": "--timezone", "streams": "--stream", "mode": "--mode"}


class Command(BaseCommand):
    help = "Add a cron schedule to a replication, or list, pause, resume or delete schedules."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "name", nargs="?", help="the replication to schedule (or to list the schedules of)"
        )
        parser.add_argument(
            "--cron", help='5 fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * 1-5"'
        )
        parser.add_argument(
            "--stream", action="append", dest="streams", default=[], help="a stream (repeatable)"
        )
        parser.add_argument("--timezone", default="UTC", help="an IANA time zone (default UTC)")
        parser.add_argument("--mode", default="", help="override every chosen stream's mode")
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument("--list", action="store_true", help="list the schedules (of NAME, or all)")
        actions.add_argument("--pause", type=int, metavar="ID", help="stop a schedule firing")
        actions.add_argument("--resume", type=int, metavar="ID", help="fire a paused schedule again")
        actions.add_argument("--delete", type=int, metavar="ID", help="delete a schedule")

    def handle(self, *args: Any, name: str | None, cron: str | None, **options: Any) -> str:
        try:
            if options["list"]:
                return self.listing(name)
            for action in ("pause", "resume", "delete"):
                if options[action] is not None:
                    return self.change(action, schedule_get(options[action]))
            if not name or not cron:
                fail(
                    self,
                    ["error: give NAME and --cron EXPR (or --list, --pause ID, --resume ID, --delete ID)"],
                )
            schedule = service.schedule_create(
                replication=replication_get(name),
                cron_expression=cron,
                tz=options["timezone"],
                streams=options["streams"],
                mode=options["mode"],
            )
        except NotFound as exc:
            fail(self, [f"error: {exc}"])
        except Refused as exc:
            fail(self, [f"error: {OPTIONS.get(p.path[0], p.where)}: {p.message}" for p in exc.problems])
        return describe(schedule)

    def listing(self, name: str | None) -> str:
        schedules = list(schedule_list(replication=name))
        if not schedules:
            return "no schedules"
        rows = [("id", "replication", "cron", "timezone", "streams", "mode", "state", "next fire (UTC)")]
        for s in schedules:
            rows.append(
                (
                    str(s.pk),
                    s.replication.name,
                    s.cron,
                    s.timezone,
                    ", ".join(s.streams) or "all",
                    s.mode or "-",
                    "enabled" if s.enabled else "paused",
                    f"{s.next_fire:%Y-%m-%d %H:%M}" if s.next_fire else "-",
                )
            )
        return table(rows, right=(0,))

    def change(self, action: str, schedule: models.Schedule) -> str:
        if action == "delete":
            pk = schedule.pk
            service.schedule_delete(schedule=schedule)
            return f"deleted schedule #{pk} of {schedule.replication.name}"
        change = service.schedule_pause if action == "pause" else service.schedule_resume
        return describe(change(schedule=schedule))


def describe(schedule: models.Schedule) -> str:
    preview = schedule_preview(schedule.cron, schedule.timezone, now=timezone.now())
    streams = ", ".join(schedule.streams) if schedule.streams else "the whole replication"
    lines = [
        f"schedule #{schedule.pk} of {schedule.replication.name}: {schedule.cron} ({schedule.timezone}), "
        f"{preview['words'][0].lower()}{preview['words'][1:]}; {streams}"
        + (f", mode {schedule.mode}" if schedule.mode else "")
    ]
    if schedule.enabled:
        lines.append("next: " + ", ".join(f"{t:%Y-%m-%d %H:%M %Z}" for t in preview["times"]))
    else:
        lines.append("paused")
    return "\n".join(lines)
