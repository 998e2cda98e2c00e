from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from replication.lineage.graph import SelectionError, conflict_owners
from studio.errors import NotFound
from studio.management.output import fail
from studio.selectors.lineage import lineage_document, lineage_selection


class Command(BaseCommand):
    help = "Print the asset graph (source -> target -> downstream) as JSON or DOT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", nargs="?", help="a replication (default: all of them)")
        parser.add_argument("--format", choices=("json", "dot"), default="json")
        parser.add_argument("--select", help="e.g. '+target/main/orders+', 'group:sales', 'tag:pii'")
        parser.add_argument(
            "--columns",
            action="store_true",
            help="give each target its columns and the source column each comes from (JSON; as last read)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit 1 when an asset key is defined twice (Dagster refuses it)",
        )

    def handle(
        self,
        *args: Any,
        name: str | None,
        format: str,
        select: str | None,
        check: bool,
        columns: bool,
        **options: Any,
    ) -> None:
        try:
            # The same function serves the page's JSON and DOT export.
            text = lineage_document(replication=name, selector=select, fmt=format, columns=columns)
            conflicts = conflict_owners(lineage_selection(replication=name, selector=select))
        except (NotFound, SelectionError) as exc:
            fail(self, [f"error: {exc}"])
        self.stdout.write(text, ending="")
        for key, owners in conflicts.items():
            self.stderr.write(
                f"{'error' if check else 'warning'}: asset key `{key}` is defined by {' and '.join(owners)}: "
                "Dagster refuses two assets with one key"
            )
        if check and conflicts:
            raise SystemExit(1)
