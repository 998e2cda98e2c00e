from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils.text import slugify

from replication.problems import problem_line
from replication.upgrade import ALLOWED, READ_DIFFERENTLY, REFUSED
from replication.versions import Sling, parse_version
from studio import configured, models, validation
from studio.errors import Refused
from studio.management.output import fail
from studio.selectors.impact import text_impact
from studio.selectors.upgrade import text_upgrade
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
        parser.add_argument(
            "--base",
            metavar="DIR",
            help="with --check: what each file changes against the file of the same name in DIR (a pull "
            "request against main): tables and files added, renamed, dropped, asset keys, reloads; exit 3 "
            "when a change renames, drops or reloads a target in full",
        )
        parser.add_argument(
            "--sling-version",
            metavar="X",
            help="with --check: what upgrading to sling X would refuse, newly allow or read differently, "
            "each with the release that changed it; exit 1 when X refuses a file",
        )

    def handle(
        self,
        *args: Any,
        file: str,
        name: str | None,
        check: bool,
        here: bool,
        sling_version: str | None,
        base: str | None,
        **options: Any,
    ) -> str:
        path = Path(file)
        paths = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        if path.is_dir() and name:
            fail(self, ["error: --name names one file's replication, not a folder's"])
        if not paths:
            fail(self, [f"{file}: error: no .yaml or .yml file in this folder"])
        files = {str(p): (name or slugify(p.stem), self.read(p)) for p in paths}
        checked = f"checked against sling {configured.rules().version}"
        for given, flag in ((sling_version, "--sling-version"), (base, "--base")):
            if given and not check:
                fail(self, [f"error: {flag} compares, it does not store: give --check too"])
        if not check:
            return self.store(files, checked)
        stored = self.stored()
        if sling_version:
            return self.upgrade(files, sling_version, stored)
        summary = self.validate_only(files, checked, here, stored)
        return self.against(files, Path(base), stored, path.is_dir()) + summary if base else summary

    def store(self, files: dict[str, tuple[str, bytes]], checked: str) -> str:
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

    def upgrade(self, files: dict[str, tuple[str, bytes]], version: str, stored: bool) -> str:
        now = configured.rules()
        try:
            then = Sling(".".join(str(n) for n in parse_version(version)))
        except ValueError:
            fail(self, [f"error: --sling-version: not a sling version: {version!r}"])
        if then.number <= now.number:
            fail(
                self,
                [f"error: --sling-version: {then.version} is not newer than the sling here ({now.version})"],
            )
        if then.unknown:
            self.stderr.write(f"note: {then.unknown}")
        context = validation.context(stored)
        counts = {REFUSED: 0, ALLOWED: 0, READ_DIFFERENTLY: 0}
        refusing = 0
        for shown, (_, text) in files.items():
            found = text_upgrade(text, then, context=context)
            for change in found.changes:
                line = f":{change.problem.line}" if change.problem.line else ""
                self.stderr.write(f"{shown}{line}: {change}")
                counts[change.kind] += 1
            refusing += bool(found.refused)
        said = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        summary = (
            f"{len(files)} file{'s' * (len(files) != 1)} from sling {now.version} to {then.version}: {said}; "
            f"{refusing} file(s) {then.version} refuses"
        )
        if refusing:
            self.stderr.write(summary)
            raise SystemExit(1)
        return summary

    def against(self, files: dict[str, tuple[str, bytes]], base: Path, stored: bool, folder: bool) -> str:
        """Each file's impact against its namesake in `base` (none there: a new replication);
        exit 3 when one renames, drops or reloads a target in full."""
        if not base.is_dir():
            fail(self, [f"{base}: error: --base wants a folder"])
        pairs = {shown: (base / Path(shown).name, text) for shown, (_, text) in files.items()}
        checked = {Path(shown).name for shown in files}
        # A file of the base that is not in the folder any more: its replication goes, and what
        # it wrote.
        for gone in sorted([*base.glob("*.yaml"), *base.glob("*.yml")]) if folder else []:
            if gone.name not in checked:
                pairs[str(gone)] = (gone, None)
        lines, destructive = [], False
        for shown, (before, text) in pairs.items():
            found = text_impact(before.read_bytes() if before.is_file() else None, text, stored)
            for line in found.lines() if found else []:
                lines.append(f"{shown}: {line}")
            destructive = destructive or bool(found and found.destructive)
        if destructive:
            fail(self, [*lines, f"against {base}: a target is renamed, dropped or reloaded in full"], code=3)
        return "".join(f"{line}\n" for line in lines)

    def stored(self) -> bool:
        """Whether the studio's connections can be known. A CI job may check files where no
        studio database was ever made: then without them (sling's environment ones still
        count), and it says so."""
        stored = models.Connection._meta.db_table in connection.introspection.table_names()
        if not stored:
            self.stderr.write("note: no studio database here: the studio's connections are not known")
        return stored

    def validate_only(
        self, files: dict[str, tuple[str, bytes]], checked: str, here: bool, stored: bool
    ) -> str:
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
