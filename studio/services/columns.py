"""Columns: read from sling (`conns discover --columns`) for a replication's streams and kept
with the time they were read; refreshed on request, and in the background (a task on the
workers' queue) when older than STUDIO_COLUMNS_MAX_AGE_MINUTES; and the first rows of a stream
as sling reads them (`run --stdout --limit`). Every sling process goes through the launcher:
confined, fenced, with only the connection it reads, stopped after STUDIO_SLING_CALL_SECONDS."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from replication import sling
from replication.columns import StreamColumns, stream_key
from replication.context import DATABASE, ConnectionInfo
from replication.local_paths import local_path
from replication.resolve import render_env, resolve_object
from studio import configured, models
from studio.launcher import Launcher, stored_secrets
from studio.selectors.columns import as_stream_columns
from studio.selectors.editing import Editor

logger = logging.getLogger(__name__)


def _connection(name: str) -> tuple[models.Connection | None, ConnectionInfo]:
    """The studio's connection `name` (None for sling's own LOCAL) and what it is."""
    if name.upper() == "LOCAL":
        return None, ConnectionInfo.of("file")
    connection = models.Connection.objects.filter(name=name.upper()).first()
    if connection is None:
        raise sling.SlingFailed(f"the studio does not define connection `{name}`: it cannot read its columns")
    return connection, ConnectionInfo.of(connection.type, connection.params)


def _fenced(stream: str) -> None:
    """A local file stream outside the folders sling may read is refused before sling starts."""
    fence = configured.text_fence()
    path = local_path(stream)
    if fence is not None and path is not None:
        refused = fence.expanded_refusal(path, "read")
        if refused:
            raise sling.RunError(refused)


# What sling says when it could not reach a database: said as "could not connect" only, as Test
# and Discover do (its reason would tell an open port from a closed one); it goes to the log.
_UNREACHED = re.compile(
    r"dial tcp|connection refused|could not connect|no such host|i/o timeout|connect: |failed to connect",
    re.IGNORECASE,
)


def _call(connection: models.Connection | None, *args: str) -> str:
    """`sling <args>` with `connection` only, stopped in time; errors masked of every secret."""
    try:
        return Launcher.here().command(connection, *args, timeout=settings.STUDIO_SLING_CALL_SECONDS or 30)
    except sling.RunError as exc:
        said = sling.mask(str(exc), stored_secrets())
        name = connection.name if connection else "LOCAL"
        if isinstance(exc, sling.SlingFailed) and _UNREACHED.search(said):
            logger.info("sling %s %s: %s", " ".join(args[:2]), name, said)
            raise sling.SlingFailed(f"{name}: could not connect") from None
        raise type(exc)(said) from None


def columns_discover(
    *, connection: str, streams: Iterable[str], target: tuple[str | None, str | None] = (None, None)
) -> dict[str, StreamColumns]:
    """Ask sling for the columns of each of `streams` (as a replication names them) on
    `connection` and keep them, replacing what was kept: stream -> its columns; then, with a
    `target` (connection, table), those of the table the stream lands in. A stream (or table)
    sling finds nothing for keeps no columns (its old ones are dropped: a table not made yet).
    Raises `sling.RunError` (`SlingFailed` when sling answered with an error or not in time),
    keeping what it read before."""
    found = _discover(connection, streams)
    if target[0] and target[1]:
        _discover(target[0], [target[1]])
    return found


def _discover(connection: str, streams: Iterable[str]) -> dict[str, StreamColumns]:
    row, info = _connection(connection)
    name = row.name if row else "LOCAL"
    found: dict[str, StreamColumns] = {}
    for stream in streams:
        key = stream_key(stream, info)
        _fenced(stream)
        pattern = key if info.kind == DATABASE and not stream.lower().startswith("file://") else stream
        output = _call(
            row, "conns", "discover", name, "--pattern", sling.discover_pattern(pattern), "--columns"
        )
        columns = [
            [column.name, column.type, column.native]
            for owner, column in sling.discovered_columns(output)
            # A pattern of a table matches tables whose name has a `_` where it has any letter.
            if info.kind != DATABASE or owner.lower() == key
        ]
        with transaction.atomic():
            if not columns:
                models.DiscoveredColumns.objects.filter(connection=name, stream=key).delete()
                continue
            kept, _ = models.DiscoveredColumns.objects.update_or_create(
                connection=name, stream=key, defaults={"columns": columns, "read_at": timezone.now()}
            )
        found[stream] = as_stream_columns(kept.columns, kept.read_at)
    return found


def columns_refresh_stale(*, connection: str, streams: Iterable[str]) -> int:
    """Read again the columns of those of `streams` never read or read longer ago than
    STUDIO_COLUMNS_MAX_AGE_MINUTES (the background task's job): how many were read."""
    row, info = _connection(connection)
    name = row.name if row else "LOCAL"
    streams = list(streams)
    minutes = settings.STUDIO_COLUMNS_MAX_AGE_MINUTES
    fresh: set[str] = set()
    if minutes is not None:
        since = timezone.now() - timezone.timedelta(minutes=minutes)
        fresh = set(
            models.DiscoveredColumns.objects.filter(
                connection=name, stream__in=[stream_key(s, info) for s in streams], read_at__gte=since
            ).values_list("stream", flat=True)
        )
    stale = [s for s in streams if stream_key(s, info) not in fresh]
    if stale:
        _discover(name, stale)
    return len(stale)


@dataclass(frozen=True, slots=True)
class Preview:
    header: list[str]
    rows: list[list[str]]


def stream_preview(
    *, connection: str, stream: str, select: list[str] | None = None, limit: int = 0
) -> Preview:
    """The first `limit` rows (STUDIO_PREVIEW_ROWS when 0) of `stream` as sling reads them from
    `connection` (with its `select`). Raises `sling.RunError` (`SlingFailed`), secrets masked."""
    row, _ = _connection(connection)
    _fenced(stream)
    limit = limit or settings.STUDIO_PREVIEW_ROWS
    args = sling.preview_args(row.name if row else "LOCAL", stream, limit=limit, select=select)
    header, rows = sling.preview_rows(_call(row, *args))
    return Preview(header, rows[:limit])


def columns_queue_if_stale(*, connection: str, stream: str, known: StreamColumns | None) -> bool:
    """Queue the background refresh of `stream`'s columns when those kept are older than
    STUDIO_COLUMNS_MAX_AGE_MINUTES (never read: the panel offers to read them); whether it did
    (or a refresh is queued already)."""
    minutes = settings.STUDIO_COLUMNS_MAX_AGE_MINUTES
    if known is None or minutes is None:
        return False
    if timezone.now() - known.read_at < timezone.timedelta(minutes=minutes):
        return False
    # One refresh queued per stream, not one per look at its panel (per process: the cache is).
    if not cache.add(f"columns-queued:{connection.upper()}:{stream}", True, timeout=max(60, minutes * 60)):
        return True
    # Imported here: the task module imports this one.
    from studio.tasks import refresh_columns

    refresh_columns.enqueue(connection.upper(), [stream])
    return True


def stream_columns_read(*, editor: Editor, stream: str) -> None:
    """Read now the columns of the editor's `stream` on its source, and of the table it lands
    in on its target (a database's). Raises `sling.RunError`."""
    effective = editor.effective(editor.config.streams[stream])
    names = editor.names
    columns_discover(
        connection=names.source,
        streams=[render_env(stream, names.env)],
        target=(names.target, editor.shapes.target_key(resolve_object(stream, effective, names))),
    )


def stream_rows(*, editor: Editor, stream: str) -> Preview:
    """The first rows of the editor's `stream` as sling reads them, with its `select`. Raises
    `sling.RunError`."""
    select = editor.effective(editor.config.streams[stream]).get("select")
    chosen = select if isinstance(select, list) and all(isinstance(s, str) for s in select) else None
    return stream_preview(
        connection=editor.names.source, stream=render_env(stream, editor.names.env), select=chosen
    )
