"""Connections as Sling reads them, with their secret parts kept apart.

A connection is a type plus fields (`host`, `user`, `password`, ...) or a URL.
`split_secrets` and `split_url` separate what may be shown (host, user,
database) from what may not (passwords, keys, tokens), so the public half can
be stored, listed and exported, and the secret half only ever goes into the
environment of a `sling` process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit

# Field names whose values are secrets, in connection fields and URL queries.
_SECRET_NAME = re.compile(
    r"pass|secret|token|private|credential|(^|_)key($|_)|sas|signature|auth|session"
    r"|keyfile_json|conn_str|connection_string",
    re.I,
)
# Non-secret names the pattern above would catch.
_NOT_SECRET = frozenset(
    {"key_file", "key_file_path", "private_key_path", "keyfile", "auth_mode", "authenticator", "sslkey"}
)

# How a secret is shown wherever it is mentioned (pages, logs, errors): never its value.
MASK = "••••••"
# Among a connection's stored secrets, those of its URL (`url:password`, `url:query:token`).
URL_SECRET = "url:"  # noqa: S105 - a name prefix, not a secret

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

_SERVER = ["host", "port", "user", "password", "database"]
# The usual fields of each type, as Sling's connection docs list them; any other
# field can still be given.
FIELDS: dict[str, list[str]] = {
    "postgres": [*_SERVER, "schema", "sslmode"],
    "redshift": [*_SERVER, "schema", "bucket", "aws_access_key_id", "aws_secret_access_key"],
    "mysql": _SERVER,
    "mariadb": _SERVER,
    "sqlserver": [*_SERVER, "schema", "instance"],
    "oracle": [*_SERVER, "schema", "sid", "service_name"],
    "clickhouse": [*_SERVER, "schema"],
    "trino": [*_SERVER, "catalog", "schema"],
    "sqlite": ["instance", "schema"],
    "duckdb": ["instance", "schema"],
    "motherduck": ["database", "motherduck_token"],
    "snowflake": ["account", "user", "password", "private_key", "database", "schema", "warehouse", "role"],
    "bigquery": ["project", "dataset", "location", "key_file", "keyfile_json"],
    "databricks": ["host", "token", "warehouse_id", "catalog", "schema"],
    "mongodb": ["url", "database"],
    "s3": ["bucket", "region", "access_key_id", "secret_access_key", "endpoint"],
    "r2": ["bucket", "account_id", "access_key_id", "secret_access_key"],
    "gs": ["bucket", "key_file", "keyfile_json"],
    "azure": ["account", "container", "sas_svc_url", "conn_str"],
    "sftp": ["host", "port", "user", "password", "private_key"],
    "ftp": ["host", "port", "user", "password"],
    "file": [],
    "http": ["url"],
}

_SCHEME_TYPES = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "motherduck": "motherduck",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "sqlserver": "sqlserver",
    "oracle": "oracle",
    "redshift": "redshift",
    "clickhouse": "clickhouse",
    "trino": "trino",
    "mongodb": "mongodb",
    "s3": "s3",
    "gs": "gs",
    "file": "file",
    "sftp": "sftp",
    "ftp": "ftp",
    "azure": "azure",
    "http": "http",
    "https": "http",
}


def is_secret(name: str) -> bool:
    return name.lower() not in _NOT_SECRET and bool(_SECRET_NAME.search(name))


def type_of_url(url: str) -> str | None:
    scheme = urlsplit(url).scheme.lower()
    return _SCHEME_TYPES.get(scheme)


def split_secrets(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public fields, secret fields) of a connection's fields; a `url` is split too."""
    public: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "url" and isinstance(value, str):
            public_url, url_secrets = split_url(value)
            public[name] = public_url
            secret.update({URL_SECRET + k: v for k, v in url_secrets.items()})
        elif is_secret(name):
            secret[name] = value
        else:
            public[name] = value
    return public, secret


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password and secret query values, and those secrets."""
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
        if is_secret(name):
            secrets[f"query:{name}"] = value
        else:
            query.append((name, value))
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


def keep_url_secrets(url: str, stored: Mapping[str, str]) -> str:
    """`url` with the stored secrets (from `split_url`) it does not carry itself."""
    _, present = split_url(url)
    return join_url(url, {k: v for k, v in stored.items() if k not in present}) if stored else url


def is_url_secret(name: str) -> bool:
    """Whether a stored secret's name is one of a URL's parts (`url:password`)."""
    return name.startswith(URL_SECRET)


def url_secrets(secret: Mapping[str, Any]) -> dict[str, Any]:
    """The secrets of a connection's URL, named as `split_url` names them."""
    return {k.removeprefix(URL_SECRET): v for k, v in secret.items() if is_url_secret(k)}


def field_secrets(secret: Mapping[str, Any]) -> dict[str, Any]:
    """The secret fields of a connection besides its URL's."""
    return {k: v for k, v in secret.items() if not is_url_secret(k)}


def merge_secrets(public: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """The full fields again, secrets included: only for a sling process's environment."""
    fields = dict(public)
    if isinstance(fields.get("url"), str) and url_secrets(secret):
        fields["url"] = join_url(fields["url"], url_secrets(secret))
    fields.update(field_secrets(secret))
    return fields


def carry_secrets(fields: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` of an edit with the stored secrets it does not send again.

    Secrets are never shown, so an edit that leaves a password box empty, or
    gives the URL without its password, keeps the stored value."""
    out = dict(fields)
    for name, value in field_secrets(stored).items():
        out.setdefault(name, value)
    if out.get("url"):
        out["url"] = keep_url_secrets(out["url"], url_secrets(stored))
    return out


def env_value(conn_type: str, fields: Mapping[str, Any]) -> str:
    """The value of the environment variable that gives Sling this connection."""
    return json.dumps({"type": conn_type, **fields}, sort_keys=True, default=str)


def masked(public: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """Fields for display: secrets named but never shown."""
    shown = dict(public)
    for name in secret:
        shown[name.removeprefix(URL_SECRET)] = MASK
    return shown
