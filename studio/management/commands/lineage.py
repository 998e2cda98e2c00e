from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from replication.lineage.graph import SelectionError
from studio.errors import NotFound
from studio.management.output import fail
from studio.selectors.lineage import lineage_document


class Command(BaseCommand):
    help = "Print the asset graph (source -> target -> downstream) as JSON or DOT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", nargs="?", help="a replication (default: all of them)")
        parser.add_argument("--format", choices=("json", "dot"), default="json")
        parser.add_argument("--select", help="e.g. '+target/main/orders+', 'group:sales', 'tag:pii'")

    def handle(self, *args: Any, name: str | None, format: str, select: str | None, **options: Any) -> None:
        try:
            # The same function serves the page's JSON and DOT export.
            text = lineage_document(replication=name, selector=select, fmt=format)
        except (NotFound, SelectionError) as exc:
            fail(self, [f"error: {exc}"])
        self.stdout.write(text, ending="")
