"""Writes of connections: save (secrets apart), edit from the form, delete, import an
env.yaml; and asking sling about one (`conns test`, `conns discover`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from replication import sling
from replication.connections import TYPES, carry_secrets, split_secrets, type_of_url
from replication.validate import ERROR, Problem
from replication.yamlio import YamlError, load_mapping
from studio import models
from studio.errors import Refused


@transaction.atomic
def connection_save(
    *, name: str, fields: dict[str, Any], instance: models.Connection | None = None
) -> models.Connection:
    """Create or update a connection from Sling-style fields (`type`, `url`, `host`, ...).

    Secret fields (and a URL's password) are stored apart from the others.
    """
    fields = dict(fields)
    conn_type = fields.pop("type", None) or type_of_url(str(fields.get("url", "")))
    if conn_type not in TYPES:
        raise ValueError(f"connection `{name}`: unknown or missing type `{conn_type}`")
    public, secret = split_secrets(fields)
    values = {"name": name.upper(), "type": conn_type, "params": public, "secrets": secret}
    if instance is not None:
        for key, value in values.items():
            setattr(instance, key, value)
        instance.save()
        return instance
    connection, _ = models.Connection.objects.update_or_create(name=values.pop("name"), defaults=values)
    return connection


@transaction.atomic
def connection_edit(
    *, instance: models.Connection | None, name: str, fields: dict[str, Any]
) -> models.Connection:
    """Create (no `instance`) or change a connection as its form sends it.

    `Refused` when another connection has the name; secrets the form does not
    send again keep their stored values (`carry_secrets`)."""
    name = name.upper()
    if name != (instance.name if instance else None) and models.Connection.objects.filter(name=name).exists():
        raise Refused([Problem(("name",), None, ERROR, f"a connection named {name} exists")])
    if instance is not None:
        fields = carry_secrets(fields, instance.secrets)
    return connection_save(name=name, fields=fields, instance=instance)


def connection_delete(*, connection: models.Connection) -> None:
    connection.delete()


def connections_import(*, text: str | bytes) -> list[models.Connection]:
    """Load the `connections:` of a Sling env.yaml; all or nothing."""
    try:
        data, lines = load_mapping(text, "a Sling env.yaml with a `connections:` mapping")
    except YamlError as exc:
        raise Refused([Problem((), exc.line, ERROR, exc.message)]) from None
    connections = data.get("connections")
    if not isinstance(connections, dict) or not connections:
        line = lines.get(("connections",))
        raise Refused([Problem(("connections",), line, ERROR, "expected a `connections:` mapping")])
    problems = []
    for name, fields in connections.items():
        path = ("connections", name)
        if isinstance(fields, str) and "://" in fields:
            connections[name] = {"url": fields}
        elif not isinstance(fields, dict):
            problems.append(Problem(path, lines.get(path), ERROR, "expected a mapping with `type` or `url`"))
            continue
        fields = connections[name]
        conn_type = fields.get("type") or type_of_url(str(fields.get("url", "")))
        if conn_type not in TYPES:
            problems.append(
                Problem(path, lines.get(path), ERROR, f"unknown or missing connection type `{conn_type}`")
            )
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        return [connection_save(name=str(name), fields=fields) for name, fields in connections.items()]


def _sling(connection: models.Connection | None, *args: str) -> str:
    """`sling <args>` with only `connection` (none: sling's own LOCAL) in its environment:
    its output, or `sling.SlingFailed`."""
    named = {connection.name: connection.sling_env()} if connection else {}
    env = sling.environment(named, home=settings.SLING_HOME_DIR)
    binary = sling.find_binary(settings.SLING_BINARY or None)
    secrets = connection.secret_values() if connection else []
    return sling.call(binary, args, env=env, cwd=settings.BASE_DIR, secrets=secrets)


def connection_test(connection: models.Connection) -> tuple[bool, str]:
    """`sling conns test`: (passed, what to tell the user)."""
    try:
        _sling(connection, "conns", "test", connection.name)
    except sling.RunError as exc:
        return False, str(exc)
    return True, f"{connection.name}: connection works"


def stream_matches(*, source: str, pattern: str) -> list[str]:
    """The streams sling would expand the wildcard stream `pattern` of a replication reading
    from `source` into, found the way sling finds them (`conns discover --pattern`).
    Raises `sling.RunError`, and NotFound-like `SlingFailed` for a source it cannot reach."""
    connection = models.Connection.objects.filter(name=source.upper()).first()
    if connection is None and source.upper() != "LOCAL":
        raise sling.SlingFailed(f"the studio does not define connection `{source}`: it cannot list matches")
    name = connection.name if connection else "LOCAL"
    return sling.expanded(
        _sling(connection, "conns", "discover", name, "--pattern", sling.discover_pattern(pattern))
    )


def connection_discover(connection: models.Connection, *, pattern: str = "") -> list[str]:
    """Stream names `sling conns discover` finds (tables as schema.table, files as paths).
    Raises `sling.RunError` (`SlingFailed` when sling answered with an error)."""
    args = ["conns", "discover", connection.name] + (["--pattern", pattern] if pattern else [])
    return sling.discovered(_sling(connection, *args), files=connection.type == "file")
