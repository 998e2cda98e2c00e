"""What the studio knows around a replication that sling would know when it runs it: the
version of sling, the connections by name (their type and schema), the environment
sling is started with (where `${VAR}` in `env` values and SLING_STATE come from), and the
file fence (`Fence`: the folders sling may use; `replication.fence` finds the local paths
a replication or connection gives sling, which this judges)."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replication.connections import DATABASE_TYPES, FILE_TYPES, type_of_url
from replication.versions import DEFAULT, Sling

DATABASE, FILE, API = "database", "file", "api"
# Sling's own connection, always there: the local file system.
BUILTIN = {"LOCAL": "file"}


# The schema a table name without one lands in, by connection type (when the
# connection sets no `schema`): what each database calls its default schema.
DEFAULT_SCHEMAS = {
    "postgres": "public",
    "redshift": "public",
    "snowflake": "public",
    "sqlite": "main",
    "d1": "main",
    "duckdb": "main",
    "motherduck": "main",
    "ducklake": "main",
    "sqlserver": "dbo",
    "azuresql": "dbo",
    "azuredwh": "dbo",
    "fabric": "dbo",
}
# Databases whose "schema" is the database itself.
_DATABASE_IS_SCHEMA = {"mysql", "mariadb", "clickhouse", "starrocks"}


def default_schema(conn_type: str | None, params: Mapping[str, Any] | None = None) -> str | None:
    """The schema an unqualified table name means on a connection: its `schema`
    setting, else the database's convention (`public`, `main`, `dbo`, ...)."""
    params = params or {}
    for name in ("schema", "database") if conn_type in _DATABASE_IS_SCHEMA else ("schema",):
        if isinstance(params.get(name), str) and params[name].strip():
            return params[name].strip()
    return DEFAULT_SCHEMAS.get(str(conn_type or "").lower())


def kind_of(conn_type: str | None) -> str | None:
    """database, file or api (None: unknown), as sling's `Type.Kind()`."""
    if conn_type in DATABASE_TYPES:
        return DATABASE
    if conn_type in FILE_TYPES or conn_type == "https":
        return FILE
    if conn_type == "api":
        return API
    return None


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A connection as naming and validation need it: its type and `schema` setting."""

    type: str | None
    schema: str | None = None  # its `schema` setting: {target_schema}
    default_schema: str | None = None  # where a table named without a schema lands

    @classmethod
    def of(cls, conn_type: str | None, params: Mapping[str, Any] | None = None) -> ConnectionInfo:
        schema = (params or {}).get("schema")
        return cls(
            conn_type,
            schema if isinstance(schema, str) and schema else None,
            default_schema(conn_type, params),
        )

    @property
    def kind(self) -> str | None:
        return kind_of(self.type)


@dataclass(frozen=True)
class Context:
    sling: Sling = DEFAULT
    # Connection name (upper case) -> what it is; the studio's and those of sling's environment.
    connections: Mapping[str, ConnectionInfo] = field(default_factory=dict)
    # The variables of the process sling runs in (not its connections).
    process_env: Mapping[str, str] = field(default_factory=dict)
    # True when only the connections above exist (the studio knows every one): a name that is
    # not among them is refused by sling. False in plain-Python use, where it cannot know.
    complete: bool = False
    # The folder sling runs in: where LOCAL's relative paths are (None: unknown).
    workdir: str | None = None
    # The folders sling may use; None: no fence (plain-Python use).
    fence: Fence | None = None

    def connection(self, name: object) -> ConnectionInfo | None:
        """What `source:` or `target:` names: a known connection, a URL, LOCAL; None if unknown."""
        if not isinstance(name, str) or not name.strip():
            return None
        name = name.strip()
        if "://" in name:
            return ConnectionInfo.of(type_of_url(name))
        upper = name.upper()
        if upper in self.connections:
            return self.connections[upper]
        if upper in BUILTIN:
            return ConnectionInfo.of(BUILTIN[upper])
        return None


# Where a path stops being literal: a glob, or a runtime variable of a target object.
_WILD = re.compile(r"[*?\[{]")


@dataclass(frozen=True, slots=True)
class Fence:
    """`roots`: the folders sling may use. `refused`: (path, what it is) never used, unless a path
    is inside one of `reopened` that is itself inside the refused one (the data folder's
    `files/`). `base`: the folder relative paths are read from (sling's working directory).
    `setting`: what to tell people to change."""

    roots: tuple[Path, ...]
    refused: tuple[tuple[Path, str], ...] = ()
    reopened: tuple[Path, ...] = ()
    base: Path = Path()
    setting: str = "STUDIO_FILE_ROOTS"

    def resolve(self, path: str | Path) -> Path:
        """The absolute path, normalised, with the symlinks of its existing parts resolved."""
        return (self.base / Path(os.path.normpath(path))).resolve()

    def refusal(self, path: str, verb: str = "use") -> str | None:
        """Why sling may not `verb` (read, write) `path` (a file, a folder, a glob or a
        template), or None. Judged on what can be known before a run: the folder a wildcard
        or variable starts in, and no `..` after it."""
        literal, wild = _split_wild(path)
        if wild and ".." in Path(wild).parts:
            return f"sling may not {verb} `{path}`: `..` after a wildcard or variable leaves its folder"
        why = self._why(self.resolve(literal or "."))
        return f"sling may not {verb} `{path}`: {why}" if why else None

    def expanded_refusal(self, path: str, verb: str = "use") -> str | None:
        """`refusal`, then the same for what `path` stands for now: each file its wildcard
        matches and, in a folder, every symlink (resolved: it may point anywhere)."""
        refused = self.refusal(path, verb)
        if refused or "{" in path:
            return refused
        full = str(self.base / path)
        matches = glob.glob(full, recursive=True) if _WILD.search(path) else [full]
        for match in matches:
            for found in _with_symlinks(Path(match)):
                resolved = found.resolve()
                why = self._why(resolved)
                if why:
                    shown = f"`{found}`" if found == resolved else f"`{found}` (a link to {resolved})"
                    return f"sling may not {verb} {shown}, found for `{path}`: {why}"
        return None

    def _why(self, resolved: Path) -> str | None:
        for folder, what in self.refused:
            if _inside(resolved, folder) and not any(
                _inside(resolved, opened) and _inside(opened, folder) and opened != folder
                for opened in self.reopened
            ):
                return f"it is {what}, never open to sling ({self.setting})"
        if not any(_inside(resolved, root) for root in self.roots):
            roots = ", ".join(str(root) for root in self.roots) or "none"
            return f"it is outside the folders open to sling ({self.setting}: {roots})"
        return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _split_wild(path: str) -> tuple[str, str]:
    """(the folder a path's wildcard or variable starts in, the rest); no wildcard: (path, "")."""
    match = _WILD.search(path)
    if match is None:
        return path, ""
    cut = path.rfind("/", 0, match.start()) + 1
    return path[:cut], path[cut:]


def _with_symlinks(path: Path) -> Iterator[Path]:
    """`path`, and when it is a folder every symlink under it (walked without following them)."""
    yield path
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            for name in dirs + files:
                entry = Path(folder) / name
                if entry.is_symlink():
                    yield entry
