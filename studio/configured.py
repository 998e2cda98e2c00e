"""The studio's settings turned into the domain's objects: the sling binary it runs and the
rules of its version, the folders and hosts sling may reach, and the translator of asset keys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from replication import sling as sling_binary
from replication.fence import Fence
from replication.reach import Reach
from replication.versions import DEFAULT, Sling

if TYPE_CHECKING:
    from replication.translator import DagsterSlingTranslator


def binary() -> str:
    """The path of the sling binary the studio runs; `RunError` when there is none."""
    return sling_binary.find_binary(settings.SLING_BINARY or None)


def sling_version() -> str | None:
    """The version of the sling binary the studio runs (asked once per binary, and kept in the
    data folder), None without one."""
    try:
        return sling_binary.known_version(binary(), settings.DATA_DIR / "sling-version.json")
    except (sling_binary.RunError, OSError):
        return None


def rules() -> Sling:
    """The rules of the sling the studio runs (those of the shipped version when it has none)."""
    version = sling_version()
    return Sling(version) if version else DEFAULT


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


def webhook_reach() -> Reach:
    """The hosts alert webhooks may be posted to (`STUDIO_WEBHOOK_HOSTS`)."""
    return Reach(tuple(settings.STUDIO_WEBHOOK_HOSTS), setting="STUDIO_WEBHOOK_HOSTS", reaching="webhooks")


def translator() -> DagsterSlingTranslator:
    """dagster-sling's translator, or the one `SLING_STUDIO_TRANSLATOR` names."""
    # Imported here: a run names no asset, and `run_replication` starts without the translator.
    from replication.translator import load_translator

    return load_translator(settings.SLING_STUDIO_TRANSLATOR)
