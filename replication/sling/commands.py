"""Short sling commands (`conns test`, `conns discover`, a preview to stdout): run to their end,
their output read."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from replication.columns import Column
from replication.sling.errors import RunError, SlingFailed
from replication.sling.log import ANSI, mask
from replication.sling.sandbox import Rules, run_to_end


def call(
    binary: str,
    args: Iterable[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    secrets: Iterable[str] = (),
    timeout: float = 60,
    rules: Rules | None = None,
) -> str:
    """Run `sling <args>` to its end with JSON output (confined to `rules` when given): its
    stdout, or SlingFailed."""
    args = list(args)
    if any("\x00" in arg for arg in args):
        raise RunError("a NUL character cannot be given to sling")
    env = dict(env)
    env.pop("SLING_LOGGING", None)
    env.pop("SLING_SHOW_PROGRESS", None)
    env["SLING_OUTPUT"] = "json"
    try:
        done = run_to_end([binary, *args], env=env, cwd=cwd, timeout=timeout, rules=rules)
    except subprocess.TimeoutExpired:
        raise SlingFailed(f"sling did not answer within {timeout:.0f} s") from None
    except OSError as exc:
        raise RunError(f"cannot start sling ({binary}): {exc.strerror}") from None
    if done.returncode != 0:
        lines = [line.strip("~ ") for line in ANSI.sub("", done.stderr).splitlines() if line.strip()]
        detail = " ".join(line for line in lines if not line.startswith(("fatal", "INF", "DBG")))[-500:]
        raise SlingFailed(mask(detail or f"sling exited with {done.returncode}", secrets))
    return done.stdout


def _rows(output: str) -> list[dict[str, Any]]:
    try:
        table = json.loads(output.strip().splitlines()[-1]) if output.strip() else {"fields": [], "rows": []}
        fields = [str(f).lower() for f in table["fields"]]
        return [dict(zip(fields, row, strict=False)) for row in table["rows"]]
    except (ValueError, KeyError, TypeError, IndexError):
        raise SlingFailed("could not read what sling discovered") from None


def discovered(output: str, *, files: bool) -> list[str]:
    """Stream names in what `sling conns discover` printed: tables as `schema.table`,
    files as paths (`file://` paths when `files` are local)."""
    rows = _rows(output)
    if rows and "schema" in rows[0]:
        return [f"{row['schema']}.{row['name']}" for row in rows]
    prefix = "file://" if files else ""
    return [f"{prefix}{row['name']}" for row in rows]


def discover_pattern(stream: str) -> str:
    """The `--pattern` sling discovers a wildcard stream with (`ProcessWildcards`): a file
    pattern without its `file://`."""
    return stream[len("file://") :] if stream.lower().startswith("file://") else stream


def expanded(output: str, *, quote: str = '"') -> list[str]:
    """The streams a wildcard expands into, named as sling names them, from what discovering
    its pattern printed: tables as `"schema"."table"`, files as their plain path."""
    rows = _rows(output)
    if rows and "schema" in rows[0]:
        return [f"{quote}{row['schema']}{quote}.{quote}{row['name']}{quote}" for row in rows]
    return [str(row["name"]) for row in rows]


def discovered_columns(output: str) -> list[tuple[str, Column]]:
    """(table or file, column) for each row of `sling conns discover --columns`: a table as
    `schema.table`, a file as sling names it (`file://...`), in sling's order."""
    found = []
    for row in _rows(output):
        owner = f"{row['schema']}.{row['table']}" if "table" in row else str(row.get("file", ""))
        native = str(row.get("native type") or "")
        column = Column(
            str(row["column"]), str(row.get("general type") or ""), "" if native == "-" else native
        )
        found.append((owner, column))
    return found


def preview_args(connection: str, stream: str, *, limit: int, select: list[str] | None = None) -> list[str]:
    """`sling run` printing the first `limit` rows of `stream` read from `connection` as CSV."""
    args = ["run", "--src-conn", connection, "--src-stream", stream, "--stdout", "--limit", str(limit)]
    return [*args, "--select", ",".join(select)] if select else args


def preview_rows(output: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of what `sling run --stdout` printed (CSV)."""
    table = list(csv.reader(io.StringIO(output)))
    return (table[0], table[1:]) if table else ([], [])
