"""The studio's writes and reads: the bridge between rows and `replication` objects.

Views and management commands call these; neither builds YAML or graphs itself.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import subprocess
from collections.abc import Iterable
from typing import Any

import networkx as nx
from django.conf import settings
from django.db import transaction
from django.db.models import F

from replication import dagster_export, runner
from replication import lineage as lineage_mod
from replication.binary import find_binary
from replication.connections import TYPES, env_value, split_secrets, type_of_url
from replication.model import Replication as Config
from replication.translator import DagsterSlingTranslator, load_translator
from replication.util import paused_gc
from replication.validate import ERROR, Problem, validate
from replication.yamlio import YamlError, emit, load_mapping, parse
from studio import models

NAME = re.compile(r"[-\w]{1,200}")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """Input that cannot be stored; nothing was saved. `problems` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def translator() -> DagsterSlingTranslator:
    return load_translator(settings.SLING_STUDIO_TRANSLATOR)


# --- replications -------------------------------------------------------------


def replication_get(name: str) -> models.Replication:
    try:
        return models.Replication.objects.get(name=name)
    except models.Replication.DoesNotExist:
        raise NotFound(f"no replication named `{name}`") from None


class Conflict(Exception):
    """Someone saved the replication since this edit began; `diff` shows their change."""

    def __init__(self, *, name: str, version: int, base_version: int, diff: str) -> None:
        super().__init__(f"`{name}` was changed by someone else (now version {version})")
        self.version = version
        self.base_version = base_version
        self.diff = diff


def _check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        message = f"name `{name}` must be 1-200 letters, digits, `-` or `_`"
        raise Refused([Problem(("name",), None, ERROR, message)])


@transaction.atomic
def replication_save(
    *,
    name: str,
    config: Config,
    user: Any = None,
    summary: str = "",
    base_version: int | None = None,
    rename_to: str | None = None,
) -> models.Replication:
    """Store `config` under `name` as a new version with its revision.

    With `base_version`, the save is refused with `Conflict` when the stored
    replication has moved on since (the check and the bump are one UPDATE, so
    two concurrent saves cannot both pass). Streams keep their rows (and ids)
    when their names stay; only changed rows are written.
    """
    _check_name(rename_to or name)
    fields = {
        "source": config.source or "",
        "target": config.target or "",
        "defaults": config.defaults,
        "hooks": config.hooks,
        "env": config.env,
        "extra": config.extra,
    }
    replication = models.Replication.objects.filter(name=name).first()
    if replication is None:
        replication = models.Replication.objects.create(name=name, version=1, **fields)
    elif base_version is None:
        models.Replication.objects.filter(pk=replication.pk).update(version=F("version") + 1)
    elif not models.Replication.objects.filter(pk=replication.pk, version=base_version).update(
        version=base_version + 1
    ):
        replication.refresh_from_db()
        raise Conflict(
            name=name,
            version=replication.version,
            base_version=base_version,
            diff=revision_diff(replication, base_version, replication.version) or "",
        )
    replication.refresh_from_db(fields=["version"])
    if rename_to and rename_to != name:
        if models.Replication.objects.filter(name=rename_to).exists():
            raise Refused([Problem(("name",), None, ERROR, f"a replication named `{rename_to}` exists")])
        fields["name"] = rename_to
    for key, value in fields.items():
        setattr(replication, key, value)
    replication.save(update_fields=[*fields, "updated"])
    _save_streams(replication, config.streams)
    models.Revision.objects.create(
        replication=replication,
        version=replication.version,
        author=user if getattr(user, "is_authenticated", False) else None,
        summary=summary[:300],
        document=models.Revision.document_of(config),
    )
    return replication


def _save_streams(replication: models.Replication, streams: dict[str, Any]) -> None:
    """Write only what changed: new rows, rows whose position or config moved, deletions."""
    existing = {
        name: (pk, position, config)
        for pk, name, position, config in replication.streams.values_list("pk", "name", "position", "config")
    }
    create, update = [], []
    with paused_gc():
        for position, (name, config) in enumerate(streams.items()):
            old = existing.pop(name, None)
            if old is None:
                create.append(
                    models.Stream(replication=replication, position=position, name=name, config=config)
                )
            elif old[1:] != (position, config):
                row = models.Stream(
                    pk=old[0], replication=replication, position=position, name=name, config=config
                )
                update.append(row.derive())
        if existing:
            models.Stream.objects.filter(pk__in=[pk for pk, _, _ in existing.values()]).delete()
        fields = ["position", "config", "mode", "object", "disabled"]
        models.Stream.objects.bulk_update(update, fields, batch_size=1000)
        models.Stream.objects.bulk_create([row.derive() for row in create], batch_size=2000)


def replication_check(config: Config) -> list[Problem]:
    return validate(config, None, translator())


def blocking(problems: list[Problem]) -> list[Problem]:
    """The errors that refuse a save. A replication without streams yet is a draft, not an error."""
    return [p for p in problems if p.severity == ERROR and p.code != "no-streams"]


def replication_commit(*, name: str, config: Config, **save: Any) -> tuple[models.Replication, list[Problem]]:
    """Validate and save an edit; `Refused` lists the errors when there are any."""
    problems = replication_check(config)
    if blocking(problems):
        raise Refused(blocking(problems))
    return replication_save(name=name, config=config, **save), problems


def replication_import(
    *, name: str, text: str | bytes, user: Any = None
) -> tuple[models.Replication, list[Problem]]:
    """Parse, validate and store a replication document.

    Raises `Refused` (nothing saved) on unreadable YAML or any validation error;
    returns the warnings otherwise.
    """
    _check_name(name)
    config, problems = _parse_checked(text)
    replication = replication_save(name=name, config=config, user=user, summary="imported")
    return replication, problems


def _parse_checked(text: str | bytes) -> tuple[Config, list[Problem]]:
    """Parse and validate a document; `Refused` with lines on any error, else the warnings."""
    try:
        document = parse(text)
    except YamlError as exc:
        raise Refused([Problem((), exc.line, ERROR, exc.message)]) from None
    problems = validate(document.replication, document.line_of, translator())
    if any(p.severity == ERROR for p in problems):
        raise Refused(problems)
    return document.replication, problems


def replication_import_preview(
    *, replication: models.Replication, text: str | bytes
) -> tuple[Config, list[Problem], str]:
    """What importing `text` over `replication` would do: the config, its warnings and
    the diff against the current version. `Refused` on any error, as import_replication."""
    config, problems = _parse_checked(text)
    current = emit(replication.as_config())
    return config, problems, text_diff(current, emit(config), "current", "imported")


def revision_diff(replication: models.Replication, old: int, new: int) -> str | None:
    """A unified diff of the YAML of two versions ('' when equal, None when either is unknown)."""
    revisions = models.Revision.objects.filter(replication=replication, version__in=[old, new])
    texts = {revision.version: revision.yaml for revision in revisions}
    if old not in texts or new not in texts:
        return None
    return text_diff(texts[old], texts[new], f"version {old}", f"version {new}")


def text_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=old_name, tofile=new_name
    )
    return "".join(lines)


def replication_duplicate(*, replication: models.Replication, user: Any = None) -> models.Replication:
    """A copy under the first free name `<name>-copy`, `<name>-copy-2`, ..."""
    base = f"{replication.name[:190]}-copy"
    taken = set(models.Replication.objects.filter(name__startswith=base).values_list("name", flat=True))
    name = next(n for n in (base, *(f"{base}-{i}" for i in range(2, 10_000))) if n not in taken)
    summary = f"duplicated from {replication.name}"
    return replication_save(name=name, config=replication.as_config(), user=user, summary=summary)


def streams_bulk_edit(
    streams: dict[str, Any], names: list[str], action: str, *, key: str | None = None, value: Any = None
) -> dict[str, Any]:
    """The streams after `action` (enable, disable, duplicate, delete, set) on `names`."""
    chosen = set(names)
    out: dict[str, Any] = {}
    for name, config in streams.items():
        if name not in chosen:
            out[name] = config
            continue
        own = dict(config or {})
        if action == "delete":
            continue
        if action == "enable":
            own.pop("disabled", None)
        elif action == "disable":
            own["disabled"] = True
        elif action == "set" and key:
            if value is None:
                own.pop(key, None)
            else:
                own[key] = value
        elif action == "duplicate":
            out[name] = config
            copy = f"{name}_copy"
            while copy in streams or copy in out:
                copy += "_copy"
            name = copy
        out[name] = own or (None if config is None else {})
    return out


def replication_export(*, name: str) -> str:
    return emit(replication_get(name).as_config())


# --- lineage ------------------------------------------------------------------


def target_schemas() -> dict[str, str]:
    """Connection name -> its default schema: the value of `{target_schema}`."""
    return {
        conn.name: conn.params["schema"]
        for conn in models.Connection.objects.all()
        if isinstance(conn.params.get("schema"), str)
    }


def target_schema(connection_name: Any) -> str | None:
    if not isinstance(connection_name, str):
        return None
    conn = models.Connection.objects.filter(name=connection_name.upper()).first()
    schema = conn.params.get("schema") if conn else None
    return schema if isinstance(schema, str) else None


def lineage_graph(names: Iterable[str] | None = None) -> nx.DiGraph:
    """The asset graph of the named replications (all when None) and the downstream assets."""
    replications = models.Replication.objects.all()
    if names is not None:
        names = list(names)
        replications = replications.filter(name__in=names)
        missing = set(names) - {r.name for r in replications}
        if missing:
            raise NotFound(f"no replication named `{sorted(missing)[0]}`")
    # Plain tuples, not model instances: 10,000 streams load in a third of the time.
    streams: dict[int, dict[str, Any]] = {r.pk: {} for r in replications}
    rows = models.Stream.objects.filter(replication__in=list(streams)).order_by("replication", "position")
    with paused_gc():
        for replication_id, name, config in rows.values_list("replication_id", "name", "config"):
            streams[replication_id][name] = config
    downstream = [
        lineage_mod.Downstream(
            key=lineage_mod.parse_key(asset.key),
            deps=tuple(lineage_mod.parse_key(dep) for dep in asset.deps),
            description=asset.description,
            group=asset.group or None,
            tags=tuple(asset.tags),
        )
        for asset in models.DownstreamAsset.objects.all()
    ]
    schemas = target_schemas()
    configs = [(r.name, r.as_config(streams[r.pk])) for r in replications]
    return lineage_mod.build_graph(
        configs,
        downstream,
        translator=translator(),
        target_schemas=schemas,
    )


# --- connections --------------------------------------------------------------


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


class SlingFailed(RuntimeError):
    """sling answered with an error; the message is masked and short."""


def _sling(connection: models.Connection, *args: str, timeout: float = 60) -> str:
    """Run `sling <args>` with `connection` in its environment; its stdout, or SlingFailed."""
    binary = find_binary(settings.SLING_BINARY or None)
    secrets = [str(v) for v in connection.secrets.values()]
    env = runner.sling_environment(
        {connection.name: env_value(connection.type, connection.full_params())}, home=settings.SLING_HOME_DIR
    )
    env.pop("SLING_LOGGING", None)
    env["SLING_OUTPUT"] = "json"
    try:
        done = subprocess.run(
            [binary, *args], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise SlingFailed(f"sling did not answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line.strip("~ ") for line in _ANSI.sub("", done.stderr).splitlines() if line.strip()]
        detail = " ".join(line for line in lines if not line.startswith(("fatal", "INF", "DBG")))[-500:]
        raise SlingFailed(runner.mask(detail or f"sling exited with {done.returncode}", secrets))
    return done.stdout


def connection_test(connection: models.Connection) -> tuple[bool, str]:
    """`sling conns test`: (passed, what to tell the user)."""
    try:
        _sling(connection, "conns", "test", connection.name)
    except (SlingFailed, runner.RunError) as exc:
        return False, str(exc)
    return True, f"{connection.name}: connection works"


def connection_discover(connection: models.Connection, *, pattern: str = "") -> list[str]:
    """Stream names `sling conns discover` finds (tables as schema.table, files as paths)."""
    args = ["conns", "discover", connection.name] + (["--pattern", pattern] if pattern else [])
    try:
        output = _sling(connection, *args)
    except runner.RunError as exc:
        raise SlingFailed(str(exc)) from None
    try:
        table = json.loads(output.strip().splitlines()[-1]) if output.strip() else {"fields": [], "rows": []}
        fields = [str(f).lower() for f in table["fields"]]
        rows = [dict(zip(fields, row, strict=False)) for row in table["rows"]]
    except (ValueError, KeyError, TypeError, IndexError):
        raise SlingFailed("could not read what sling discovered") from None
    if "schema" in fields:
        return [f"{row['schema']}.{row['name']}" for row in rows]
    prefix = "file://" if connection.type == "file" else ""
    return [f"{prefix}{row['name']}" for row in rows]


def streams_add(*, replication: models.Replication, names: list[str], user: Any = None) -> models.Replication:
    """Append streams (those not there yet) to a replication."""
    config = replication.as_config()
    streams = dict(config.streams)
    for name in names:
        streams.setdefault(name, None)
    saved, _ = replication_commit(
        name=replication.name,
        config=dataclasses.replace(config, streams=streams),
        user=user,
        summary=f"added {len(names)} discovered stream(s)",
    )
    return saved


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


# --- lineage page -------------------------------------------------------------

# At most this many `expand` ids are honoured per view (each is a group to open).
LINEAGE_EXPAND_MAX = 50
_lineage_cache: dict[str, Any] = {}


def lineage_schemas() -> dict[str, str | None]:
    """Connection name -> the schema an unqualified table name means there."""
    return {
        conn.name.upper(): lineage_mod.default_schema(conn.type, conn.params)
        for conn in models.Connection.objects.all()
    }


def _lineage_stamp(names: tuple[str, ...] | None) -> str:
    """Changes whenever anything the graph is built from changes (checked per request, a few ms)."""
    from django.db.models import Count, Max, Sum

    parts = [
        names,
        models.Replication.objects.aggregate(n=Count("id"), v=Sum("version"), u=Max("updated")),
        models.Stream.objects.aggregate(n=Count("id"), m=Max("id")),
        models.Connection.objects.aggregate(n=Count("id"), u=Max("updated")),
        list(models.DownstreamAsset.objects.values_list("id", "key", "deps", "description", "group", "tags")),
        settings.SLING_STUDIO_TRANSLATOR,
    ]
    return json.dumps(parts, default=str, sort_keys=True)


def lineage_joined(names: Iterable[str] | None = None) -> nx.DiGraph:
    """The asset graph of `lineage_graph` with replications joined where one reads the
    table another writes. Built once per change of the data and kept (read-only) in memory."""
    key = tuple(sorted(names)) if names is not None else None
    stamp = _lineage_stamp(key)
    if _lineage_cache.get("stamp") == stamp:
        return _lineage_cache["graph"]
    graph = lineage_graph(key)
    sources = dict(models.Replication.objects.values_list("name", "source"))
    lineage_mod.join_replications(graph, sources, lineage_schemas())
    _lineage_cache.update(stamp=stamp, graph=graph)
    return graph


def lineage_selection(*, replication: str | None = None, selector: str | None = None) -> nx.DiGraph:
    """The joined graph of one replication (all when None), narrowed by a selector.
    Raises `NotFound` or `lineage.SelectionError`."""
    graph = lineage_joined([replication] if replication else None)
    return lineage_mod.subgraph(graph, selector)


def lineage_document(
    *, replication: str | None = None, selector: str | None = None, fmt: str = "json"
) -> str:
    """The graph as the `lineage` command prints it (JSON or DOT); the page's export is the same text."""
    graph = lineage_selection(replication=replication, selector=selector)
    return lineage_mod.to_json(graph) + "\n" if fmt == "json" else lineage_mod.to_dot(graph)


def lineage_view(
    graph: nx.DiGraph, *, group_by: str | None = None, expand: Iterable[str] = ()
) -> lineage_mod.View:
    """What the page draws of `graph`, with the last run status of the streams drawn."""
    expand = list(expand)[:LINEAGE_EXPAND_MAX]
    view = lineage_mod.build_view(graph, group_by=group_by, expand=expand)
    pairs = {}
    for data in view.nodes:
        attrs = graph.nodes[data["key"]] if "key" in data else {}
        if attrs.get("kind") == lineage_mod.TARGET:
            pairs[attrs.get("replication"), attrs.get("stream")] = data
    for (rep, stream), status in lineage_stream_status(list(pairs)).items():
        pairs[rep, stream]["status"] = status
    return view


def lineage_stream_status(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The last finished or running status of each (replication, stream), where runs are recorded."""
    run_stream = getattr(models, "RunStream", None)
    if run_stream is None or not pairs:
        return {}
    rows = (
        run_stream.objects.filter(
            name__in={s for _, s in pairs}, run__replication_name__in={r for r, _ in pairs}
        )
        .exclude(status__in=["pending", "skipped"])
        .order_by("-run__created", "-run_id")
        .values_list("run__replication_name", "name", "status")[:5000]
    )
    wanted, found = set(pairs), {}
    for rep, stream, status in rows:
        if (rep, stream) in wanted and (rep, stream) not in found:
            found[rep, stream] = status
    return found


def lineage_suggest(q: str, *, replication: str | None = None, limit: int = 20) -> list[str]:
    """Asset keys containing `q` (case-insensitive), those starting with it first."""
    needle = q.strip().lower()
    if not needle:
        return []
    graph = lineage_joined([replication] if replication else None)
    hits = [node for node in graph if needle in node.lower()]
    hits.sort(key=lambda node: (not node.lower().startswith(needle), len(node), node))
    return hits[:limit]


def lineage_node(*, key: str, replication: str | None = None) -> dict[str, Any]:
    """What the side panel shows of one asset: its facts, neighbours and, for a
    target, the stream's effective config and YAML. Raises `NotFound`."""
    from replication.model import effective_config
    from replication.yamlio import dump, emit_streams

    graph = lineage_joined([replication] if replication else None)
    if key not in graph:
        raise NotFound(f"no asset `{key}` in this graph")
    attrs = graph.nodes[key]
    node: dict[str, Any] = {"id": key, **attrs, "key_list": list(attrs["key"])}
    node["upstream"] = [(n, graph.nodes[n]["kind"]) for n in sorted(graph.predecessors(key))]
    node["downstream"] = [(n, graph.nodes[n]["kind"]) for n in sorted(graph.successors(key))]
    node["neighbour_lists"] = [("Reads", node["upstream"]), ("Read by", node["downstream"])]
    if attrs["kind"] == lineage_mod.TARGET:
        row = (
            models.Stream.objects.filter(replication__name=attrs["replication"], name=attrs["stream"])
            .select_related("replication")
            .first()
        )
        if row is not None:
            effective = effective_config(row.replication.defaults, row.config)
            node.update(
                stream_pk=row.pk,
                effective_yaml=dump(effective) if effective else "",
                stream_yaml=emit_streams({row.name: row.config}),
                source_connection=row.replication.source,
            )
        statuses = lineage_stream_status([(attrs["replication"], attrs["stream"])])
        node["last_status"] = next(iter(statuses.values()), None)
    elif attrs["kind"] == lineage_mod.DOWNSTREAM:
        node["asset"] = models.DownstreamAsset.objects.filter(key=key).first()
    return node


def lineage_unit(
    *, by: str, unit: str, replication: str | None = None, selector: str | None = None
) -> list[str]:
    """The assets a collapsed group node of the view stands for."""
    levels = by.split(",")
    if any(level not in (*lineage_mod.GROUPINGS, "kind") for level in levels):
        raise lineage_mod.SelectionError(f"cannot group by `{by}`")
    graph = lineage_selection(replication=replication, selector=selector)
    return lineage_mod.unit_members(graph, levels, unit)


def lineage_path(*, a: str, b: str, replication: str | None = None) -> tuple[list[str], set[str]]:
    """The shortest path between two assets and every asset on a path between them."""
    return lineage_mod.path_between(lineage_joined([replication] if replication else None), a, b)


def _key_problem(field: str, message: str) -> Refused:
    return Refused([Problem((field,), None, ERROR, message)])


@transaction.atomic
def downstream_save(
    *,
    key: str,
    deps: list[str],
    description: str = "",
    group: str = "",
    tags: list[str] | None = None,
    instance: models.DownstreamAsset | None = None,
) -> models.DownstreamAsset:
    """Create or update a downstream asset. Raises `Refused` when its key is a
    replication's asset, it depends on itself, or its deps would close a cycle."""
    taken = models.DownstreamAsset.objects.filter(key=key)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise _key_problem("key", f"a downstream asset `{key}` exists")
    graph = lineage_joined()
    if graph.nodes.get(key, {}).get("kind") == lineage_mod.TARGET:
        raise _key_problem("key", f"`{key}` is the asset of a replication stream; pick another key")
    if key in deps:
        raise _key_problem("deps", "an asset cannot depend on itself")
    old = instance.key if instance is not None else None
    if old is not None and old != key and graph.has_node(old) and any(True for _ in graph.successors(old)):
        readers = ", ".join(sorted(graph.successors(old))[:3])
        raise _key_problem("key", f"`{old}` is read by {readers}: rename those deps first")
    lookup = key if old is None else old
    for dep in deps:
        if graph.has_node(dep) and graph.has_node(lookup) and nx.has_path(graph, lookup, dep):
            raise _key_problem("deps", f"`{dep}` already depends on `{key}`: that would be a cycle")
    values = {"key": key, "deps": deps, "description": description, "group": group, "tags": tags or []}
    if instance is None:
        return models.DownstreamAsset.objects.create(**values)
    for name, value in values.items():
        setattr(instance, name, value)
    instance.save()
    return instance


def downstream_delete(*, instance: models.DownstreamAsset) -> None:
    instance.delete()


# --- Dagster ------------------------------------------------------------------


def dagster_location(*, names: list[str] | None = None) -> dict[str, str]:
    """The files of a Dagster code location for the named replications, or the whole
    lineage when None: {relative path: text}. Raises `NotFound`. No secret value goes in."""
    graph = lineage_joined(names)
    replications = models.Replication.objects.all()
    if names is not None:
        replications = replications.filter(name__in=names)
    connections = [
        dagster_export.Connection(name=c.name, type=c.type, params=c.params, secret_fields=tuple(c.secrets))
        for c in models.Connection.objects.all()
    ]
    return dagster_export.location_files(
        [(r.name, r.as_config()) for r in replications],
        graph,
        connections,
        translator=settings.SLING_STUDIO_TRANSLATOR or None,
        every_downstream=names is None,
    )
