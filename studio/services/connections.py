"""Writes of connections: save (secrets apart), edit from the form, delete, import an
env.yaml; and asking sling about one (`conns test`, `conns discover`)."""

from __future__ import annotations

import logging
from types import EllipsisType
from typing import Any

from django.db import transaction

from replication import sling
from replication.config import references
from replication.connections import TYPES, carry_secrets, connection_type, split_secrets
from replication.local_paths import connection_paths, local_path
from replication.parallel import MAX_STREAMS
from replication.problems import ERROR, Problem
from replication.yamlio import YamlError, load_mapping
from studio import configured, models
from studio.errors import Refused
from studio.launcher import Launcher
from studio.services import audit
from studio.services.versions import changed_since, versioned_update

logger = logging.getLogger(__name__)


def connection_problems(name: str, conn_type: str, fields: dict[str, Any]) -> list[Problem]:
    """What refuses a connection's fields: a local path outside the file fence, a value that
    names another connection (`$OTHER`: sling would put that one's settings there)."""
    problems = []
    fence = configured.text_fence()
    for field, path in connection_paths(conn_type, fields) if fence is not None else ():
        refused = path and fence.refusal(path)
        if refused:
            problems.append(Problem((field,), None, ERROR, refused))
    others = {n for n in models.Connection.objects.values_list("name", flat=True)} | {name.upper()}
    for field, value in fields.items():
        for other in references(value, others) if isinstance(value, str) else ():
            problems.append(
                Problem(
                    (field,),
                    None,
                    ERROR,
                    f"`{value}` names connection {other}: sling would put its settings, "
                    "secrets included, here; write the value itself",
                )
            )
    return problems


@transaction.atomic
def connection_save(
    *,
    name: str,
    fields: dict[str, Any],
    instance: models.Connection | None = None,
    max_streams: int | EllipsisType | None = ...,
) -> models.Connection:
    """Create or update a connection from Sling-style fields (`type`, `url`, `host`, ...).

    Secret fields (and a URL's password) are stored apart from the others. `Refused` when a
    field is refused (`connection_problems`). `max_streams`: how many sling processes may use it
    at once (None: its type's default; left out: as it was).
    """
    conn_type = connection_type(fields)
    fields = {k: v for k, v in fields.items() if k != "type"}
    if conn_type not in TYPES:
        raise ValueError(f"connection `{name}`: unknown or missing type `{conn_type}`")
    problems = connection_problems(name, conn_type, fields)
    if problems:
        raise Refused(problems)
    public, secret = split_secrets(conn_type, fields)
    values = {"name": name.upper(), "type": conn_type, "params": public, "secrets": secret}
    if max_streams is not ...:
        if max_streams is not None and not 1 <= max_streams <= MAX_STREAMS:
            raise Refused.field("max_streams", f"streams at once must be 1 to {MAX_STREAMS}")
        values["max_streams"] = max_streams
    if instance is None:
        instance = models.Connection.objects.filter(name=values["name"]).first()
        if instance is None:
            created = models.Connection.objects.create(**values)
            audit.record("created", created, summary=f"type {conn_type}", details=_changes(None, created))
            return created
        instance = versioned_update(instance, None, changed=changed_since(None, None))
    before = _fields_of(instance)
    for key, value in values.items():
        setattr(instance, key, value)
    instance.save()
    changes = _changes(before, instance)
    audit.record("changed", instance, summary=audit.changes_summary(changes["fields"]), details=changes)
    return instance


def _fields_of(connection: models.Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    """A connection's public fields (with its name, type and limit of streams at once), and its
    secret ones."""
    public = {"name": connection.name, "type": connection.type, "max_streams": connection.max_streams}
    return {**public, **connection.params}, dict(connection.secrets)


def _changes(
    before: tuple[dict[str, Any], dict[str, Any]] | None, after: models.Connection
) -> dict[str, Any]:
    """What the trail keeps of a save: each field that changed, public ones with their values,
    secret ones only as changed."""
    public, secret = before or ({}, {})
    now_public, now_secret = _fields_of(after)
    changes = audit.field_changes(public, now_public)
    changes.update(audit.field_changes(secret, now_secret, secret=set(secret) | set(now_secret)))
    return {"version": after.version, "fields": changes}


@transaction.atomic
def connection_edit(
    *,
    instance: models.Connection | None,
    name: str,
    fields: dict[str, Any],
    base_version: int | None = None,
    base: dict[str, Any] | None = None,
    max_streams: int | EllipsisType | None = ...,
) -> models.Connection:
    """Create (no `instance`) or change a connection as its form sends it: the change of
    `base_version` (what the editor saw then: `base`), and its limit (`connection_save`).

    `Refused` when another connection has the name, or when the edit changes where the
    connection goes and leaves a stored secret empty; `Conflict` when someone saved it since;
    secrets the form does not send again keep their stored values (`carry_secrets`)."""
    name = name.upper()
    if name != (instance.name if instance else None) and models.Connection.objects.filter(name=name).exists():
        raise Refused.field("name", f"a connection named {name} exists")
    if instance is not None:
        instance = versioned_update(instance, base_version, changed=changed_since(base, base_version))
        fields, problems = _carried(instance, str(connection_type(fields)), fields)
        if problems:
            raise Refused(problems)
    return connection_save(name=name, fields=fields, instance=instance, max_streams=max_streams)


def _carried(
    instance: models.Connection, conn_type: str, fields: dict[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """An edit's fields with the stored secrets it may keep (`carry_secrets`), and why the others
    must be typed again."""
    return carry_secrets(
        conn_type, fields, stored_type=instance.type, public=instance.params, secret=instance.secrets
    )


@transaction.atomic
def connection_delete(*, connection: models.Connection, base_version: int | None = None) -> None:
    """Delete the connection; with `base_version`, only that version of it: `Conflict` when
    someone saved it since."""
    if base_version is not None:
        versioned_update(connection, base_version, changed=changed_since(None, base_version))
    audit.record("deleted", connection)
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
        conn_type = connection_type(fields)
        if conn_type not in TYPES:
            problems.append(
                Problem(path, lines.get(path), ERROR, f"unknown or missing connection type `{conn_type}`")
            )
            continue
        for problem in connection_problems(str(name), conn_type, fields):
            where = (*path, *problem.path)
            problems.append(Problem(where, lines.get(where, lines.get(path)), ERROR, problem.message))
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        return [connection_save(name=str(name), fields=fields) for name, fields in connections.items()]


def _sling(connection: models.Connection | None, *args: str) -> str:
    """`sling <args>` with only `connection` (none: sling's own LOCAL) in its environment: its
    output, or `sling.RunError` (`SlingFailed` when sling answered, saying only that it could not
    connect: its details would tell an open port from a closed one; they go to the log, masked)."""
    try:
        return Launcher.here().command(connection, *args)
    except sling.SlingFailed as exc:
        name = connection.name if connection else "LOCAL"
        logger.info("sling %s %s: %s", " ".join(args[:2]), name, exc)
        raise sling.SlingFailed(f"{name}: could not connect") from None


def connection_test(connection: models.Connection) -> tuple[bool, str]:
    """`sling conns test` (of a saved connection, or one `connection_try` made): (passed, what
    to tell the user)."""
    try:
        _sling(connection, "conns", "test", connection.name)
    except sling.RunError as exc:
        return False, str(exc)
    missing = _missing_folder(connection)
    if missing:
        return False, f"{connection.name}: the folder {missing} does not exist"
    return True, f"{connection.name}: connection works"


def _missing_folder(connection: models.Connection) -> str | None:
    """The local folder of a `file` connection when it is not there: sling says such a
    connection works whatever its folder (1.4.11 tests nothing), so the studio looks. A
    relative folder is sling's, in the folder it runs in."""
    if connection.type != "file":
        return None
    for field, path in connection_paths("file", connection.params):
        if field == "url" and path and not (Launcher.here().cwd / path).exists():
            return path
    return None


def connection_try(
    *, name: str, fields: dict[str, Any], instance: models.Connection | None = None
) -> tuple[bool, str]:
    """`sling conns test` of a connection as its form has it, unsaved: the fields typed, and
    for an edit of `instance` the stored secrets its form leaves empty, while it goes where they
    were typed for (`carry_secrets`). The same fences as a saved one (`connection_problems`, the
    reach of `_sling`); the answer never has a secret."""
    conn_type = connection_type(fields)
    fields = {k: v for k, v in fields.items() if k != "type"}
    if conn_type not in TYPES:
        return False, f"unknown or missing type `{conn_type}`"
    problems: list[Problem] = []
    if instance is not None:
        fields, problems = _carried(instance, conn_type, fields)
    problems += connection_problems(name, conn_type, fields)
    if problems:
        return False, "; ".join(f"{p.path[0]}: {p.message}" if p.path else p.message for p in problems)
    public, secret = split_secrets(conn_type, fields)
    return connection_test(
        models.Connection(name=name.upper(), type=conn_type, params=public, secrets=secret)
    )


def stream_matches(*, source: str, pattern: str) -> list[str]:
    """The streams sling would expand the wildcard stream `pattern` of a replication reading
    from `source` into, found the way sling finds them (`conns discover --pattern`).
    Raises `sling.RunError`, and NotFound-like `SlingFailed` for a source it cannot reach."""
    connection = models.Connection.objects.filter(name=source.upper()).first()
    if connection is None and source.upper() != "LOCAL":
        raise sling.SlingFailed(f"the studio does not define connection `{source}`: it cannot list matches")
    name = connection.name if connection else "LOCAL"
    found = sling.expanded(
        _sling(connection, "conns", "discover", name, "--pattern", sling.discover_pattern(pattern))
    )
    if connection is not None and connection.type != "file":
        return found
    # Files: only those inside the fence are named (the others would be refused anyway).
    fence = configured.text_fence()
    return [
        match for match in found if fence is None or not fence.expanded_refusal(local_path(match) or match)
    ]


def connection_discover(connection: models.Connection, *, pattern: str = "") -> list[str]:
    """Stream names `sling conns discover` finds (tables as schema.table, files as paths); on a
    `file` connection its folder must be open to sling, and only what is inside the fence is
    listed. Raises `sling.RunError` (`SlingFailed` when sling answered with an error)."""
    fence = configured.text_fence()
    files = connection.type == "file"
    if files and fence is not None:
        folder = next((p for f, p in connection_paths("file", connection.params) if f == "url"), "") or "."
        refused = fence.refusal(folder, "list")
        if refused:
            raise sling.RunError(f"{connection.name}: {refused}")
    args = ["conns", "discover", connection.name] + (["--pattern", pattern] if pattern else [])
    found = sling.discovered(_sling(connection, *args), files=files)
    return [
        name
        for name in found
        if not files or fence is None or not fence.expanded_refusal(local_path(name) or name)
    ]
