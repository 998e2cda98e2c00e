"""Connections as Sling reads them, with their secret parts kept apart.

A connection is a type plus fields (`host`, `user`, `password`, ...) or a URL.
`split_secrets` separates what may be shown (host, user, database) from what may
not (passwords, keys, tokens) by the table of Sling's connection types in
`connection_types`, failing closed: a field not known to be public for its type
is secret. A URL-valued field (`url`, `ssh_tunnel`, a sqlite `instance`, ...)
keeps its public part; its password and the query values not public for the type
are stored as `<field>:password` and `<field>:query:<name>`. The public half is
stored, listed and exported; the secret half only ever goes into the environment
of a `sling` process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit

from replication.connection_types import (
    DISPLAY_ORDER,
    FIELDS,
    HARMLESS,
    PUBLIC,
    SCHEME_TYPES,
    SECRET,
    URL,
    URL_LISTS,
    URL_SCHEMES,
)
from replication.connection_types import kind_of as _kind_of
from replication.problems import ERROR, Problem
from replication.reach import field_hosts

# How a secret is shown wherever it is mentioned (pages, logs, errors): never its value.
MASK = "••••••"
# A stored secret of a URL-valued field is named `<field>:<part>` (`url:password`).
PART = ":"

DATABASE_TYPES = [
    "postgres",
    "redshift",
    "mysql",
    "mariadb",
    "oracle",
    "sqlserver",
    "azuresql",
    "azuredwh",
    "fabric",
    "snowflake",
    "bigquery",
    "bigtable",
    "databricks",
    "sqlite",
    "d1",
    "duckdb",
    "ducklake",
    "motherduck",
    "clickhouse",
    "trino",
    "starrocks",
    "mongodb",
    "elasticsearch",
    "prometheus",
    "proton",
    "athena",
    "iceberg",
    "azuretable",
    "exasol",
    "adbc",
    "odbc",
    "scylladb",
]
FILE_TYPES = ["file", "s3", "r2", "gs", "azure", "abfs", "gdrive", "ftp", "sftp", "hdfs", "http"]
TYPES = tuple(DATABASE_TYPES + FILE_TYPES + ["api"])
assert set(TYPES) == set(FIELDS), set(TYPES) ^ set(FIELDS)

# The fields a form shows first for each type (any other can be given too).
FORM_FIELDS: Mapping[str, list[str]] = DISPLAY_ORDER
# A field name as Sling reads them: letters, digits, `_`, `-`, `.` and spaces (`app name`).
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]{0,199}$")


# What a `url` looks like for the common types (the others: their scheme, `URL_SCHEMES`).
URL_EXAMPLES = {
    "file": "file:///srv/data/ (a folder: streams are the files in it), or file://demo/data for a folder "
    "of the project; empty: the whole local disk, as LOCAL",
    "postgres": "postgresql://user@host:5432/database?sslmode=require",
    "mysql": "mysql://user@host:3306/database",
    "sqlite": "sqlite:///path/to/file.db",
    "duckdb": "duckdb:///path/to/file.duckdb",
    "snowflake": "snowflake://user@account/database/schema?warehouse=WH",
    "sqlserver": "sqlserver://user@host:1433?database=db",
    "s3": "s3://bucket/prefix/",
    "gs": "gs://bucket/prefix/",
    "sftp": "sftp://user@host:22/folder/",
}


def url_example(conn_type: str) -> str:
    """How a connection of `conn_type` is written as a URL ("" when the studio has no example)."""
    example = URL_EXAMPLES.get(conn_type)
    if example is None:
        schemes = [s for s in URL_SCHEMES.get(conn_type, ()) if not s.startswith("https://<")]
        example = f"{schemes[0]}..." if schemes else ""
    return example


def type_of_url(url: str) -> str | None:
    """The connection type a URL's scheme gives (Sling lets it override `type`)."""
    scheme, sep, _ = url.partition("://")
    return SCHEME_TYPES.get(scheme.lower()) if sep else None


def connection_type(fields: Mapping[str, Any]) -> str | None:
    """A connection's type as written with its fields: its `type`, else what its URL says."""
    return fields.get("type") or type_of_url(str(fields.get("url", "")))


def _types(conn_type: str | Iterable[str]) -> tuple[str, ...]:
    return (conn_type,) if isinstance(conn_type, str) else tuple(conn_type)


def kind_of(conn_type: str | Iterable[str], field: str) -> str:
    """`public`, `secret` or `url` for a field; with several types (the `type` given and the one
    its URL says, which Sling prefers), the strictest: public only if public for all."""
    kinds = {_kind_of(t, field) for t in _types(conn_type)}
    return SECRET if SECRET in kinds or not kinds else URL if URL in kinds else PUBLIC


def is_secret(conn_type: str | Iterable[str], field: str) -> bool:
    return kind_of(conn_type, field) == SECRET


def types_of(conn_type: str, fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The types whose table classifies these fields: the given one and its URL's."""
    of_url = type_of_url(fields["url"]) if isinstance(fields.get("url"), str) else None
    return tuple(dict.fromkeys(t for t in (conn_type, of_url) if t))


def split_secrets(conn_type: str, fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public fields, secret fields) of a connection's fields, by its type's table."""
    types = types_of(conn_type, fields)
    public: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for name, value in fields.items():
        kind = kind_of(types, name)
        if kind == URL and isinstance(value, str) and "://" in value:
            if any((t, name.lower()) in URL_LISTS for t in types):
                # A list of URLs: secret whole if any of them carries one.
                found = [split_url(types, item.strip())[1] for item in value.split(",")]
                (secret if any(found) else public)[name] = value
                continue
            public_url, parts = split_url(types, value)
            public[name] = public_url
            secret.update({f"{name}{PART}{k}": v for k, v in parts.items()})
        elif kind == SECRET:
            secret[name] = value
        else:
            public[name] = value
    return public, secret


def split_url(conn_type: str | Iterable[str], url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password and the query values not public for the type, and those."""
    parts = urlsplit(url)
    secrets: dict[str, str] = {}
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, password = userinfo.partition(":")
        if colon:
            secrets["password"] = unquote(password)
        netloc = f"{user}@{hostport}" if user else hostport
    query = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if kind_of(conn_type, name) == PUBLIC:
            query.append((name, value))
        else:
            secrets[f"query:{name}"] = value
    return _unsplit(parts._replace(netloc=netloc, query=urlencode(query))), secrets


def join_url(public_url: str, secrets: Mapping[str, str]) -> str:
    """The inverse of `split_url`."""
    parts = urlsplit(public_url)
    netloc = parts.netloc
    password = secrets.get("password")
    if password is not None:
        userinfo, at, hostport = netloc.rpartition("@")
        netloc = f"{userinfo}:{quote(password, safe='')}@{hostport}" if at else netloc
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k.removeprefix("query:"), v) for k, v in secrets.items() if k.startswith("query:")]
    return _unsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def _unsplit(parts: SplitResult) -> str:
    """`urlunsplit` that always keeps `//` (it drops it for schemes it does not know,
    turning `duckdb:///tmp/x.duckdb` into `duckdb:/tmp/x.duckdb`)."""
    url = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if parts.query:
        url += f"?{parts.query}"
    if parts.fragment:
        url += f"#{parts.fragment}"
    return url


def is_url_secret(name: str) -> bool:
    """Whether a stored secret's name is a part of a URL-valued field (`url:password`)."""
    return PART in name


def url_secrets(secret: Mapping[str, Any], field: str = "url") -> dict[str, Any]:
    """The secrets of one URL-valued field, named as `split_url` names them."""
    prefix = field + PART
    return {k.removeprefix(prefix): v for k, v in secret.items() if k.startswith(prefix)}


def url_fields(secret: Mapping[str, Any]) -> list[str]:
    """The URL-valued fields that have secret parts."""
    return list(dict.fromkeys(k.partition(PART)[0] for k in secret if is_url_secret(k)))


def field_secrets(secret: Mapping[str, Any]) -> dict[str, Any]:
    """The secret fields of a connection besides the parts of its URLs."""
    return {k: v for k, v in secret.items() if not is_url_secret(k)}


def merge_secrets(public: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """The full fields again, secrets included: only for a sling process's environment."""
    fields = dict(public)
    for field in url_fields(secret):
        if isinstance(fields.get(field), str):
            fields[field] = join_url(fields[field], url_secrets(secret, field))
    fields.update(field_secrets(secret))
    return fields


def carry_secrets(
    conn_type: str,
    fields: Mapping[str, Any],
    *,
    stored_type: str,
    public: Mapping[str, Any],
    secret: Mapping[str, Any],
) -> tuple[dict[str, Any], list[Problem]]:
    """`fields` of an edit of a stored connection (`stored_type`, its `public` and `secret`
    fields) with the stored secrets it does not send again, and a problem for each of those
    that may not be carried.

    Secrets are never shown, so an edit that leaves a password box empty, or gives a URL
    without its password, keeps the stored value: while the edit changes nothing that says where
    the connection goes or who it signs in as (`moved_fields`). Otherwise a stored secret would go
    where it was never typed for (a Test to a host of the editor's choosing): it must be typed
    again, and the problem says so at its field."""
    out = dict(fields)
    again: dict[str, str] = {}  # each field a stored secret is carried into: what to write again
    for name, value in field_secrets(secret).items():
        if name not in out:
            out[name], again[name] = value, f"type `{name}`"
    types = types_of(conn_type, out)
    for field in url_fields(secret):
        if isinstance(out.get(field), str) and out[field]:
            present = split_url(types, out[field])[1]
            missing = {k: v for k, v in url_secrets(secret, field).items() if k not in present}
            if missing:
                out[field] = join_url(out[field], missing)
                parts = " and ".join(
                    "its password" if k == "password" else f"its `{k.removeprefix('query:')}`"
                    for k in missing
                )
                again[field] = f"write {parts} in `{field}`"
    moved = moved_fields(stored_type, public, secret, conn_type, fields) if again else []
    if not moved:
        return out, []
    changed = ", ".join(f"`{name}`" for name in moved)
    why = "again (a stored secret goes only where it was typed for)"
    return dict(fields), [
        Problem((where,), None, ERROR, f"{changed} changed: {what} {why}") for where, what in again.items()
    ]


def moved_fields(
    stored_type: str,
    public: Mapping[str, Any],
    secret: Mapping[str, Any],
    conn_type: str,
    fields: Mapping[str, Any],
) -> list[str]:
    """The fields of an edit that may send a stored connection's secrets elsewhere: `type` when
    it changes; every public field that changes, but those known to be harmless (`HARMLESS`):
    host, port, endpoint, account, database, user, a URL's public part, any field not known; and
    a secret the edit types anew but a known credential (a password: not a connection string)."""
    new_public, new_secret = split_secrets(conn_type, {k: v for k, v in fields.items() if k != "type"})
    old = {str(k).lower(): _compared(v) for k, v in public.items()}
    new = {str(k).lower(): _compared(v) for k, v in new_public.items()}
    moved = ["type"] if conn_type != stored_type else []
    moved += [
        n for n in dict.fromkeys([*old, *new]) if n not in HARMLESS and old.get(n, "") != new.get(n, "")
    ]
    # A secret typed anew moves the others unless it is a credential: known to the type's table,
    # and not read as an address (`field_hosts`: a connection string, a URL).
    stored = {str(k).lower(): _compared(v) for k, v in field_secrets(secret).items()}
    for name, value in field_secrets(new_secret).items():
        key, typed = str(name).lower(), _compared(value)
        before = stored.get(key, "")
        credential = key in FIELDS.get(conn_type, {}) and not any(
            any(field_hosts(conn_type, key, text)) for text in (typed, before)
        )
        if typed != before and not credential:
            moved.append(key)
    return moved


def _compared(value: Any) -> str:
    """A field's value as compared: empty and missing alike, 5432 as "5432"."""
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, sort_keys=True, default=str)


def env_value(conn_type: str, fields: Mapping[str, Any]) -> str:
    """The value of the environment variable that gives Sling this connection."""
    return json.dumps({"type": conn_type, **fields}, sort_keys=True, default=str)


def masked(public: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """Fields for display: secrets named but never shown."""
    shown = dict(public)
    for name in secret:
        shown[name.removeprefix("url" + PART)] = MASK
    return shown
