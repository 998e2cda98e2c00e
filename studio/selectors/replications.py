"""Reads of replications: the list, one replication, its YAML and its revisions."""

from __future__ import annotations

import difflib

from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Concat

from replication.problems import WARNING, Problem
from replication.yamlio import emit
from studio import editor_cache, models
from studio.editor_cache import Stored
from studio.errors import NotFound


def replications_list(q: str = "") -> QuerySet[models.Replication]:
    last_run = models.Run.objects.filter(replication=OuterRef("pk")).order_by("-created", "-pk")
    replications = models.Replication.objects.annotate(
        stream_count=Count("streams"),
        last_run_status=Subquery(last_run.values("status")[:1]),
        last_run_id=Subquery(last_run.values("pk")[:1]),
    ).order_by("name")
    if q:
        replications = replications.filter(
            Q(name__icontains=q) | Q(source__icontains=q) | Q(target__icontains=q)
        )
    return replications


def replication_names() -> list[str]:
    return list(models.Replication.objects.values_list("name", flat=True))


def replications_reading(connection: str) -> list[models.Replication]:
    """The replications whose source is `connection` (without case), with their defaults."""
    reading = models.Replication.objects.filter(source__iexact=connection)
    return list(reading.only("name", "source", "target", "defaults").order_by("name"))


def replications_using(connection: str) -> list[models.Replication]:
    """The replications that read from or write to `connection` (names compared without case)."""
    using = Q(source__iexact=connection) | Q(target__iexact=connection)
    return list(models.Replication.objects.filter(using).only("name", "source", "target").order_by("name"))


def replication_get(name: str) -> models.Replication:
    try:
        return models.Replication.objects.get(name=name)
    except models.Replication.DoesNotExist:
        raise NotFound(f"no replication named `{name}`") from None


def replication_yaml(*, name: str) -> str:
    """The replication as `export_replication` writes it: the text it was imported as, with
    the edits since patched in."""
    return current_text(replication_get(name))


def current_text(replication: models.Replication) -> str:
    """The text of the replication's current version (`Revision.yaml`)."""
    revision = models.Revision.objects.filter(replication=replication, version=replication.version).first()
    return revision.yaml if revision else emit(replication.as_config())


def stored_streams(replication: models.Replication) -> Stored:
    """The streams of `replication` as it is now: read once per version (one query) and kept,
    read-only, in the `editor` cache."""
    stored = editor_cache.streams(replication)
    if stored is None:
        rows = list(replication.streams.values_list("pk", "name", "config", "asset_key"))
        config = replication.as_config({name: cfg for _, name, cfg, _ in rows})
        ids = {name: pk for pk, name, _, _ in rows}
        stored = Stored(config, ids, {name: key for _, name, _, key in rows})
        editor_cache.keep_streams(replication, stored)
    return stored


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


def revisions(replication: models.Replication) -> QuerySet[models.Revision]:
    return replication.revisions.select_related("author").defer("document")


def key_conflicts(
    replication: models.Replication, keys: dict[str, str], *, stored: bool = False
) -> list[Problem]:
    """A warning for each stream (name -> its asset key) whose key another replication, or a
    downstream asset, defines too; two streams of one replication: validation says so.
    Two indexed queries, from the keys stored with every stream; `stored`: `keys` are those
    stored with the replication's streams, and the queries look them up in the index for each
    other stream and asset instead of listing them."""
    wanted = {key for key in keys.values() if key}
    if not wanted:
        return []
    others: dict[str, list[str]] = {}
    streams = models.Stream.objects.exclude(replication=replication).order_by()
    assets = models.DownstreamAsset.objects.order_by()
    if stored:
        # The replication's own keys, read once (not an EXISTS per other stream: that made the
        # check of a small replication cost as much as the size of every other one).
        own = models.Stream.objects.filter(replication=replication).exclude(asset_key="").values("asset_key")
        streams = streams.filter(asset_key__in=own)
        assets = assets.filter(key__in=own)
    else:
        streams, assets = streams.filter(asset_key__in=wanted), assets.filter(key__in=wanted)
    rows = streams.values_list("replication__name", "name", "asset_key").union(
        assets.values_list(Value(""), Value(""), "key"), all=True
    )
    for rep, stream, key in sorted(rows):
        others.setdefault(key, []).append(
            f"replication {rep} (stream {stream})" if rep else "a downstream asset"
        )
    return [
        Problem(
            ("streams", name),
            None,
            WARNING,
            f"asset key `{key}` is also defined by {' and '.join(others[key])}: Dagster refuses two "
            "assets with one key (give one another `object` or meta.dagster.asset_key)",
            "key-conflict",
        )
        for name, key in keys.items()
        if key in others
    ]


def with_keys_stamp(replications: QuerySet[models.Replication]) -> QuerySet[models.Replication]:
    """`replications`, each with `keys_stamp`: it changes whenever what `key_conflicts` reads
    may have changed (every edit of a replication bumps its version; a downstream asset's
    too; a deletion lowers a count). In the same query."""

    def total(model: type[models.Replication] | type[models.DownstreamAsset], field: str) -> Subquery:
        rows = model.objects.order_by().annotate(all=Value(1)).values("all")
        return Subquery(rows.annotate(total=Count("id") * 1_000_003 + Sum(field)).values("total"))

    return replications.annotate(
        keys_stamp=Concat(
            Cast(total(models.Replication, "version"), CharField()),
            Value(":"),
            Cast(total(models.DownstreamAsset, "version"), CharField()),
        )
    )
