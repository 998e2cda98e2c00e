"""Writes of downstream assets: the dbt models and reports that read Sling's tables."""

from __future__ import annotations

from typing import Any

import networkx as nx
from django.db import transaction

from replication.lineage.graph import TARGET
from studio import models
from studio.errors import Refused
from studio.selectors.lineage import lineage_joined
from studio.services import audit
from studio.services.versions import changed_since, versioned_update


@transaction.atomic
def downstream_save(
    *,
    key: str,
    deps: list[str],
    description: str = "",
    group: str = "",
    tags: list[str] | None = None,
    instance: models.DownstreamAsset | None = None,
    base_version: int | None = None,
    base: dict[str, Any] | None = None,
) -> models.DownstreamAsset:
    """Create or update a downstream asset (the change of `base_version`, whose state the
    editor saw was `base`). Raises `Refused` when its key is a replication's asset, it depends
    on itself, or its deps would close a cycle; `Conflict` when someone saved it since."""
    if instance is not None:
        instance = versioned_update(instance, base_version, changed=changed_since(base, base_version))
    taken = models.DownstreamAsset.objects.filter(key=key)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise Refused.field("key", f"a downstream asset `{key}` exists")
    graph = lineage_joined()
    if graph.nodes.get(key, {}).get("kind") == TARGET:
        raise Refused.field("key", f"`{key}` is the asset of a replication stream; pick another key")
    if key in deps:
        raise Refused.field("deps", "an asset cannot depend on itself")
    old = instance.key if instance is not None else None
    if old is not None and old != key and graph.has_node(old) and any(True for _ in graph.successors(old)):
        readers = ", ".join(sorted(graph.successors(old))[:3])
        raise Refused.field("key", f"`{old}` is read by {readers}: rename those deps first")
    lookup = key if old is None else old
    for dep in deps:
        if graph.has_node(dep) and graph.has_node(lookup) and nx.has_path(graph, lookup, dep):
            raise Refused.field("deps", f"`{dep}` already depends on `{key}`: that would be a cycle")
    values = {"key": key, "deps": deps, "description": description, "group": group, "tags": tags or []}
    if instance is None:
        created = models.DownstreamAsset.objects.create(**values)
        audit.record("created", created, details={"fields": audit.field_changes({}, values)})
        return created
    before = {name: getattr(instance, name) for name in values}
    for name, value in values.items():
        setattr(instance, name, value)
    instance.save()
    changes = audit.field_changes(before, values)
    audit.record(
        "changed",
        instance,
        summary=audit.changes_summary(changes),
        details={"version": instance.version, "fields": changes},
    )
    return instance


@transaction.atomic
def downstream_delete(*, instance: models.DownstreamAsset) -> None:
    audit.record("deleted", instance)
    instance.delete()
