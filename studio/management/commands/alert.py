from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from studio.errors import NotFound, Refused
from studio.management.output import fail, table
from studio.selectors.replications import replication_get
from studio.selectors.schedules import channel_get, channel_list
from studio.services import alerts as service

OPTIONS = {"webhook": "--webhook", "email": "--email", "on": "--on"}


class Command(BaseCommand):
    help = "Add alert channels (a webhook, an email address) to a replication or to all; list or delete them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="the replication (or --default: every replication)")
        parser.add_argument("--default", action="store_true", help="a channel for every replication")
        parser.add_argument(
            "--webhook", default="", metavar="URL", help="POST JSON (Slack-style `text`) here"
        )
        parser.add_argument("--email", default="", metavar="ADDR", help="send an email here")
        parser.add_argument(
            "--on",
            action="append",
            default=[],
            metavar="EVENT",
            help="failure, recovery, stale or always (repeatable; default: failure)",
        )
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument("--list", action="store_true", help="list the channels (of NAME, or all)")
        actions.add_argument("--delete", type=int, metavar="ID", help="delete a channel")

    def handle(self, *args: Any, name: str | None, default: bool, **options: Any) -> str:
        try:
            if options["list"]:
                return self.listing(name)
            if options["delete"] is not None:
                channel = channel_get(options["delete"])
                told = f"deleted alert channel #{channel.pk} ({channel})"
                service.channel_delete(channel=channel)
                return told
            if bool(name) == default:
                fail(
                    self,
                    ["error: give NAME or --default (every replication), and --webhook URL or --email ADDR"],
                )
            channels = service.channel_create(
                replication=replication_get(name) if name else None,
                webhook=options["webhook"],
                email=options["email"],
                events=options["on"] or ["failure"],
            )
        except NotFound as exc:
            fail(self, [f"error: {exc}"])
        except Refused as exc:
            fail(self, [f"error: {OPTIONS.get(p.path[0], p.where)}: {p.message}" for p in exc.problems])
        scope = name or "every replication"
        added = [f"alert channel #{c.pk} ({scope}): {c} on {', '.join(c.events)}" for c in channels]
        if not settings.STUDIO_BASE_URL:
            # No browser said where the studio is: its links would point at `make run`'s address.
            added.append(f"note: its alerts link to {channels[0].link_base} (STUDIO_BASE_URL sets another)")
        return "\n".join(added)

    def listing(self, name: str | None) -> str:
        channels = list(channel_list(replication=name))
        if not channels:
            return "no alert channels"
        rows = [("id", "replication", "kind", "target", "events", "state")]
        for c in channels:
            rows.append(
                (
                    str(c.pk),
                    c.replication.name if c.replication else "(every replication)",
                    c.kind,
                    c.label,
                    ", ".join(c.events),
                    "enabled" if c.enabled else "paused",
                )
            )
        return table(rows, right=(0,))
