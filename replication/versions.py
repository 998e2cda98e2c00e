"""Sling's replication format and what each version of sling knows of it, from v1.4.11 (the
version the platform wheel ships) to v1.5.23: the top-level keys, the stream keys (with the
YAML shapes of their values), modes, options, hook points and types, object variables, and
the rules that changed between versions.

Read from sling-cli's Go source (`core/sling/replication.go`, `config.go`; see
shared/reference/sling_spec.md §1), tag by tag (the first tag that has each item; nothing
was removed in this range), and for hook types, which are closed source, measured on
the 1.4.11 binary. `Sling(version)` answers for one version; validation and naming ask
it, so pointing the studio at another binary changes the rules with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _all(first: str, *items: str) -> dict[str, str]:
    return dict.fromkeys(items, first)


# The version the `sling-<os>-<arch>` wheel of pyproject.toml ships, and the oldest known here.
SHIPPED = "1.4.11"
# The newest release these rules were read from: of a later one they know nothing, and say so.
KNOWN_UP_TO = "1.5.23"

MODES = {
    "full-refresh": "1.4.11",
    "incremental": "1.4.11",
    "truncate": "1.4.11",
    "snapshot": "1.4.11",
    "backfill": "1.4.11",
    "definition-only": "1.5.5",
    "change-capture": "1.5.9",
}


@dataclass(frozen=True, slots=True)
class StreamKey:
    """A key of a stream config: the YAML shapes its value may have (any of "str", "str_list",
    "list", "map", "bool") and the first sling version that reads it (None: not sling's key)."""

    shapes: tuple[str, ...]
    since: str | None


def _key(shapes: str, since: str | None) -> StreamKey:
    return StreamKey(tuple(shapes.split("|")), since)


# In the order a stream's keys are written out (`config.canonical_stream`; unknown keys follow).
STREAM_KEYS = {
    "id": _key("str", "1.4.11"),
    "description": _key("str", "1.4.11"),
    "mode": _key("str", "1.4.11"),
    "object": _key("str", "1.4.11"),
    "primary_key": _key("str|str_list", "1.4.11"),
    "update_key": _key("str", "1.4.11"),
    "sql": _key("str", "1.4.11"),
    "select": _key("str_list", "1.4.11"),
    "where": _key("str", "1.4.11"),
    "files": _key("str_list", "1.4.11"),
    "columns": _key("map", "1.4.11"),
    "transforms": _key("list|map", "1.4.11"),
    "source_options": _key("map", "1.4.11"),
    "target_options": _key("map", "1.4.11"),
    "change_capture_options": _key("map", "1.5.9"),
    "single": _key("bool", "1.4.11"),
    "disabled": _key("bool", "1.4.11"),
    "tags": _key("str_list", "1.4.11"),
    "schedule": _key("str", "1.4.11"),
    "hooks": _key("map", "1.4.11"),
    # dagster-sling reads `meta.dagster` (`translator.DAGSTER_META_KEYS`); sling keeps it as is.
    "meta": _key("map", None),
}
# The same keys as a version table (`Sling.has`, `Sling.newer`): sling's keys only.
STREAM_KEY_VERSIONS = {name: key.since for name, key in STREAM_KEYS.items() if key.since is not None}
# Keys whose maps merge key by key under defaults (stream wins); every other key is taken
# from defaults only when the stream does not have it at all (`config.effective_config`).
MERGED_OPTION_KEYS = ("source_options", "target_options", "change_capture_options")
TOP_KEYS = ("source", "target", "defaults", "hooks", "streams", "env")
SOURCE_OPTIONS = {
    **_all(
        "1.4.11",
        "empty_as_null",
        "header",
        "flatten",
        "fields_per_rec",
        "compression",
        "format",
        "null_if",
        "datetime_format",
        "skip_blank_lines",
        "delimiter",
        "escape",
        "quote",
        "max_decimals",
        "jmespath",
        "sheet",
        "range",
        "limit",
        "offset",
        "chunk_size",
        "columns",
        "transforms",
    ),
    "encoding": "1.4.13",
    "chunk_count": "1.4.14",
    "chunk_expr": "1.4.14",
    "jq": "1.5.7",
    "skip_lines": "1.5.21",
}
TARGET_OPTIONS = {
    **_all(
        "1.4.11",
        "header",
        "compression",
        "concurrency",
        "batch_limit",
        "datetime_format",
        "delimiter",
        "file_max_rows",
        "file_max_bytes",
        "format",
        "max_decimals",
        "use_bulk",
        "ignore_existing",
        "delete_missing",
        "add_new_columns",
        "adjust_column_type",
        "column_casing",
        "column_typing",
        "table_keys",
        "table_tmp",
        "table_ddl",
        "pre_sql",
        "post_sql",
        "isolation_level",
    ),
    "encoding": "1.4.13",
    "direct_insert": "1.4.14",
    "merge_strategy": "1.4.20",
    "batch_max_duration": "1.5.23",
}
# The source option keys a stream with source_options of its own still takes from `defaults`
# (SourceOptions.SetDefaults); `format`, `flatten`, `limit`, `offset`, `chunk_size` and
# `chunk_expr` never are, in any version here.
SOURCE_OPTIONS_INHERITED = {
    **_all(
        "1.4.11",
        "empty_as_null",
        "header",
        "compression",
        "null_if",
        "fields_per_rec",
        "jmespath",
        "sheet",
        "range",
        "datetime_format",
        "skip_blank_lines",
        "delimiter",
        "escape",
        "quote",
        "max_decimals",
        "columns",
        "transforms",
    ),
    "encoding": "1.4.13",
    "chunk_count": "1.4.14",
    "jq": "1.5.7",
    "skip_lines": "1.5.21",
}
REPLICATION_HOOK_POINTS = {"start": "1.4.11", "end": "1.4.11"}
STREAM_HOOK_POINTS = {"pre": "1.4.11", "post": "1.4.11", "pre_merge": "1.4.24", "post_merge": "1.4.24"}
# Measured on the 1.4.11 binary; `run` and `routine`: the first tag whose docs use them.
HOOK_TYPES = {
    **_all(
        "1.4.11",
        "log",
        "query",
        "command",
        "http",
        "copy",
        "delete",
        "write",
        "check",
        "inspect",
        "list",
        "read",
        "replication",
        "store",
        "group",
    ),
    "run": "1.4.20",
    "routine": "1.5.0",
}
# The fields each hook type cannot do without (any one of them), as the 1.4.11 binary says
# ("missing url for hook"): `delete`, `inspect` and `list` take a `location` (`CONN/path`) or
# a `connection` (with `path`).
HOOK_REQUIRED = {
    "log": ("message",),
    "query": ("connection",),
    "command": ("command",),
    "http": ("url",),
    "copy": ("from",),
    "delete": ("connection", "location"),
    "write": ("to",),
    "check": ("check",),
    "inspect": ("location", "connection"),
    "list": ("location", "connection"),
    "read": ("from",),
    "replication": ("path",),
    "store": ("key",),
    "group": ("steps",),
}
# Object variables the format map has (GetFormatMap), besides the date parts and env keys.
VARIABLES = {
    **_all(
        "1.4.11",
        "run_timestamp",
        "source_type",
        "source_kind",
        "source_name",
        "target_type",
        "target_kind",
        "target_name",
        "stream_run_id",
        "stream_schema",
        "stream_schema_lower",
        "stream_schema_upper",
        "stream_table",
        "stream_table_lower",
        "stream_table_upper",
        "stream_full_name",
        "stream_name",
        "stream_file_path",
        "stream_file_name",
        "stream_file_folder",
        "stream_file_ext",
        "stream_scanner",
        "source_bucket",
        "source_account",
        "source_container",
        "object_name",
        "object_schema",
        "object_table",
        "object_full_name",
        "target_schema",
        "target_table",
        "target_bucket",
        "target_account",
        "target_container",
    ),
    "update_key": "1.4.25",
    "object_temp_schema": "1.4.25",
    "object_temp_table": "1.4.25",
    "object_temp_full_name": "1.4.25",
    "stream_description": "1.5.5",
}
# Variables sling reads from its environment as settings that decide what it runs (its helper
# programs), where it reads its configuration and secrets or writes scratch files, what it prints,
# or where it sends reports; read from sling-cli's source (`os.Getenv` at each tag). A
# replication's `env:` may not set them: sling puts `env:` into its own environment before it
# starts its helpers. (Settings of a load, `SLING_THREADS`, `SLING_STATE`, `SLING_LOADED_AT_COLUMN`
# and the like, stay open: real replication files set them; so does `SLING_LOGGING`, whose lines
# the studio reads whatever their format.)
ENV_SETTINGS = {
    # Helper programs, and how they are fetched and run.
    **_all("1.4.11", "SQLITE_PATH", "DUCKDB_PATH", "DUCKDB_VERSION", "DUCKDB_USE_INSTALLED_EXTENSIONS"),
    "DUCKDB_USE_TMP_FILE": "1.4.11",
    # Its home, configuration and credentials files, scratch files.
    **_all(
        "1.4.11",
        "SLING_HOME_DIR",
        "SLING_ENV_YAML",
        "ENV_YAML",
        "DBIO_HOME",
        "DBT_PROFILES_DIR",
        "PROFILE_PATHS",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "SLING_TEMP_DIR",
        "SLING_TEMP_CLOUD_FOLDER",
        "SLING_KEEP_TEMP",
    ),
    # Debugging: what it prints of itself (connections included), profiling, where it reports.
    **_all("1.4.11", "DEBUG", "_DEBUG_CALLER_LEVEL", "SLING_PPROF", "SENTRY_DSN"),
    # Who it is and what it runs: set by sling (or the studio) for the run itself.
    **_all(
        "1.4.11",
        "SLING_CLI",
        "SLING_CLI_ARGS",
        "SLING_EXEC_ID",
        "SLING_TASK_CONFIG",
        "SLING_REPLICATION_ID",
        "SLING_REPLICATION_NAME",
        "SLING_REPLICATION_TASKS",
        "SLING_THREAD_CHILD",
        "SLING_PACKAGE",
        "SLING_TEST_ENDPOINTS",
        "SLING_PROJECT_ID",
        "dbio_API_KEY",
    ),
}
# What the programs sling starts, and sling's own runtime, read as settings whatever the version:
# the loader (`LD_PRELOAD`...), where programs and files are found, proxies for its connections.
PROCESS_SETTINGS = frozenset(
    {"PATH", "HOME", "TMPDIR", "GCONV_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "GODEBUG", "GOTRACEBACK"}
    | {
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    }
)
PROCESS_SETTING_PREFIXES = ("LD_", "DYLD_")

# Rules that changed, and the first version with the new behaviour.
FEATURES = {
    # `- log: msg` (the type taken from the key); before, an item without `type` is refused.
    "hook_shorthand": "1.5.0",
    # `command: "echo hi"` as text; 1.4.11 wants a list. (Docs show text from 1.4.18; the parser
    # is closed source, so that is where the studio starts taking it.)
    "command_as_text": "1.4.18",
    # pre/post written under the top-level `hooks`: refused from here, silently ignored before.
    "stream_hooks_at_top_refused": "1.4.25",
    # a stream's empty `hooks: {}` takes the defaults' hooks; before, only a stream without the key.
    "empty_hooks_inherit": "1.5.0",
    # `+name` columns of a stream merge with defaults.columns; before, the stream's replace them.
    "plus_columns_merge": "1.5.12",
    # a wildcard written `schema.*:` (no config) with a var-less defaults object no longer crashes.
    "null_wildcard_fixed": "1.4.25",
    # update_key `_sling_synced_at` waives incremental keys of file streams (as _sling_loaded_at does).
    "synced_at_waiver": "1.5.5",
    # nested variables ({stream.table}, {env.X}) rendered by an expression evaluator.
    "nested_variables": "1.5.0",
}


def parse_version(text: str) -> tuple[int, ...]:
    """`1.4.11` (or `Version: v1.4.11-dev`) -> (1, 4, 11); ValueError when it has no version."""
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not match:
        raise ValueError(f"no version in {text!r}")
    return tuple(int(part or 0) for part in match.groups())


@dataclass(frozen=True, slots=True)
class Sling:
    """The rules of one sling version."""

    version: str = SHIPPED

    @property
    def number(self) -> tuple[int, ...]:
        return parse_version(self.version)

    def since(self, first: str) -> bool:
        return self.number >= parse_version(first)

    def has(self, table: dict[str, str], item: str) -> bool:
        return item in table and self.since(table[item])

    def known(self, table: dict[str, str]) -> list[str]:
        """The items of `table` this version knows, in the table's order."""
        return [item for item, first in table.items() if self.since(first)]

    def newer(self, table: dict[str, str], item: str) -> str | None:
        """`"`x` needs sling 1.5.9 or newer; this studio runs 1.4.11"` for an item of a later
        version, None when this version knows it or no version does."""
        first = table.get(item)
        if first is None or self.since(first):
            return None
        return f"`{item}` needs sling {first} or newer; this studio runs {self.version}"

    def feature(self, name: str) -> bool:
        return self.since(FEATURES[name])

    @property
    def unknown(self) -> str | None:
        """For a release newer than these rules: that what it changed is not known here (said,
        never guessed); None for a release they cover."""
        if self.number <= parse_version(KNOWN_UP_TO):
            return None
        return (
            f"sling {self.version} is newer than the rules known here (up to {KNOWN_UP_TO}): what "
            "later releases added, changed or refuse is not checked (a key or mode they added is "
            "reported as unknown)"
        )

    def env_refusal(self, name: str) -> str | None:
        """Why a replication's `env:` may not set `name` (something sling, or a program it starts,
        reads as a setting of its own), or None."""
        if (
            self.has(ENV_SETTINGS, name)
            or name in PROCESS_SETTINGS
            or name.startswith(PROCESS_SETTING_PREFIXES)
        ):
            return (
                f"`{name}` is a setting sling {self.version} (or a program it starts) reads from its "
                "environment: a replication's `env:` may not set it on this server (the studio's "
                "operator sets sling's settings)"
            )
        return None


DEFAULT = Sling(SHIPPED)


def _releases() -> tuple[str, ...]:
    """Every release at which these rules change (the first tag of an item or a feature), in order."""
    tables: list[dict[str, str]] = [
        MODES,
        STREAM_KEY_VERSIONS,
        SOURCE_OPTIONS,
        TARGET_OPTIONS,
        REPLICATION_HOOK_POINTS,
        STREAM_HOOK_POINTS,
        HOOK_TYPES,
        VARIABLES,
        ENV_SETTINGS,
        FEATURES,
    ]
    found = {SHIPPED, KNOWN_UP_TO}
    for table in tables:
        found |= {first for first in table.values() if isinstance(first, str)}
    return tuple(sorted(found, key=parse_version))


# The releases where what sling accepts or how it reads a file changes (SHIPPED and KNOWN_UP_TO
# included): an upgrade's changes happen at one of them.
RELEASES = _releases()
