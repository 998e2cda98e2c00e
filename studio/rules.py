"""The domain rules as this studio is configured: its translator, what sling may reach (files,
hosts) and validation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings

from replication.config import ReplicationConfig
from replication.fence import Fence
from replication.reach import Reach
from replication.translator import DagsterSlingTranslator, load_translator
from replication.validate import ERROR, LineOf, Problem, validate
from studio import models


def translator() -> DagsterSlingTranslator:
    """dagster-sling's translator, or the one `SLING_STUDIO_TRANSLATOR` names."""
    return load_translator(settings.SLING_STUDIO_TRANSLATOR)


def fence() -> Fence:
    """The folders sling may use (`STUDIO_FILE_ROOTS`), and what it never may."""
    refused: list[tuple[Path, str]] = [(Path(p), f"in {p}") for p in ("/proc", "/sys", "/dev")]
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and not str(database["NAME"]).startswith(("file:", ":memory:")):
        name = Path(database["NAME"]).resolve()
        refused += [
            (Path(f"{name}{suffix}"), "the studio's database") for suffix in ("", "-wal", "-shm", "-journal")
        ]
    for variable in ("SECRET_KEY_FILE", "STUDIO_ENCRYPTION_KEYS_FILE"):
        if os.environ.get(variable):
            refused.append((Path(os.environ[variable]).resolve(), f"the studio's key file ({variable})"))
    refused.append((settings.DATA_DIR, "in the studio's data folder"))
    return Fence(
        roots=tuple(settings.STUDIO_FILE_ROOTS),
        refused=tuple(refused),
        reopened=(settings.DATA_DIR / "files",),
        base=settings.BASE_DIR,
    )


def reach() -> Reach:
    """The hosts connections may send sling to (`STUDIO_CONNECTION_HOSTS`)."""
    return Reach(tuple(settings.STUDIO_CONNECTION_HOSTS))


def file_connections(*names: Any) -> tuple[str, ...]:
    """Which of `names` are `file` connections, the local disk like LOCAL (their streams and
    objects are paths)."""
    return tuple(name for name, c in models.Connection.named(*names).items() if c.type == "file")


def check(
    config: ReplicationConfig, line_of: LineOf | None = None, local_connections: tuple[str, ...] | None = None
) -> list[Problem]:
    """Every problem of `config`, with lines where `line_of` knows them. `local_connections`:
    which of its connections are `file` ones, when the caller knows (else one query)."""
    if local_connections is None:
        local_connections = file_connections(config.source, config.target)
    return validate(config, line_of, translator(), fence(), local_connections)


def blocking(problems: list[Problem]) -> list[Problem]:
    """The errors that refuse a save. A replication without streams yet is a draft, not an error."""
    return [p for p in problems if p.severity == ERROR and p.code != "no-streams"]
