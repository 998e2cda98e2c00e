"""Reads of the columns discovered on connections: what the validation context looks columns up
in (`StoredColumns`, one query per connection and state of its columns, kept in the editor's
cache), and what they make of a stream (`Shapes`): its columns as they will land, and the
changes its next run makes to its table."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from replication.columns import (
    REMOVED,
    Column,
    Landing,
    SchemaChange,
    StreamColumns,
    column_lineage,
    landing,
    schema_changes,
    stream_key,
)
from replication.config import ReplicationConfig
from replication.context import DATABASE, Context
from replication.resolve import Names, is_wildcard, render_env, resolve_object, runtime_variables
from studio import editor_cache, models


def as_stream_columns(columns: list[Any], read_at: datetime) -> StreamColumns:
    """A stored row's columns (`[[name, type, native], ...]`) as the domain has them."""
    return StreamColumns(
        tuple(Column(*(str(part) for part in column[:3])) for column in columns),
        read_at,
    )


class StoredColumns:
    """The columns discovered on each connection, for the validation context: a connection's
    rows are read with one query the first time one of its streams is looked up at a state
    (`stamps`: connection -> when last read), and kept for later checks at that state."""

    def __init__(self, stamps: dict[str, str]) -> None:
        self.stamps = stamps

    def __deepcopy__(self, memo: dict[int, Any]) -> StoredColumns:
        return self  # read-only: the check's memo keeps it as it is

    def get(self, connection: str, key: str) -> StreamColumns | None:
        return self._kept(connection).get(key)

    def of_connection(self, connection: str) -> list[tuple[str, str]]:
        """(name, type) of every column discovered on `connection`, each name once (its first
        type), by name: what a bulk edit of its streams may name."""

        def made() -> list[tuple[str, str]]:
            found: dict[str, str] = {}
            for known in self._kept(connection).values():
                for column in known.columns:
                    found.setdefault(column.name, column.type)
            return sorted(found.items())

        stamp = self.stamps.get(connection)
        return [] if stamp is None else editor_cache.of_version(f"{connection}:{stamp}", "column-names", made)

    def _kept(self, connection: str) -> dict[str, StreamColumns]:
        stamp = self.stamps.get(connection)
        if stamp is None:
            return {}
        return editor_cache.of_version(f"{connection}:{stamp}", "columns", lambda: _of(connection))


def _of(connection: str) -> dict[str, StreamColumns]:
    rows = models.DiscoveredColumns.objects.filter(connection=connection).values_list(
        "stream", "columns", "read_at"
    )
    return {stream: as_stream_columns(columns, read_at) for stream, columns, read_at in rows}


@dataclass(frozen=True, slots=True)
class Shape:
    """A stream's columns as last read, as they will land, and the changes to its table."""

    columns: StreamColumns | None  # the source's (None: not read)
    landing: list[Landing]
    excluded: list[str]
    table: StreamColumns | None  # the target table's (None: not read, or no such table)
    changes: list[SchemaChange]


@dataclass(frozen=True, slots=True)
class Shapes:
    """The shapes of a replication's streams from the columns kept (no query: the context's
    lookup has them), for the stream panel and for a run's schema policy."""

    names: Names
    context: Context

    def source_key(self, stream: str) -> str | None:
        """The name the columns of `stream` are kept under on the source (None: a wildcard)."""
        if is_wildcard(stream):
            return None
        return stream_key(render_env(stream, self.names.env), self.context.connection(self.names.source))

    def target_key(self, object_: str | None) -> str | None:
        """The name the columns of target object `object_` are kept under (None: not a table
        of a database, or known only when it runs)."""
        target = self.context.connection(self.names.target)
        if not object_ or target is None or target.kind != DATABASE or runtime_variables(object_):
            return None
        return stream_key(object_, target)

    def _kept(self, connection: Any, key: str | None) -> StreamColumns | None:
        lookup = self.context.columns
        if lookup is None or not isinstance(connection, str) or key is None:
            return None
        return lookup.get(connection.upper(), key)

    def of(self, stream: str, effective: dict[str, Any]) -> Shape:
        known = self._kept(self.names.source, self.source_key(stream))
        table = self._kept(self.names.target, self.target_key(resolve_object(stream, effective, self.names)))
        if known is None:
            return Shape(None, [], [], table, [])
        source, target = (
            self.context.connection(self.names.source),
            self.context.connection(self.names.target),
        )
        landed, excluded = landing(known, effective, source=source, target=target)
        return Shape(
            known, landed, excluded, table, schema_changes(landed, table, effective) if table else []
        )


def lineage_columns(
    config: ReplicationConfig, context: Context, stream: str
) -> tuple[list[dict[str, Any]], str]:
    """`replication.columns.column_lineage` of `stream` by the columns kept."""
    effective = config.effective(stream)
    shapes = Shapes(Names.of(config, context), context)
    return column_lineage(
        shapes.of(stream, effective).columns,
        effective,
        source=context.connection(config.source),
        target=context.connection(config.target),
    )


def breaking_changes(config: ReplicationConfig, context: Context) -> dict[str, list[SchemaChange]]:
    """Stream -> the removed and retyped columns its next run meets, by the columns kept."""
    shapes = Shapes(Names.of(config, context), context)
    found = {}
    for stream in config.streams:
        effective = config.effective(stream)
        if effective.get("disabled") is True:
            continue
        changes = [c for c in shapes.of(str(stream), effective).changes if c.breaking]
        if changes:
            found[str(stream)] = changes
    return found


def schema_policy(replication: models.Replication | None) -> str:
    """What the replication's runs meet when a table would lose or retype a column: warn, refuse."""
    if replication is None:
        return "warn"
    found = models.RunPolicy.objects.filter(replication=replication).values_list("schema_changes", flat=True)
    return next(iter(found), "warn")


def schema_refusal(changes: dict[str, list[SchemaChange]]) -> str:
    """The one line a run refused for `changes` (stream -> its breaking changes) says."""
    first = next(iter(changes))
    said = "; ".join(
        f"`{c.column}` {'is no longer sent' if c.kind == REMOVED else f'changes from {c.was} to {c.becomes}'}"
        for c in changes[first]
    )
    more = f" (and {len(changes) - 1} more stream(s))" if len(changes) > 1 else ""
    return (
        f"refused by the replication's schema policy: stream `{first}`: {said}{more}; "
        "read the columns again if the tables changed, or set schema changes to warn"
    )


def run_schema(run: models.Run, context: Context) -> tuple[str, dict[str, list[SchemaChange]]]:
    """The schema policy of the run's replication, and the removed and retyped columns its
    streams meet now, by the columns last read (none when the replication is gone)."""
    if run.replication is None:
        return "warn", {}
    config = run.replication.as_config()
    if run.streams:
        config = replace(config, streams={s: c for s, c in config.streams.items() if s in run.streams})
    return schema_policy(run.replication), breaking_changes(config, context)
