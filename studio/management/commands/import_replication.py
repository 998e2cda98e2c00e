from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils.text import slugify

from studio import configured, models
from studio.errors import Refused
from studio.management.output import fail, problem_line
from studio.services.replications import replication_check_text, replications_import


class Command(BaseCommand):
    help = (
        "Parse, validate and store a replication.yaml, or every NAME.yaml of a folder, all or "
        "nothing; with --check, only validate (for CI). A file that cannot run on this server "
        "(its fence) is stored, and its runs refused."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", metavar="FILE|DIR")
        parser.add_argument("--name", help="name to store a file under (default: from the file name)")
        parser.add_argument(
            "--check",
            action="store_true",
            help="only validate; exit 1 on any error sling would stop the file on",
        )
        parser.add_argument(
            "--here",
            action="store_true",
            help="with --check: exit 1 too when a file cannot run on this server (outside its fence)",
        )

    def handle(self, *args: Any, file: str, name: str | None, check: bool, here: bool, **options: Any) -> str:
        path = Path(file)
        paths = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        if path.is_dir() and name:
            fail(self, ["error: --name names one file's replication, not a folder's"])
        if not paths:
            fail(self, [f"{file}: error: no .yaml or .yml file in this folder"])
        files = {str(p): (name or slugify(p.stem), self.read(p)) for p in paths}
        checked = f"checked against sling {configured.rules().version}"
        if check:
            return self.validate_only(files, checked, here)
        try:
            outcomes = replications_import(files=[(n, text) for n, text in files.values()])
        except Refused as exc:
            fail(self, [problem_line(f, p) for f, (n, _) in files.items() for p in exc.by_name.get(n, [])])
        lines = []
        for shown, (stored, _) in files.items():
            outcome = outcomes[stored]
            for problem in outcome.warnings:
                self.stderr.write(problem_line(shown, problem))
            lines.append(f"{shown}: {outcome.summary}" if len(files) > 1 else outcome.summary)
        return "\n".join([*lines, checked] if len(files) > 1 else [f"{lines[0]}, {checked}"])

    def read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            fail(self, [f"{path}: error: cannot read file: {exc.strerror}"])
            raise  # unreachable: fail exits

    def validate_only(self, files: dict[str, tuple[str, bytes]], checked: str, here: bool) -> str:
        # A CI job may lint files where no studio database was ever made: check them then
        # without the studio's connections (sling's environment ones still count), and say so.
        stored = models.Connection._meta.db_table in connection.introspection.table_names()
        if not stored:
            self.stderr.write("note: no studio database here: the studio's connections are not known")
        errors = 0
        for shown, (_, text) in files.items():
            for problem in replication_check_text(text, stored):
                self.stderr.write(problem_line(shown, problem))
                errors += problem.refuses_file or (here and problem.here)
        summary = f"{len(files)} file{'s' * (len(files) != 1)}, {errors} error(s), {checked}"
        if errors:
            self.stderr.write(summary)
            raise SystemExit(1)
        return summary
