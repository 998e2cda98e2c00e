"""The local paths a replication or a connection gives sling, each with where it is written
and whether sling reads or writes it: what the file fence (`replication.fence`) judges."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from replication.config import ReplicationConfig, effective_config
from replication.resolve import Names, render_env, resolve_object

# The connection type of the local disk (sling's LOCAL, or a studio `file` connection).
LOCAL_TYPE = "file"
# Connection fields that are local paths when they are not URLs, by type.
_PATH_FIELDS = {"sqlite": ("instance",), "duckdb": ("instance",), "ducklake": ("instance", "data_path")}
# Types whose local path is a database file SQLite opens (it reads sling's `file:` URI of it).
_DATABASE_FILES = frozenset({"sqlite"})
# URL schemes that name a local file (`sqlite:///tmp/x.db`), by type.
_PATH_SCHEMES = {"file": ("file",), "sqlite": ("sqlite", "file"), "duckdb": ("duckdb", "file")}


def database_file(text: str) -> str:
    """The file a sqlite database's URL or `instance` opens, as SQLite reads the `file:` URI sling
    makes of it: its fragment and query dropped, its `%XX` escapes decoded
    (`t%2Edb#/../x.db` is `t.db`)."""
    path = re.split(r"[?#]", text.removeprefix("file:"), maxsplit=1)[0]
    return unquote(path)


def local_path(value: Any) -> str | None:
    """The local path of a `file://` URL (`file://demo/x.csv` is relative), else None."""
    if isinstance(value, str) and value[:7].lower() == "file://":
        return value[7:].split("?", 1)[0]
    return None


def replication_paths(config: ReplicationConfig, names: Names) -> Iterator[tuple[tuple[Any, ...], str, str]]:
    """(where, verb, local path) of every local path a replication gives sling: its `file://`
    streams (plain paths too when the source is the local disk), `sql: file://`, and its target
    objects (`file://`, or any on a local disk target), named as sling names them (`names`)."""
    defaults = config.defaults if isinstance(config.defaults, dict) else {}
    streams = config.streams if isinstance(config.streams, dict) else {}
    for name, own in streams.items():
        if not isinstance(name, str) or not (own is None or isinstance(own, dict)):
            continue
        where: tuple[Any, ...] = ("streams", name)
        stream = render_env(name, names.env)
        path = local_path(stream) or (
            stream if names.source_type == LOCAL_TYPE and "://" not in stream else None
        )
        if path is not None:
            yield where, "read", path
        effective = effective_config(defaults, own)
        sql = local_path(effective.get("sql"))
        if sql is not None:
            yield (*where, "sql") if own and "sql" in own else ("defaults", "sql"), "read", sql
        target = effective.get("object")
        if isinstance(target, str) and (names.target_type == LOCAL_TYPE or target[:7].lower() == "file://"):
            # As sling names it; a `file://` object on a database target as written (fail closed).
            path = local_path(resolve_object(name, effective, names)) or local_path(
                render_env(target, names.env)
            )
            if path is not None:
                place = (*where, "object") if own and "object" in own else ("defaults", "object")
                yield place, "write", path


def connection_paths(conn_type: str, fields: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, local path) of every local path of a connection: a `file` connection's folder, the
    database file of a sqlite or duckdb one."""
    schemes = _PATH_SCHEMES.get(conn_type, ())
    for field in ("url", *_PATH_FIELDS.get(conn_type, ())):
        value = fields.get(field)
        if not isinstance(value, str) or not value:
            continue
        if "://" not in value:
            if field != "url" and not value.startswith(("md:", ":memory:")):  # MotherDuck, in memory
                yield field, database_file(value) if conn_type in _DATABASE_FILES else value
            continue
        parts = urlsplit(value)
        if parts.scheme.lower() in schemes:
            rest = value.split("://", 1)[1]
            yield field, database_file(rest) if conn_type in _DATABASE_FILES else rest.split("?", 1)[0]
