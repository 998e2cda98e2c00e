"""Columns: those sling discovers on a connection for a stream, the columns a stream's keys name
(`primary_key`, `update_key`, `select`, `columns`, `transforms`), and the columns a stream lands
as in its target (after `select`, `columns`, the target's `column_casing` and the `_sling_*`
columns sling adds), as sling 1.4.11 does (read from its Go source, measured on the binary)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from replication.context import DATABASE, FILE, ConnectionInfo


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # sling's general type (bigint, text, decimal, timestamp, ...)
    native: str = ""  # the database's own type ("-" or empty for files)


@dataclass(frozen=True, slots=True)
class StreamColumns:
    """The columns sling reported for one stream, and when they were read."""

    columns: tuple[Column, ...]
    read_at: datetime

    @property
    def when(self) -> str:
        return self.read_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def named(self, name: str) -> Column | None:
        """The column `name` as sling matches a key to a column: case-insensitively."""
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)


class ColumnLookup(Protocol):
    """What the studio has discovered: the columns of stream `key` on connection `connection`."""

    def get(self, connection: str, key: str) -> StreamColumns | None: ...


def stream_key(stream: str, connection: ConnectionInfo | None) -> str:
    """The name columns are kept under: a table as `schema.table` in lower case (quotes gone, the
    connection's default schema added), a file as written."""
    stream = stream.strip()
    if connection is None or connection.kind != DATABASE or stream.lower().startswith("file://"):
        return stream
    parts = [p.strip().strip('"`[]') for p in stream.split(".")]
    if len(parts) == 1 and connection.default_schema:
        parts.insert(0, connection.default_schema)
    return ".".join(parts).lower()


# The keys of a stream that name source columns, and how.
KEYED = ("primary_key", "update_key", "select", "columns", "transforms")


def named_columns(effective: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, column) for each source column a stream's effective config names: key columns,
    `select`ed and excluded (`-column`) ones, `columns` casts and per-column `transforms`. A
    wildcard (`*`, `prefix*`) or a runtime variable names no one column and is skipped."""
    for key in KEYED:
        value = effective.get(key)
        if key in ("primary_key", "select"):
            names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        elif key == "update_key":
            names = [value] if isinstance(value, str) else []
        else:  # columns, transforms: a mapping of column -> type or transforms
            names = list(value) if isinstance(value, dict) else []
        for name in names:
            if not isinstance(name, str):
                continue
            column = name.strip().removeprefix("-") if key == "select" else name.strip()
            if key == "columns":
                column = column.removeprefix("+")  # `+col`: added to the defaults' (newer sling)
            if column and not any(ch in column for ch in "*?{}") and not column.startswith("_sling_"):
                yield key, column


def missing(effective: Mapping[str, Any], known: StreamColumns) -> list[tuple[str, str]]:
    """(key, column) for each column the stream names that the source does not have."""
    return [(key, column) for key, column in named_columns(effective) if known.named(column) is None]


# Databases whose unquoted names are upper case (sling's `DBNameUpperCase`).
_UPPER_CASE_DATABASES = {"oracle", "snowflake", "db2", "exasol"}
_STRANGE = re.compile(r"[^A-Za-z0-9_]")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def cased(name: str, casing: str, target_type: str | None) -> str:
    """`name` as sling names it in a target of `target_type` under `column_casing` (sling's
    `ColumnCasing.Apply`; `normalize`, its default, leaves mixed-case and odd names as they are)."""
    upper = (target_type or "").lower() in _UPPER_CASE_DATABASES
    if casing == "source":
        return name
    if casing == "normalize":
        varied = any(c.isupper() for c in name) and any(c.islower() for c in name)
        if varied or _STRANGE.search(name):
            return name
        return name.upper() if upper else name.lower()
    if casing == "snake":
        name = _CAMEL.sub(r"\1_\2", name)
    name = _STRANGE.sub("_", name)
    if casing == "upper" or (casing in ("target", "snake") and upper):
        return name.upper()
    if casing in ("lower", "target", "snake"):
        return name.lower()
    return name


@dataclass(frozen=True, slots=True)
class Landing:
    """One column of the target as sling will make it."""

    name: str
    type: str
    source: str | None  # the source column it comes from (None: one sling adds)
    note: str = ""  # how it changed on the way: `cast`, `renamed`, `added by sling`


def landing(
    known: StreamColumns,
    effective: Mapping[str, Any],
    *,
    source: ConnectionInfo | None,
    target: ConnectionInfo | None,
) -> tuple[list[Landing], list[str]]:
    """The target's columns as sling makes them from `known` under the stream's `effective`
    config, and the source columns `select` leaves out."""
    select = effective.get("select")
    chosen = list(known.columns)
    excluded: list[str] = []
    picking = False  # a `select` naming the columns to keep
    if isinstance(select, list) and select and all(isinstance(s, str) for s in select):
        if all(s.startswith("-") for s in select):
            dropped = {s[1:].strip().lower() for s in select}
            excluded = [c.name for c in chosen if c.name.lower() in dropped]
            chosen = [c for c in chosen if c.name.lower() not in dropped]
        elif "*" not in select:
            picking = True
            picked = [known.named(s.strip()) for s in select if not s.startswith("-")]
            kept = [c for c in picked if c is not None]
            excluded = [c.name for c in chosen if c not in kept]
            chosen = kept
    casts = effective.get("columns") if isinstance(effective.get("columns"), dict) else {}
    casts = {str(k).removeprefix("+").lower(): v for k, v in casts.items()}
    options = effective.get("target_options")
    casing = options.get("column_casing") if isinstance(options, dict) else None
    casing = casing if isinstance(casing, str) else "normalize"
    target_type = target.type if target else None
    rows = []
    for column in chosen:
        name = cased(column.name, casing, target_type)
        cast = casts.get(column.name.lower())
        note = "cast" if cast else ("renamed" if name != column.name else "")
        rows.append(Landing(name, str(cast) if cast else column.type, column.name, note))
    # Measured on sling 1.4.11: a `select` of the columns to keep keeps only them, the
    # `_sling_loaded_at` it would add too (in snapshot mode as well); excluding ones keeps it.
    if not picking and _adds_loaded_at(effective, source, target):
        rows.append(Landing(cased("_sling_loaded_at", casing, target_type), "bigint", None, "added by sling"))
    return rows, excluded


def _adds_loaded_at(
    effective: Mapping[str, Any], source: ConnectionInfo | None, target: ConnectionInfo | None
) -> bool:
    """Whether sling adds `_sling_loaded_at` (the run's start, unix seconds): in snapshot mode,
    from a file into a database, and for `update_key: _sling_loaded_at` (config.go's Prepare).
    (`SLING_LOADED_AT_COLUMN` in the environment overrides it; the studio does not set it.)"""
    source_kind = source.kind if source else None
    target_kind = target.kind if target else None
    if effective.get("mode") == "snapshot" or effective.get("update_key") == "_sling_loaded_at":
        return True
    return source_kind == FILE and target_kind == DATABASE


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """A difference between the target table as it is and the columns the stream will send."""

    kind: str  # ADDED, REMOVED or RETYPED
    column: str
    was: str  # the target column's type now ("" when added)
    becomes: str  # the type the stream sends ("" when no longer sent)
    outcome: str  # what sling does about it under the stream's target options

    @property
    def breaking(self) -> bool:
        """Removed and retyped columns are what a replication's policy may refuse a run for."""
        return self.kind != ADDED


ADDED, REMOVED, RETYPED = "added", "removed", "retyped"


def _general(type_: str) -> str:
    return type_.split("(", 1)[0].strip().lower()


def schema_changes(
    landing: list[Landing], current: StreamColumns, effective: Mapping[str, Any]
) -> list[SchemaChange]:
    """What differs between the target table's `current` columns and the `landing` ones, and
    what sling 1.4.11 does about each (measured on the binary, and its `task_run_write.go`): a
    new column is added (`add_new_columns`, true by default; false fails the run: `column names
    mismatch`); a column no longer sent stays and gets NULLs; a retyped one keeps its type unless
    `adjust_column_type` lets sling widen it. A full-refresh run makes the table again instead."""
    options = effective.get("target_options")
    options = options if isinstance(options, dict) else {}
    if effective.get("mode") in (None, "full-refresh") and not (
        effective.get("primary_key") or effective.get("update_key")
    ):
        remade = "the run makes the table again (full-refresh)"
        added = removed = retyped = remade
    else:
        added = (
            "the run fails: add_new_columns is false (column names mismatch)"
            if options.get("add_new_columns") is False
            else "sling adds it to the table"
        )
        removed = "the column stays; new rows get NULL in it"
        retyped = (
            "sling widens the column when the new type holds more (adjust_column_type)"
            if options.get("adjust_column_type") is True
            else "the column keeps its type; a value that does not fit fails the run (no adjust_column_type)"
        )
    sent = {c.name.lower(): c for c in landing}
    changes = [
        SchemaChange(REMOVED, column.name, column.type, "", removed)
        for column in current.columns
        if column.name.lower() not in sent
    ]
    for column in landing:
        there = current.named(column.name)
        if there is None:
            changes.append(SchemaChange(ADDED, column.name, "", column.type, added))
        elif _general(there.type) != _general(column.type):
            changes.append(SchemaChange(RETYPED, column.name, there.type, column.type, retyped))
    return changes


def column_lineage(
    known: StreamColumns | None,
    effective: Mapping[str, Any],
    *,
    source: ConnectionInfo | None,
    target: ConnectionInfo | None,
) -> tuple[list[dict[str, Any]], str]:
    """Each column of a stream's target with the source column it comes from, how (`same`,
    `renamed`, `cast`, `added by sling`), and the source columns `select` leaves out (`excluded`,
    no target column); or, when the studio cannot know, no columns and why."""
    if effective.get("sql"):
        return [], "custom sql: the studio cannot know which source column each comes from"
    if known is None:
        return [], "the source's columns are not read yet"
    landed, excluded = landing(known, effective, source=source, target=target)
    rows = [{"name": c.name, "type": c.type, "from": c.source, "how": c.note or "same"} for c in landed]
    rows += [{"name": None, "type": None, "from": name, "how": "excluded"} for name in excluded]
    return rows, ""
