from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from studio.errors import NotFound
from studio.management.output import fail
from studio.selectors.replications import replication_yaml


class Command(BaseCommand):
    help = "Write a stored replication as YAML that `sling run -r` accepts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, name: str, output: str | None, **options: Any) -> None:
        try:
            text = replication_yaml(name=name)
        except NotFound as exc:
            fail(self, [f"error: {exc}"])
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text)
        except OSError as exc:
            fail(self, [f"{output}: error: cannot write file: {exc.strerror}"])
