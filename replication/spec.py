"""The keys of Sling's replication format, as facts the rest of the package reads.

Sources: sling-cli `core/sling/replication.go` and `config.go` (see
shared/reference/sling_spec.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass

from replication.versions import MODES


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One key of a stream config: the YAML shapes it accepts and what it means."""

    name: str
    shapes: tuple[str, ...]  # any of: "str", "list", "map", "bool", "str_list"
    help: str


def _spec(name: str, shapes: str, help: str) -> KeySpec:
    return KeySpec(name, tuple(shapes.split("|")), help)


# Canonical order: the order keys are emitted in (unknown keys follow, as written).
STREAM_KEYS: dict[str, KeySpec] = {
    s.name: s
    for s in (
        _spec("id", "str", "optional id; `--streams <id>` matches it"),
        _spec("description", "str", "free text, available as {stream_description}"),
        _spec("mode", "str", "load mode: " + ", ".join(MODES)),
        _spec("object", "str", "target table (schema.table) or file path/URL; may use {variables}"),
        _spec("primary_key", "str|str_list", "merge key column(s)"),
        _spec("update_key", "str", "incremental watermark column"),
        _spec("sql", "str", "custom source query; the stream name becomes a label"),
        _spec("select", "str_list", "columns to keep, or `-col` to drop"),
        _spec("where", "str", "WHERE clause appended to the source read"),
        _spec("files", "str_list", "include/exclude file list for file sources"),
        _spec("columns", "map", "column types to cast to, e.g. {id: bigint}"),
        _spec("transforms", "list|map", "transforms: a list, a per-column map or staged maps"),
        _spec("source_options", "map", "options of the source read"),
        _spec("target_options", "map", "options of the target write"),
        _spec("change_capture_options", "map", "CDC settings (change-capture mode)"),
        _spec("single", "bool", "treat a wildcard/glob as one stream"),
        _spec("disabled", "bool", "skip this stream"),
        _spec("tags", "str_list", "tags for `--streams tag:x` selection"),
        _spec("schedule", "str", "schedule, stored for the Sling platform"),
        _spec("hooks", "map", "stream hooks: pre, post, pre_merge, post_merge"),
        _spec("meta", "map", "free metadata; meta.dagster is read by dagster-sling"),
    )
}

# Keys whose maps merge key by key under defaults (stream wins); every other key
# is taken from defaults only when the stream does not have it at all.
MERGED_OPTION_KEYS = ("source_options", "target_options", "change_capture_options")
# (Which of these keys each version of sling knows, and how it merges them: `versions`.)

TOP_KEYS = ("source", "target", "defaults", "hooks", "streams", "env")

REPLICATION_HOOK_KEYS = ("start", "end")
STREAM_HOOK_KEYS = ("pre", "post", "pre_merge", "post_merge")
HOOK_TYPES = (
    "query",
    "command",
    "http",
    "copy",
    "delete",
    "write",
    "log",
    "check",
    "inspect",
    "list",
    "read",
    "replication",
    "store",
    "group",
    "routine",
)

DAGSTER_META_KEYS = (
    "asset_key",
    "deps",
    "group",
    "description",
    "freshness_policy",
    "auto_materialize_policy",
)

SOURCE_OPTION_KEYS = (
    "format",
    "header",
    "delimiter",
    "escape",
    "quote",
    "compression",
    "encoding",
    "empty_as_null",
    "null_if",
    "datetime_format",
    "skip_blank_lines",
    "skip_lines",
    "jmespath",
    "jq",
    "flatten",
    "sheet",
    "range",
    "limit",
    "offset",
    "chunk_size",
    "chunk_count",
    "chunk_expr",
    "max_decimals",
    "fields_per_rec",
    "columns",
    "transforms",
)

TARGET_OPTION_KEYS = (
    "column_casing",
    "add_new_columns",
    "adjust_column_type",
    "use_bulk",
    "direct_insert",
    "table_keys",
    "table_ddl",
    "table_tmp",
    "pre_sql",
    "post_sql",
    "merge_strategy",
    "isolation_level",
    "delete_missing",
    "ignore_existing",
    "format",
    "compression",
    "header",
    "delimiter",
    "file_max_rows",
    "file_max_bytes",
    "batch_limit",
    "concurrency",
    "encoding",
    "datetime_format",
    "max_decimals",
    "column_typing",
    "batch_size",
)
