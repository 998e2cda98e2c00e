"""What a sling process sees of the world through its environment: an allowlist.

The connections it is given (one variable each), Sling's own settings, its home (also
`HOME`, so no `~/.dbt` or `~/.ssh` of the studio's user is read), JSON logs and a few process
variables; nothing else of the studio's environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from replication.config import references
from replication.sling.errors import RunError

# What sling gets of the studio's environment: the variables a process needs to run, and
# Sling's own settings (`SLING_*`) but those that name connections or the studio's binary.
PASSED = frozenset(
    {"PATH", "TZ", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"}
    # Sling's settings without its prefix: the helper binaries it runs, and how.
    | {
        "SQLITE_PATH",
        "DUCKDB_PATH",
        "DUCKDB_VERSION",
        "DUCKDB_USE_INSTALLED_EXTENSIONS",
        "DUCKDB_USE_TMP_FILE",
    }
)
NOT_PASSED = frozenset({"SLING_ENV_YAML", "SLING_BINARY", "SLING_HOME_DIR"})
# The studio's own secrets: never sling's, not even as a connection a replication names.
STUDIO_SECRETS = frozenset(
    {"SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "STUDIO_ENCRYPTION_KEYS", "STUDIO_ENCRYPTION_KEYS_FILE"}
)


def process_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """What sling's process sees of `base` (the studio's environment), an allowlist: a few
    process variables and Sling's own settings, nothing else."""
    base = os.environ if base is None else base
    return {
        name: value
        for name, value in base.items()
        if name in PASSED or (name.startswith("SLING_") and name not in NOT_PASSED)
    }


def environment(
    connections: Mapping[str, str],
    *,
    home: Path,
    base: Mapping[str, str] | None = None,
    text: str = "",
) -> dict[str, str]:
    """The environment for sling: `process_environment`, its home (also HOME, so no `~/.dbt` or
    `~/.ssh` of the studio's user is read), JSON logs, and `connections` (variable name -> value).

    RunError when `text` (the replication file) or a connection refers to a variable that holds a
    connection: sling would put that connection, secrets and all, in its place."""
    env = process_environment(base)
    home.mkdir(parents=True, exist_ok=True)
    # The progress bar is drawn on a terminal only, unless asked for (cmd/sling/sling_cli.go).
    env.update(
        HOME=str(home),
        SLING_HOME_DIR=str(home),
        SLING_LOGGING="JSON",
        NO_COLOR="1",
        SLING_SHOW_PROGRESS="true",
    )
    places = [
        ("the replication", text),
        *((f"connection {name}", value) for name, value in connections.items()),
    ]
    for place, value in places:
        # Sling replaces `$NAME` and `${NAME}` with the variable NAME of its environment: a
        # connection field written so, the values of the `env:` map, the text of a task (where a
        # `$NAME` inside a longer word is replaced too).
        for name in references(value, connections):
            raise RunError(
                f"{place} refers to ${name}: sling would replace it with connection {name}, "
                "secrets included; write the value itself"
            )
    env.update(connections)
    return env
