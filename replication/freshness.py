"""Freshness: how old a stream's last success may be before the stream is stale.

A stream's own limit is its `meta.dagster.freshness_policy.maximum_lag_minutes`
(`defaults.meta.dagster` merged under the stream's, as dagster-sling reads it), which
dagster users already write; the studio's setting covers the other streams.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from replication.config import ReplicationConfig
from replication.translator import dagster_meta, stream_definitions


def dagster_lags(replication: ReplicationConfig) -> dict[str, float]:
    """{stream name: maximum lag in minutes} for the enabled streams whose dagster metadata sets one."""
    lags = {}
    for definition in stream_definitions(replication):
        policy = dagster_meta(definition).get("freshness_policy")
        lag = policy.get("maximum_lag_minutes") if isinstance(policy, dict) else None
        if isinstance(lag, int | float) and not isinstance(lag, bool) and lag > 0:
            lags[str(definition["name"])] = float(lag)
    return lags


def stream_lags(replication: ReplicationConfig, default: float | None) -> dict[str, float]:
    """{stream name: maximum lag in minutes} for every enabled stream that has one: its
    dagster freshness policy, else `default` (the studio's setting; None for no limit)."""
    own = dagster_lags(replication)
    if default is None:
        return own
    names = [str(d["name"]) for d in stream_definitions(replication)]
    return {name: own.get(name, default) for name in names}


def stale_since(
    *, last_success: datetime | None, known_since: datetime, lag_minutes: float, now: datetime
) -> datetime | None:
    """When the stream became stale (None: it is fresh). Without any success the clock
    runs from `known_since` (when the studio first had the stream)."""
    since = (last_success or known_since) + timedelta(minutes=lag_minutes)
    return since if since < now else None
