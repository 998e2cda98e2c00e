"""The Dagster hand-off: the files of a code location for stored replications."""

from __future__ import annotations

from django.conf import settings

from replication.dagster.location import Connection, location_files
from studio import models
from studio.errors import NotFound
from studio.selectors.lineage import lineage_joined
from studio.selectors.replications import current_text


def dagster_location(*, names: list[str] | None = None) -> dict[str, str]:
    """The files of a Dagster code location for the named replications, or the whole
    lineage when None: {relative path: text}. No secret value goes in. Raises `NotFound`,
    and `KeyConflict` when Dagster would refuse the location (two assets with one key)."""
    graph = lineage_joined()
    replications = models.Replication.objects.all()
    if names is not None:
        replications = replications.filter(name__in=names)
        missing = set(names) - {r.name for r in replications}
        if missing:
            raise NotFound(f"no replication named `{sorted(missing)[0]}`")
    connections = [
        Connection(name=c.name, type=c.type, params=c.params, secret_fields=tuple(c.secrets))
        for c in models.Connection.objects.all()
    ]
    return location_files(
        [(r.name, r.as_config()) for r in replications],
        graph,
        connections,
        translator=settings.SLING_STUDIO_TRANSLATOR or None,
        every_downstream=names is None,
        texts={r.name: current_text(r) for r in replications},
    )
