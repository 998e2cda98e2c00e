"""Reads of the columns discovered on connections: what the validation context looks columns up
in (`StoredColumns`, one query per connection and state of its columns, kept in the editor's
cache), and one stream's columns for its panel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max

from replication.columns import Column, StreamColumns
from studio import editor_cache, models


def as_stream_columns(columns: list[Any], read_at: datetime) -> StreamColumns:
    """A stored row's columns (`[[name, type, native], ...]`) as the domain has them."""
    return StreamColumns(
        tuple(Column(*(str(part) for part in column[:3])) for column in columns),
        read_at,
    )


def columns_read() -> dict[str, str]:
    """Connection -> when its columns were last read (ISO time), for those with any: what
    tells one state of the discovered columns from the next (`StoredColumns`)."""
    rows = models.DiscoveredColumns.objects.values("connection").annotate(last=Max("read_at"))
    return {row["connection"]: row["last"].isoformat() for row in rows}


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


def stream_columns(*, connection: str, key: str) -> StreamColumns | None:
    """The columns kept for stream `key` of `connection` (None: never read)."""
    row = models.DiscoveredColumns.objects.filter(connection=connection.upper(), stream=key).first()
    return as_stream_columns(row.columns, row.read_at) if row else None
