"""Runtime variables in a stream's target object, expanded where they can be known
before a run (sling-cli `GetFormatMap`; reference §1.4).

Variables only a run knows (timestamps, partitions, the state of a stream)
are left as written, and `unresolved()` names them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

_VARIABLE = re.compile(r"\{([^{}\s]+)\}")
_FILE_HINT = re.compile(r"^[a-z][a-z0-9+]*://|/|\\|^file:|\.[A-Za-z0-9]{1,8}$")


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


def stream_variables(
    stream_name: str,
    *,
    source_name: str = "",
    target_name: str = "",
    target_schema: str | None = None,
    env: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The variables known before a run, for one stream."""
    values: dict[str, str] = {}
    for key, value in (env or {}).items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            values[str(key)] = str(value)
    values["source_name"] = source_name.lower()
    values["target_name"] = target_name.lower()
    if target_schema:
        values["target_schema"] = target_schema
    config = config or {}
    if isinstance(config.get("id"), str):
        values["stream_run_id"] = config["id"]
    if isinstance(config.get("description"), str):
        values["stream_description"] = config["description"]
    if isinstance(config.get("update_key"), str):
        values["update_key"] = config["update_key"]
    if is_file_stream(stream_name):
        path = re.sub(r"^[a-z][a-z0-9+]*://", "", stream_name)
        base = posixpath.basename(path.rstrip("/"))
        stem, dot, ext = base.rpartition(".")
        values.update(
            stream_name=stream_name.lower(),
            stream_full_name=stream_name,
            stream_file_path=path,
            stream_file_name=stem if dot else base,
            stream_file_ext=ext if dot else "",
            stream_file_folder=posixpath.basename(posixpath.dirname(path)),
        )
    else:
        schema, table = split_table_name(stream_name)
        values.update(
            stream_name=stream_name.replace('"', "").replace("`", "").lower(),
            stream_full_name=f"{schema}.{table}" if schema else table,
            stream_table=table,
            stream_table_lower=table.lower(),
            stream_table_upper=table.upper(),
        )
        if schema:
            values.update(
                stream_schema=schema,
                stream_schema_lower=schema.lower(),
                stream_schema_upper=schema.upper(),
            )
    return values


def render(template: str, variables: Mapping[str, str]) -> str:
    """`template` with each `{name}` whose value is known replaced by it."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), template)


def unresolved(text: str) -> list[str]:
    """Names of the `{variables}` still in `text`."""
    return _VARIABLE.findall(text)


def resolve_object(
    stream_name: str,
    effective: Mapping[str, Any],
    **context: Any,
) -> str | None:
    """The stream's target object with known variables expanded, or None without an object."""
    template = effective.get("object")
    if not isinstance(template, str) or not template:
        return None
    if "{" not in template:
        return template
    return render(template, stream_variables(stream_name, config=effective, **context))
