from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from replication.dagster.location import KeyConflict
from studio.errors import NotFound
from studio.management.output import fail
from studio.services.dagster import dagster_location


class Command(BaseCommand):
    help = "Write a Dagster code location (dagster-sling) for stored replications into a folder."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="replications to export")
        parser.add_argument("--all", action="store_true", help="export every replication")
        parser.add_argument("-o", "--output", required=True, help="the folder to write")

    def handle(self, *args: Any, names: list[str], all: bool, output: str, **options: Any) -> str:
        if bool(names) == all:
            fail(self, ["error: name replications or give --all, not both"])
        try:
            files = dagster_location(names=None if all else names)
        except (NotFound, KeyConflict) as exc:
            fail(self, [f"error: {exc}"])
        folder = Path(output)
        for path, text in files.items():
            target = folder / path
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            except OSError as exc:
                fail(self, [f"{target}: error: cannot write file: {exc.strerror}"])
        count = sum(path.endswith("replication.yaml") for path in files)
        return f"wrote a Dagster code location ({count} replication{'s' * (count != 1)}) to {folder}"
