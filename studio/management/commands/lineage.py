from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from replication import lineage
from studio import services
from studio.management.output import fail


class Command(BaseCommand):
    help = "Print the asset graph (source -> target -> downstream) as JSON or DOT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", nargs="?", help="a replication (default: all of them)")
        parser.add_argument("--format", choices=("json", "dot"), default="json")
        parser.add_argument("--select", help="e.g. '+target/main/orders+', 'group:sales', 'tag:pii'")

    def handle(self, *args: Any, name: str | None, format: str, select: str | None, **options: Any) -> None:
        try:
            graph = services.lineage_graph([name] if name else None)
            graph = lineage.subgraph(graph, select)
        except (services.NotFound, lineage.SelectionError) as exc:
            fail(self, [f"error: {exc}"])
        text = lineage.to_json(graph) + "\n" if format == "json" else lineage.to_dot(graph)
        self.stdout.write(text, ending="")
