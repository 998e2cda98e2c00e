"""The domain rules as this studio is configured: the sling it runs (its version decides
what is valid), the connections it knows, what sling may reach (files, hosts), its
translator, and validation with them."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import caches

from replication import sling as sling_binary
from replication.config import ReplicationConfig
from replication.connections import type_of_url
from replication.context import ConnectionInfo, Context
from replication.fence import Fence
from replication.problems import ERROR, LineOf, Problem
from replication.reach import Reach
from replication.versions import DEFAULT, Sling
from studio import models

if TYPE_CHECKING:
    from replication.translator import DagsterSlingTranslator
    from replication.validate import Memo

# Validation and the translator are imported where they are used: a run checks neither
# (its replication was checked when saved), and `run_replication` starts without them.


def translator() -> DagsterSlingTranslator:
    """dagster-sling's translator, or the one `SLING_STUDIO_TRANSLATOR` names."""
    from replication.translator import load_translator

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


def sling_version() -> str | None:
    """The version of the sling binary the studio runs (asked once per binary), None without one."""
    try:
        binary = sling_binary.find_binary(settings.SLING_BINARY or None)
        stat = Path(binary).stat()
    except (sling_binary.RunError, OSError):
        return None
    return _version(binary, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _version(binary: str, mtime_ns: int, size: int) -> str | None:
    # Kept in the data folder too, so a command that starts a run does not start sling twice.
    key = {"binary": binary, "mtime_ns": mtime_ns, "size": size}
    kept = settings.DATA_DIR / "sling-version.json"
    try:
        known = json.loads(kept.read_text())
        if isinstance(known, dict) and known.get("key") == key and isinstance(known.get("version"), str):
            return known["version"]
    except (OSError, ValueError):
        pass
    try:
        version = sling_binary.version(binary)
    except sling_binary.RunError:
        return None
    written = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    try:
        written.write_text(json.dumps({"key": key, "version": version}))
        os.replace(written, kept)  # whole or not at all, whoever reads it meanwhile
    except OSError:
        written.unlink(missing_ok=True)
    return version


def sling() -> Sling:
    """The rules of the sling the studio runs (those of the shipped version when it has none)."""
    version = sling_version()
    return Sling(version) if version else DEFAULT


def template_context(request: object) -> dict[str, str | None]:
    """For every page's footer: the sling the studio runs."""
    return {"sling_version": sling_version(), "sling_rules": DEFAULT.version}


def context(stored: bool = True) -> Context:
    """What sling would know running a replication here: its version, the studio's connections
    (one query; with `stored=False`, none: a lint without a studio database) and those of its
    environment, and that environment. Only knowing the studio's is knowing them all."""
    # A run gets the connections of the studio's environment that its replication names, and
    # of the rest only the variables `process_environment` lets through.
    studio_env = {k: v for k, v in os.environ.items() if k not in sling_binary.STUDIO_SECRETS}
    connections = _environment_connections(studio_env)
    if stored:
        for name, conn_type, params in models.Connection.objects.values_list("name", "type", "params"):
            connections[name.upper()] = ConnectionInfo.of(conn_type, params)
    return Context(
        sling=sling(),
        connections=connections,
        process_env=sling_binary.process_environment(),
        complete=stored,
        fence=fence(),
    )


def _environment_connections(environ: dict[str, str]) -> dict[str, ConnectionInfo]:
    """Connections sling reads from environment variables: a URL, or JSON with a `type`."""
    found = {}
    for name, value in environ.items():
        if not name.isupper() or name.startswith(("SLING_", "STUDIO_")):
            continue
        if "://" in value and " " not in value:
            found[name] = ConnectionInfo.of(type_of_url(value))
        elif value.startswith("{") and '"type"' in value:
            try:
                data = json.loads(value)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("type"), str):
                found[name] = ConnectionInfo.of(data["type"], data)
    return found


def check(
    config: ReplicationConfig,
    line_of: LineOf | None = None,
    stored: bool = True,
    memo: Memo | None = None,
    with_context: Context | None = None,
    basis: Any = None,
    edited: Iterable[Any] = (),
) -> list[Problem]:
    """Every problem of `config`, with lines where `line_of` knows them (`stored`: see context;
    `with_context`: that one); with `memo` (`check_memo`), the streams that did not change
    since are not checked again (`basis` and `edited`: see `validate`)."""
    from replication.validate import validate

    return validate(config, line_of, translator(), with_context or context(stored), memo, basis, edited)


def checked_key(replication: models.Replication, with_context: Context) -> str:
    """The `editor` cache's key of what `check` finds in `replication` at its version, with
    `with_context` and the translator: a save keeps what it checked, the editor reads it."""
    version = f"{replication.pk}:{replication.version}:{replication.updated.isoformat()}"
    stamp = f"{version}:{settings.SLING_STUDIO_TRANSLATOR}:{with_context!r}"
    return "checked:" + hashlib.sha256(stamp.encode()).hexdigest()


# How long what a check found per stream is reused: a file a stream reads that appears or
# vanishes on disk (a memo does not look again) shows in the editor within this time.
MEMO_SECONDS = 300


def check_memo(replication: str) -> Memo:
    """What the checks of replication `replication` found per stream, kept in this process
    (the `editor` cache) for the next check of it: an edit checks what it changed."""
    cache = caches["editor"]
    key = "memo:" + hashlib.sha256(replication.encode()).hexdigest()
    memo = cache.get(key)
    if memo is None:
        from replication.validate import Memo

        memo = Memo()
        cache.set(key, memo, timeout=MEMO_SECONDS)
    return memo


def blocking(problems: list[Problem]) -> list[Problem]:
    """The errors that refuse a save. A replication without streams yet is a draft, not an error."""
    return [p for p in problems if p.severity == ERROR and p.code != "no-streams"]
