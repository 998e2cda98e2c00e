"""Sling itself: the one place that talks to the `sling` binary, a module per job.

- `binary`: finds the binary (the platform wheel's, or `SLING_BINARY`) and asks its version;
- `environment`: what sling sees of the studio's environment, an allowlist;
- `confine`: what it may reach, checked before it starts (the file fence, the hosts);
- `process`: a run: its file and argv, then the process started, followed and stopped;
- `log`: its output read as it comes, each stream's outcome, secrets masked;
- `commands`: the short commands (`conns test`, `conns discover`) and their answers.

What the studio builds around them for a run, a test or a discover (the binary, the rules of
its version, the connections a run names, their secrets) is `studio.launcher`'s.
"""

from __future__ import annotations

from replication.sling.binary import find_binary, known_version, version, wheel_package
from replication.sling.commands import (
    call,
    discover_pattern,
    discovered,
    discovered_columns,
    expanded,
    preview_args,
    preview_rows,
)
from replication.sling.confine import check_reach
from replication.sling.environment import (
    HELPERS,
    STUDIO_SECRETS,
    environment,
    own_variables,
    process_environment,
)
from replication.sling.errors import RunError, SlingFailed
from replication.sling.log import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    LogReader,
    Progress,
    StreamResult,
    expansion_of,
    mask,
)
from replication.sling.process import Prepared, RunResult, execute, prepare, subset

__all__ = [
    "CANCELLED",
    "FAILED",
    "HELPERS",
    "PENDING",
    "RUNNING",
    "STUDIO_SECRETS",
    "SUCCEEDED",
    "LogReader",
    "Prepared",
    "Progress",
    "RunError",
    "RunResult",
    "SlingFailed",
    "StreamResult",
    "call",
    "check_reach",
    "discover_pattern",
    "discovered",
    "discovered_columns",
    "environment",
    "execute",
    "expanded",
    "expansion_of",
    "find_binary",
    "known_version",
    "mask",
    "own_variables",
    "prepare",
    "preview_args",
    "preview_rows",
    "process_environment",
    "subset",
    "version",
    "wheel_package",
]
