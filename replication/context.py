"""What the studio knows around a replication that sling would know when it runs it: the
version of sling, the connections by name (their type and schema), the environment
sling is started with (where `${VAR}` in `env` values and SLING_STATE come from), and the
file fence (`replication.fence.Fence`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from replication.connections import DATABASE_TYPES, FILE_TYPES, type_of_url
from replication.fence import Fence
from replication.versions import DEFAULT, Sling

if TYPE_CHECKING:
    from replication.columns import ColumnLookup

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
    # When columns were last discovered on it (None: never): a check that reads them is
    # another check once they are read again.
    columns_read: str | None = None

    @classmethod
    def of(
        cls, conn_type: str | None, params: Mapping[str, Any] | None = None, columns_read: str | None = None
    ) -> ConnectionInfo:
        schema = (params or {}).get("schema")
        return cls(
            conn_type,
            schema if isinstance(schema, str) and schema else None,
            default_schema(conn_type, params),
            columns_read,
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
    # The columns discovered on the connections (None: none known). Not compared: what it holds
    # changes with the connections' `columns_read`, which is.
    columns: ColumnLookup | None = field(default=None, compare=False, repr=False)

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
