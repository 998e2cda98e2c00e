"""Streams of one run side by side: how many sling processes a connection takes at once, which
replications must stay one process, and how many streams a process takes at a time.

Sling 1.4.11 runs a file's streams one after another, and a process costs about 0.25 s to start
on 2 cores, so a process per stream does not pay for small streams. Each process of a run takes
its share of the streams still waiting (`batch`: "guided self-scheduling", the remaining streams
over the run's processes, at least one): big batches first, single streams last, so a process
that finishes early takes the next ones and the run pays for few starts.
"""

from __future__ import annotations

import math

from replication.config import ReplicationConfig
from replication.connections import FILE_TYPES

# A database file takes one writer at a time: two sling processes on one SQLite or DuckDB file
# fail with "database is locked".
FILE_DATABASES = frozenset({"sqlite", "duckdb", "motherduck", "ducklake"})
# A server database: sling opens a few connections per stream; 8 at once stays well inside a
# default PostgreSQL's 100 connections.
SERVER_LIMIT = 8
# The highest limit a connection may be given.
MAX_STREAMS = 1000
# Sling settings of `env:` whose state spans the streams of a run.
SPANNING_ENV = ("SLING_STATE",)


def default_limit(conn_type: str) -> int | None:
    """How many processes may use a connection of `conn_type` at once (None: no limit, as for
    files and object stores: streams of a run writing one path never run side by side,
    `Run`'s claim sees to it)."""
    kind = conn_type.lower()
    if kind in FILE_DATABASES:
        return 1
    if kind in FILE_TYPES or kind in ("local", ""):
        return None
    return SERVER_LIMIT


def one_process_reason(config: ReplicationConfig) -> str:
    """Why `config` must run in one sling process ('' when its streams may run apart)."""
    points = [point for point in ("start", "end") if (config.hooks or {}).get(point)]
    if points:
        return f"its hooks ({', '.join(points)}) run once around all streams"
    spanning = [name for name in SPANNING_ENV if name in (config.env or {})]
    if spanning:
        return f"its `env: {spanning[0]}` keeps state across streams"
    return ""


def batch(remaining: int, processes: int) -> int:
    """How many of `remaining` streams a process takes now, `processes` sharing them."""
    return max(1, math.ceil(remaining / max(1, processes)))
