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

# The helper programs sling runs, named by these variables (the studio's environment names them).
HELPERS = ("SQLITE_PATH", "DUCKDB_PATH")
# What sling gets of the studio's environment: the variables a process needs to run, and
# Sling's own settings (`SLING_*`) but those that name connections or the studio's binary.
PASSED = frozenset(
    {"PATH", "TZ", "LANG", "LC_ALL", "LC_CTYPE", "SSL_CERT_FILE", "SSL_CERT_DIR"}
    # Sling's settings without its prefix: the helper binaries it runs, and how.
    | {*HELPERS, "DUCKDB_VERSION", "DUCKDB_USE_INSTALLED_EXTENSIONS", "DUCKDB_USE_TMP_FILE"}
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


def own_variables(home: Path, temp: Path | None = None) -> dict[str, str]:
    """What the studio sets in sling's environment itself: its home, temporary folder and log
    format. (Sling expands `$HOME` in an `env:` value to this home, not the studio's.)"""
    # The progress bar is drawn on a terminal only, unless asked for (cmd/sling/sling_cli.go).
    return {
        "HOME": str(home),
        "SLING_HOME_DIR": str(home),
        "TMPDIR": str(temp or home / "tmp"),
        "SLING_LOGGING": "JSON",
        "NO_COLOR": "1",
        "SLING_SHOW_PROGRESS": "true",
    }


def environment(
    connections: Mapping[str, str],
    *,
    home: Path,
    base: Mapping[str, str] | None = None,
    text: str = "",
    temp: Path | None = None,
) -> dict[str, str]:
    """The environment for sling: `process_environment`, its home (also HOME, so no `~/.dbt` or
    `~/.ssh` of the studio's user is read), its temporary folder (`temp`, else its home's `tmp/`:
    a folder of its own, where the kernel lets it write), JSON logs, and `connections` (variable
    name -> value).

    RunError when `text` (the replication file) or a connection refers to a variable that holds a
    connection: sling would put that connection, secrets and all, in its place."""
    temp = temp or home / "tmp"
    temp.mkdir(parents=True, exist_ok=True)
    env = {**process_environment(base), **own_variables(home, temp)}
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
