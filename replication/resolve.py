"""A stream's target object as sling names it (`FormatTargetObjectName`, `GetFormatMap`).

In the order sling does it, for the version it is:

1. the replication's `env` values are expanded from sling's process environment
   (`os.ExpandEnv`, so `${HOME}` works there and nowhere else), and each `{key}` of
   `env` is replaced as raw text everywhere in the file (stream names too), uncleaned;
2. the variables of the format map (which depend on whether the source and target
   are databases, file systems or APIs) are cleaned (`CleanName`: every run of
   characters but letters, digits and `_` becomes one `_`, a leading digit gets a
   `_` prefix), except the date parts, `run_timestamp`, `object_full_name` and
   `stream_full_name`, and replaced;
3. a database object is parsed as a table name (parts without upper case are lower
   cased; a space, a parenthesis or a quote outside quotes, or more than three parts,
   make it invalid); an object without schema lands in the connection's schema;
4. every `{x}` still there is deleted, but the partition variables `{part_*}`.

Variables only a run knows (the date parts, `{run_timestamp}`, `{part_*}`) are kept
as written, and `runtime_variables()` names them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from replication.config import ReplicationConfig, is_true
from replication.context import API, DATABASE, FILE, Context
from replication.versions import DEFAULT, VARIABLES, Sling

_VARIABLE = re.compile(r"\{([^{}\s]+)\}")
_LEFT = re.compile(r"\{([^}]+)\}")
_UNCLEAN = re.compile(r"[^_0-9a-zA-Z]+")
_FILE_HINT = re.compile(r"^[a-z][a-z0-9+]*://|/|\\|^file:|\.[A-Za-z0-9]{1,8}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+]*://", re.I)
_ENV_REF = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+|[*#$@!?\-]))")
# The date parts (iop.TimeLevelDescending), known only when the stream runs.
DATE_PARTS = ("YYYY", "YY", "MMM", "MM", "DD", "DDD", "HH", "hh", "mm", "ss")
RUNTIME = frozenset({*DATE_PARTS, "run_timestamp"})
_NOT_CLEANED = frozenset({*RUNTIME, "object_full_name", "stream_full_name"})
# Keys YAML 1.1 (sling's yaml.v2) reads as booleans where PyYAML reads text: no variable.
_BOOLEAN_KEYS = frozenset({"y", "Y", "n", "N"})
# Quote characters of table names by dialect (GetQualifierQuote); upper-cased dialects.
_BACKTICK = frozenset(
    {"mysql", "mariadb", "starrocks", "bigquery", "clickhouse", "proton", "athena", "databricks"}
)
_UPPER_CASED = frozenset({"oracle", "snowflake"})
_SQLISH = frozenset(" \n\t\r()'")


def clean_name(text: str) -> str:
    """sling's `iop.CleanName`: `my-file` -> `my_file`, `2024` -> `_2024`."""
    name = _UNCLEAN.sub("_", text.strip())
    return "_" + name if name[:1].isdigit() else name


def expand_env(text: str, environ: Mapping[str, str]) -> str:
    """Go's `os.ExpandEnv`: `$VAR` and `${VAR}` replaced by their value, or nothing."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) if match.group(1) is not None else match.group(2)
        return environ.get(name, "")

    return _ENV_REF.sub(value, text)


def replication_env(config: ReplicationConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """The replication's `env` as sling reads it: text values expanded from `environ`,
    each value as text, and no key that YAML 1.1 reads as a boolean."""
    env = config.env if isinstance(config.env, dict) else {}
    out = {}
    for key, value in env.items():
        if not isinstance(key, str) or key in _BOOLEAN_KEYS or isinstance(value, dict | list):
            continue
        if isinstance(value, str):
            value = expand_env(value, environ)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif value is None:
            value = ""
        out[key] = str(value)
    return out


def render_env(text: str, env: Mapping[str, str]) -> str:
    """`text` with each `{key}` of `env` replaced by its value, as raw text (uncleaned)."""
    if "{" not in text or not env:
        return text
    return _VARIABLE.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def is_wildcard(name: str) -> bool:
    return "*" in name or "?" in name


def is_file_stream(name: str) -> bool:
    """A stream named like a path or URL reads files; one like `schema.table` reads a table."""
    return bool(_FILE_HINT.search(name)) and not _is_table_name(name)


def _is_table_name(name: str) -> bool:
    return bool(re.fullmatch(r'[\w$"`\[\]*?-]+(\.[\w$"`\[\]*?-]+){0,2}', name)) and not re.search(
        r"\.(csv|json|jsonl|parquet|xlsx|xml|avro|arrow|sas7bdat|gz|zst|snappy)$", name, re.I
    )


def split_table_name(name: str) -> tuple[str, str]:
    """(schema, table) of `schema.table`, `"Schema"."Table"` or `db.schema.table`; schema may be ''."""
    parts = [p.strip('"`[]') for p in re.findall(r'"[^"]*"|`[^`]*`|\[[^\]]*\]|[^.]+', name)]
    if not parts:
        return "", ""
    if len(parts) == 1:
        return "", parts[0]
    return parts[-2], parts[-1]


class InvalidTableName(ValueError):
    """An object sling cannot read as a table name (`invalid table name: ...`)."""


def parse_table(text: str, dialect: str | None = None) -> list[str]:
    """The parts of a table name (database, schema, table) as `database.ParseTableName` reads
    them: split on dots outside quotes, a part without upper case lower-cased (upper-cased on
    Oracle and Snowflake), empty parts dropped. Raises `InvalidTableName`."""
    quote = "`" if dialect in _BACKTICK else '"'
    words: list[str] = []
    word, quoted, in_quote = "", False, False

    def add() -> None:
        nonlocal word, quoted
        if word:
            if not quoted and word == word.lower():
                word = word.upper() if dialect in _UPPER_CASED else word.lower()
            words.append(word)
        word, quoted = "", False

    for ch in text:
        if ch == quote:
            if in_quote:
                quoted = True
                add()
            in_quote = not in_quote
        elif ch == "." and not in_quote:
            add()
        elif ch in _SQLISH and not in_quote:
            raise InvalidTableName(f"invalid table name: {text}")
        else:
            word += ch
    if in_quote:
        raise InvalidTableName(f"unterminated quote in table name: {text}")
    add()
    if not words or len(words) > 3:
        raise InvalidTableName(f"invalid table name: {text}")
    return words


@dataclass(frozen=True)
class Names:
    """What sling knows of one replication when it names its streams' objects."""

    source: str = ""
    source_type: str | None = None
    source_kind: str | None = None
    target: str = ""
    target_type: str | None = None
    target_kind: str | None = None
    # The target connection's `schema` setting ({target_schema}), and where a table without
    # a schema lands (that, or the database's default).
    target_schema: str | None = None
    default_schema: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    sling: Sling = DEFAULT

    @classmethod
    def of(cls, config: ReplicationConfig, context: Context | None = None) -> Names:
        context = context or Context()
        env = replication_env(config, context.process_env)
        source = render_env(str(config.source or ""), env)
        target = render_env(str(config.target or ""), env)
        src, tgt = context.connection(source), context.connection(target)
        return cls(
            source=source,
            source_type=src.type if src else None,
            source_kind=src.kind if src else None,
            target=target,
            target_type=tgt.type if tgt else None,
            target_kind=tgt.kind if tgt else None,
            target_schema=tgt.schema if tgt else None,
            default_schema=tgt.default_schema if tgt else None,
            env=env,
            sling=context.sling,
        )

    def stream_kind(self, stream: str) -> str:
        """Whether the stream reads a table or files: the source's kind, or its name's shape."""
        if self.source_kind in (DATABASE, FILE, API):
            return self.source_kind
        return FILE if is_file_stream(stream) else DATABASE

    def object_kind(self, template: str) -> str:
        if self.target_kind in (DATABASE, FILE):
            return self.target_kind
        return FILE if is_file_stream(template) else DATABASE


def format_map(
    stream: str, effective: Mapping[str, Any], names: Names, *, single: bool = False
) -> dict[str, str]:
    """The variables sling sets for a stream (GetFormatMap), before cleaning; run-time ones
    (the date parts, {run_timestamp}) are left out. A wildcard read as one stream (`single`)
    is named after the folder its pattern starts in."""
    sling = names.sling
    m: dict[str, str] = {}
    if names.source_type:
        m["source_type"] = names.source_type
        m["source_kind"] = names.source_kind or "unknown"
    if names.target_type:
        m["target_type"] = names.target_type
        m["target_kind"] = names.target_kind or "unknown"
    if names.source:
        m["source_name"] = names.source.lower()
    if names.target:
        m["target_name"] = names.target.lower()
    if isinstance(effective.get("id"), str) and effective["id"]:
        m["stream_run_id"] = effective["id"]
    kind = names.stream_kind(stream)
    if kind == DATABASE:
        try:
            parts = parse_table(stream, names.source_type)
        except InvalidTableName:
            parts = []
        table, schema = (parts[-1], parts[-2] if len(parts) > 1 else "") if parts else ("", "")
        if schema:
            m.update(
                stream_schema=schema, stream_schema_lower=schema.lower(), stream_schema_upper=schema.upper()
            )
        if table:
            quote = "`" if names.source_type in _BACKTICK else '"'
            m.update(stream_table=table, stream_table_lower=table.lower(), stream_table_upper=table.upper())
            m["stream_full_name"] = ".".join(f"{quote}{part}{quote}" for part in parts)
        m["stream_name"] = stream.lower()
    elif kind == FILE:
        m["stream_name"] = stream.lower()
        m["stream_full_name"] = stream if _SCHEME.match(stream) else f"file://{stream}"
        path = _SCHEME.sub("", stream)
        if single and is_wildcard(path):
            path = path[: re.search(r"[*?]", path).start()].rpartition("/")[0]
        if path:
            m["stream_file_path"] = path.strip("/")
        parts = path.strip("/").split("/")
        file_name = parts[-1]
        m["stream_file_name"] = file_name
        if len(parts) > 1:
            m["stream_file_folder"] = parts[-2].strip("/")
        tokens = file_name.split(".")
        if len(tokens) > 1:
            ext = tokens[-1]
            if len(tokens) >= 3 and ext in ("gz", "zst", "snappy"):
                ext = f"{tokens[-2]}_{tokens[-1]}"
            m["stream_file_ext"] = ext
            # sling trims "." + ext: for `x.csv.gz` that is `.csv_gz`, no suffix, so nothing goes.
            m["stream_file_name"] = file_name.removesuffix("." + ext)
    else:
        m["stream_name"] = stream.lower()
    template = str(effective.get("object") or "")
    if names.object_kind(template) == DATABASE:
        m["object_name"] = template
        try:
            parts = parse_table(template, names.target_type)
        except InvalidTableName:
            parts = []
        m["object_schema"] = parts[-2] if len(parts) > 1 else ""
        m["object_table"] = parts[-1] if parts else ""
        if names.target_schema:
            m["target_schema"] = names.target_schema
            m["object_schema"] = m["object_schema"] or names.target_schema
        m["object_full_name"] = ".".join(p for p in (m["object_schema"], m["object_table"]) if p)
        m["target_table"] = m["object_table"]
    else:
        m["object_name"] = template.lower()
        m["object_full_name"] = template
    if sling.has(VARIABLES, "update_key") and isinstance(effective.get("update_key"), str):
        m["update_key"] = effective["update_key"]
    if sling.has(VARIABLES, "stream_description") and isinstance(effective.get("description"), str):
        m["stream_description"] = effective["description"]
    for key, value in names.env.items():
        if key not in m and value != "":
            m[key] = value
    return m


def resolve_object(stream: str, effective: Mapping[str, Any], names: Names | None = None) -> str | None:
    """The object sling writes for `stream` (with its `effective` config), None without an
    object. A wildcard stream has no object of its own: its stream variables show as `*`.
    Raises nothing; an object sling refuses is returned as written (`object_problem` says why)."""
    names = names or Names()
    template = effective.get("object")
    if not isinstance(template, str) or not template:
        return None
    stream = render_env(stream, names.env)
    text = render_env(template, names.env)
    if "{" in text:
        single = read_as_one({**effective, "object": text})
        variables = format_map(stream, effective, names, single=single)
        if is_wildcard(stream) and not single:
            # Known only for each stream the pattern expands to: shown as `*`.
            for key in [k for k, v in variables.items() if k.startswith("stream_") and is_wildcard(v)]:
                text = text.replace(f"{{{key}}}", "*")
        for key, value in variables.items():
            if f"{{{key}}}" in text:
                text = text.replace(f"{{{key}}}", value if key in _NOT_CLEANED else clean_name(value))
        text = text.strip()
    if names.object_kind(text) == DATABASE:
        try:
            parts = parse_table(_deleted(text), names.target_type)
        except InvalidTableName:
            return _deleted(text)
        if len(parts) == 1 and names.default_schema:
            parts.insert(0, names.default_schema)
        return ".".join(parts)
    text = _deleted(text)
    if names.target_type == "file" and not _SCHEME.match(text):
        return f"file://{text}"  # sling reads a local path as a file:// URL under its folder
    return text


def _deleted(text: str) -> str:
    """`text` without the `{x}` nothing replaced, but run-time ones (kept to show them)."""
    return _LEFT.sub(lambda m: m.group(0) if _kept(m.group(1)) else "", text)


def _kept(name: str) -> bool:
    return name in RUNTIME or name.startswith("part_")


def runtime_variables(text: str) -> list[str]:
    """The variables of a resolved object that only a run fills in (`{YYYY}`, `{run_timestamp}`)."""
    return [name for name in _VARIABLE.findall(text) if _kept(name)]


def object_problem(stream: str, effective: Mapping[str, Any], names: Names) -> str | None:
    """Why sling refuses the stream's object as a table name, or None."""
    template = effective.get("object")
    if not isinstance(template, str) or not template or names.target_kind != DATABASE:
        return None
    resolved = resolve_object(stream, effective, names) or ""
    if "://" in resolved:
        return f"`{resolved}` is no table name (sling reads `{resolved.rpartition('.')[0]}` as its schema)"
    try:
        parse_table(_LEFT.sub("", resolved), names.target_type)
    except InvalidTableName as exc:
        return str(exc)
    return None


def object_has_stream_vars(template: str) -> bool:
    """Whether a wildcard expands into one stream per match (sling's ObjectHasStreamVars);
    without these variables in its object, sling reads the whole pattern as one stream."""
    return any(
        f"{{{name}}}" in template
        for name in (
            "stream_table",
            "stream_table_lower",
            "stream_table_upper",
            "stream_name",
            "stream_file_path",
            "stream_file_name",
        )
    )


def read_as_one(effective: Mapping[str, Any]) -> bool:
    """Whether sling reads a wildcard stream as one stream (`single`, or an object without a
    stream variable) rather than one stream per match."""
    template = effective.get("object")
    return is_true(effective.get("single")) or not object_has_stream_vars(
        template if isinstance(template, str) else ""
    )


def unresolved(text: str) -> list[str]:
    """Names of the `{variables}` still in `text`."""
    return _VARIABLE.findall(text)


def relative_path(stream: str) -> str:
    """The path part of a file stream, without scheme (`file://data/a.csv` -> `data/a.csv`)."""
    return posixpath.normpath(_SCHEME.sub("", stream)) if stream else stream


def object_template(*, files: bool, target_database: bool) -> str:
    """An object for the streams of a replication that gives them none, as sling 1.4.11 names
    them: into a database, a table of the target's schema named after the source table
    (`{target_schema}` is left out on a connection without a schema), or after the file; ""
    for other targets, whose objects are paths the studio cannot guess."""
    if not target_database:
        return ""
    return "{target_schema}.{stream_file_name}" if files else "{target_schema}.{stream_schema}_{stream_table}"
