"""The domain rules as this studio is configured: the sling it runs (its version decides
what is valid), the connections it knows, its translator, and validation with them."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.conf import settings

from replication import sling as sling_binary
from replication.config import ReplicationConfig
from replication.connections import type_of_url
from replication.context import ConnectionInfo, Context
from replication.translator import DagsterSlingTranslator, load_translator
from replication.validate import ERROR, LineOf, Problem, validate
from replication.versions import DEFAULT, Sling
from studio import models


def translator() -> DagsterSlingTranslator:
    """dagster-sling's translator, or the one `SLING_STUDIO_TRANSLATOR` names."""
    return load_translator(settings.SLING_STUDIO_TRANSLATOR)


def sling_version() -> str | None:
    """The version of the sling binary the studio runs (asked once per binary), None without one."""
    try:
        binary = sling_binary.find_binary(settings.SLING_BINARY or None)
    except sling_binary.RunError:
        return None
    return _version(binary, Path(binary).stat().st_mtime)


@functools.cache
def _version(binary: str, mtime: float) -> str | None:
    try:
        return sling_binary.version(binary)
    except sling_binary.RunError:
        return None


def sling() -> Sling:
    """The rules of the sling the studio runs (those of the shipped version when it has none)."""
    version = sling_version()
    return Sling(version) if version else DEFAULT


def template_context(request: object) -> dict[str, str | None]:
    """For every page's footer: the sling the studio runs."""
    return {"sling_version": sling_version(), "sling_rules": DEFAULT.version}


def context() -> Context:
    """What sling would know running a replication here: its version, the studio's connections
    and those of its environment, and that environment (one query)."""
    environ = sling_binary.process_environment()
    connections = _environment_connections(environ)
    for name, conn_type, params in models.Connection.objects.values_list("name", "type", "params"):
        connections[name.upper()] = ConnectionInfo.of(conn_type, params)
    return Context(sling=sling(), connections=connections, process_env=environ, complete=True)


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


def check(config: ReplicationConfig, line_of: LineOf | None = None) -> list[Problem]:
    """Every problem of `config`, with lines where `line_of` knows them."""
    return validate(config, line_of, translator(), context())


def blocking(problems: list[Problem]) -> list[Problem]:
    """The errors that refuse a save. A replication without streams yet is a draft, not an error."""
    return [p for p in problems if p.severity == ERROR and p.code != "no-streams"]
