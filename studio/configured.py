"""The studio's settings turned into the domain's objects: the sling binary it runs and the
rules of its version, the kernel's confinement of it, the folders and hosts sling may reach,
and the translator of asset keys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from replication import sling as sling_binary
from replication.fence import Fence
from replication.reach import Reach
from replication.sling import sandbox
from replication.versions import DEFAULT, Sling

if TYPE_CHECKING:
    from replication.translator import DagsterSlingTranslator


def binary() -> str:
    """The path of the sling binary the studio runs; `RunError` when there is none."""
    return sling_binary.find_binary(settings.SLING_BINARY or None)


def sling_version() -> str | None:
    """The version of the sling binary the studio runs (asked once per binary, and kept in the
    data folder), None without one. (`sling --version` is the one sling process not confined:
    the binary the operator names, with fixed arguments; nothing an editor writes reaches it.)"""
    try:
        return sling_binary.known_version(binary(), settings.DATA_DIR / "sling-version.json")
    except (sling_binary.RunError, OSError):
        return None


def sandbox_problem() -> str | None:
    """Why the studio starts no sling at all (STUDIO_SANDBOX=required, and this kernel cannot
    confine it), or None."""
    if settings.STUDIO_SANDBOX == "off":
        return None
    why = sandbox.unavailable()
    if why is None:
        return None
    return (
        f"sling is not started: {why}. STUDIO_SANDBOX=required keeps every sling process inside "
        "the kernel's fence; STUDIO_SANDBOX=off runs it with the text checks alone (README: the fence)"
    )


def helpers() -> list[Path]:
    """The helper programs sling may run, as the studio's environment names them (`SQLITE_PATH`,
    `DUCKDB_PATH`): never a path from a replication, a connection or its `env:`."""
    return [Path(os.environ[name]) for name in sling_binary.HELPERS if os.environ.get(name)]


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
        writable=tuple(settings.STUDIO_WRITABLE_ROOTS),
        refused=tuple(refused),
        reopened=(settings.DATA_DIR / "files",),
        base=settings.BASE_DIR,
    )


def text_fence() -> Fence | None:
    """The fence as the text checks judge it (when something is saved, listed or found), or None
    while they are switched off (STUDIO_TEXT_CHECKS: the tests of the kernel's fence alone)."""
    return fence() if settings.STUDIO_TEXT_CHECKS else None


def reach() -> Reach:
    """The hosts connections may send sling to (`STUDIO_CONNECTION_HOSTS`)."""
    return Reach(tuple(settings.STUDIO_CONNECTION_HOSTS))


def translator() -> DagsterSlingTranslator:
    """dagster-sling's translator, or the one `SLING_STUDIO_TRANSLATOR` names."""
    # Imported here: a run names no asset, and `run_replication` starts without the translator.
    from replication.translator import load_translator

    return load_translator(settings.SLING_STUDIO_TRANSLATOR)
