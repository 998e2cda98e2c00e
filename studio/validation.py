"""Validation as this studio runs it: a replication checked with the rules of its sling, the
connections it knows (the studio's and those of its environment), its fence and translator."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Max, OuterRef, QuerySet, Subquery

from replication import sling
from replication.config import ReplicationConfig
from replication.connections import type_of_url
from replication.context import ConnectionInfo, Context
from replication.problems import LineOf, Problem
from studio import configured, models
from studio.selectors.columns import StoredColumns

if TYPE_CHECKING:
    from replication.validate import Memo


def context(stored: bool = True, connections: Iterable[models.Connection] | None = None) -> Context:
    """What sling would know running a replication here: its version, the studio's connections
    (one query, or those given: every one of them; with `stored=False`, none: a lint without a
    studio database) and those of its environment, and that environment. Only knowing the
    studio's is knowing them all."""
    # A run gets the connections of the studio's environment that its replication names, and
    # of the rest only the variables `process_environment` lets through.
    studio_env = {k: v for k, v in os.environ.items() if k not in sling.STUDIO_SECRETS}
    known = _environment_connections(studio_env)
    stamps: dict[str, str] = {}
    if stored:
        rows: Iterable[tuple[str, str, dict[str, Any], Any, Any]] = (
            _with_columns_read(models.Connection.objects.all())
            if connections is None
            else ((c.name, c.type, c.params, None, None) for c in connections)
        )
        for name, conn_type, params, read, local_read in rows:
            if read is not None:
                stamps[name.upper()] = read.isoformat()
            if local_read is not None:
                stamps["LOCAL"] = local_read.isoformat()
            known[name.upper()] = ConnectionInfo.of(conn_type, params, stamps.get(name.upper()))
        if "LOCAL" in stamps:
            known.setdefault("LOCAL", ConnectionInfo.of("file", None, stamps["LOCAL"]))
    return Context(
        sling=configured.rules(),
        connections=known,
        # The environment sling will have: `$HOME` in an `env:` value is sling's home.
        process_env={**sling.process_environment(), **sling.own_variables(settings.SLING_HOME_DIR)},
        complete=stored,
        fence=configured.text_fence(),
        columns=StoredColumns(stamps) if stamps else None,
    )


def _with_columns_read(connections: QuerySet[models.Connection]) -> Any:
    """(name, type, params, when its columns were last read, when LOCAL's were) of each
    connection, in the one query that reads them: a check knows which columns it read."""

    def last(name: Any) -> Subquery:
        latest = models.DiscoveredColumns.objects.filter(connection=name).values("connection")
        return Subquery(latest.annotate(last=Max("read_at")).values("last")[:1])

    return connections.values_list("name", "type", "params", last(OuterRef("name")), last("LOCAL"))


def _environment_connections(environ: dict[str, str]) -> dict[str, ConnectionInfo]:
    """Connections sling reads from environment variables: a URL, or JSON with a `type`."""
    found = {}
    for name, value in environ.items():
        if not name.isupper() or name.startswith(("SLING_", "STUDIO_")):
            continue
        if "://" in value and " " not in value:
            found[name] = ConnectionInfo.of(type_of_url(value))
        elif value.startswith("{") and '"type"' in value:
            try:
                data = json.loads(value)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("type"), str):
                found[name] = ConnectionInfo.of(data["type"], data)
    return found


def check(
    config: ReplicationConfig,
    line_of: LineOf | None = None,
    stored: bool = True,
    memo: Memo | None = None,
    with_context: Context | None = None,
    basis: Any = None,
    edited: Iterable[Any] = (),
) -> list[Problem]:
    """Every problem of `config`, with lines where `line_of` knows them (`stored`: see context;
    `with_context`: that one); with `memo` (`editor_cache.memo`), the streams that did not change
    since are not checked again (`basis` and `edited`: see `validate`)."""
    # Imported here: a run checks nothing (its replication was checked when saved), and
    # `run_replication` starts without validation.
    from replication.validate import validate

    return validate(
        config, line_of, configured.translator(), with_context or context(stored), memo, basis, edited
    )


def blocking(problems: list[Problem]) -> list[Problem]:
    """The errors that refuse a save: those of the file (one that cannot run here is kept, and
    its runs are refused). A replication without streams yet is a draft, not an error."""
    return [p for p in problems if p.refuses_file and p.code != "no-streams"]
