from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.text import slugify

from studio import rules
from studio.errors import Refused
from studio.management.output import fail, problem_line
from studio.services.replications import replication_import


class Command(BaseCommand):
    help = "Parse, validate and store a replication.yaml (all or nothing)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--name", help="name to store it under (default: from the file name)")

    def handle(self, *args: Any, file: str, name: str | None, **options: Any) -> str:
        path = Path(file)
        name = name or slugify(path.stem)
        try:
            text = path.read_bytes()
        except OSError as exc:
            fail(self, [f"{file}: error: cannot read file: {exc.strerror}"])
        try:
            replication, warnings = replication_import(name=name, text=text)
        except Refused as exc:
            fail(self, [problem_line(file, p) for p in exc.problems])
        for problem in warnings:
            self.stderr.write(problem_line(file, problem))
        count = replication.streams.count()
        checked = f"checked against sling {rules.sling().version}"
        return f"imported {name}: {count} stream{'s' * (count != 1)}, {len(warnings)} warning(s), {checked}"
