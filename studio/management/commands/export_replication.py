from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from studio.errors import NotFound
from studio.management.output import fail
from studio.selectors.replications import replication_names, replication_yaml


class Command(BaseCommand):
    help = "Write a stored replication as YAML that `sling run -r` accepts, or every one into a folder."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", nargs="?")
        parser.add_argument(
            "--all", action="store_true", help="every replication, as NAME.yaml in the -o folder"
        )
        parser.add_argument(
            "-o", "--output", help="file (or, with --all, folder) to write; default: standard output"
        )

    def handle(
        self, *args: Any, name: str | None, all: bool, output: str | None, **options: Any
    ) -> str | None:
        if all == bool(name) or (all and not output):
            fail(self, ["error: name one replication, or give --all with -o DIR"])
        if all:
            return self.write_all(Path(output or "."))
        try:
            text = replication_yaml(name=name or "")
        except NotFound as exc:
            fail(self, [f"error: {exc}"])
        if not output:
            self.stdout.write(text, ending="")
            return None
        self.write(Path(output), text)
        return None

    def write_all(self, folder: Path) -> str:
        names = replication_names()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(self, [f"{folder}: error: cannot make the folder: {exc.strerror}"])
        for name in names:
            self.write(folder / f"{name}.yaml", replication_yaml(name=name))
        return f"wrote {len(names)} replication{'s' * (len(names) != 1)} to {folder}"

    def write(self, path: Path, text: str) -> None:
        try:
            path.write_bytes(text.encode())
        except OSError as exc:
            fail(self, [f"{path}: error: cannot write file: {exc.strerror}"])
