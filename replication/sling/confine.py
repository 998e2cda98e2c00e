"""What sling may reach, checked before it starts: every local path a run gives it inside the
file fence as things are now, every host its connections name open to connections
(`replication.fence`, `replication.local_paths`, `replication.reach`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from replication.config import ReplicationConfig
from replication.fence import Fence
from replication.local_paths import connection_paths, replication_paths
from replication.problems import format_path
from replication.reach import Reach, connection_hosts
from replication.resolve import Names
from replication.sling.errors import RunError


def check_reach(
    fence: Fence,
    reach: Reach,
    replication: ReplicationConfig | None = None,
    *,
    names: Names | None = None,
    connections: Iterable[tuple[str, str, Mapping[str, Any]]] = (),
) -> None:
    """RunError unless the replication's `env:` sets none of sling's settings, every local path
    the run gives sling is inside the fence as things are now (wildcards expanded, folders walked,
    symlinks resolved) and every host its connections name may be reached. `names`: how sling
    names the replication's streams and objects; `connections`: (name, type, fields) of those the
    run uses."""
    names = names or Names()
    env = replication.env if replication is not None and isinstance(replication.env, dict) else {}
    for key in env:
        refused = isinstance(key, str) and names.sling.env_refusal(key)
        if refused:
            raise RunError(f"env.{key}: {refused}")
    paths = replication_paths(replication, names) if replication is not None else ()
    for where, verb, path in paths:
        refused = fence.expanded_refusal(path, verb)
        if refused:
            raise RunError(f"{format_path(where)}: {refused}")
    for name, conn_type, fields in connections:
        for field, path in connection_paths(conn_type, fields):
            refused = path and fence.refusal(path)
            if refused:
                raise RunError(f"connection {name}, {field}: {refused}")
        for host in connection_hosts(fields):
            refused = reach.refusal(host)
            if refused:
                raise RunError(f"connection {name}: {refused}")
