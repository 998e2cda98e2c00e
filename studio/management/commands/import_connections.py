from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from replication.problems import problem_line
from studio.errors import Refused
from studio.management.output import fail
from studio.services.connections import connections_import


class Command(BaseCommand):
    help = "Load connections from a Sling env.yaml (its `connections:` mapping); all or nothing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, file: str, **options: Any) -> str:
        try:
            text = Path(file).read_bytes()
        except OSError as exc:
            fail(self, [f"{file}: error: cannot read file: {exc.strerror}"])
        try:
            connections = connections_import(text=text)
        except Refused as exc:
            fail(self, [problem_line(file, p) for p in exc.problems])
        except ValueError as exc:
            fail(self, [f"{file}: error: {exc}"])
        return "imported " + ", ".join(f"{c.name} ({c.type})" for c in connections)
