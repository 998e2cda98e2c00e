"""What a change of a replication will do when it next runs (replication/impact.py), named with
this studio's sling, connections and translator: the import preview, the history's compare, and
`import_replication --check --base DIR`."""

from __future__ import annotations

from replication.config import ReplicationConfig
from replication.context import Context
from replication.impact import Impact, impact, written
from replication.yamlio import YamlError, parse
from studio import configured, models, validation


def change_impact(
    before: ReplicationConfig | None,
    after: ReplicationConfig | None,
    context: Context | None = None,
    stored: bool = True,
) -> Impact:
    """From `before` (None: a new replication) to `after` (None: deleted), with the downstream
    assets that read what goes away (`stored=False`: no studio database, so none of those and
    none of its connections)."""
    context = context or validation.context(stored)
    translator = configured.translator()
    then = written(before, context, translator) if before is not None else {}
    now = written(after, context, translator) if after is not None else {}
    downstream = dict(models.DownstreamAsset.objects.values_list("key", "deps")) if stored else {}
    return impact(then, now, downstream)


def text_impact(before: str | bytes | None, after: str | bytes | None, stored: bool = True) -> Impact | None:
    """`change_impact` of two texts (None: none); None when either cannot be read (its problems
    say why)."""
    try:
        then = parse(before).replication if before is not None else None
        now = parse(after).replication if after is not None else None
    except YamlError:
        return None
    return change_impact(then, now, stored=stored)


def revision_impact(replication: models.Replication, old: int, new: int) -> Impact | None:
    """`change_impact` from version `old` to `new`; None when either is unknown."""
    configs = {
        revision.version: revision.config
        for revision in models.Revision.objects.filter(replication=replication, version__in=[old, new])
    }
    if old not in configs or new not in configs:
        return None
    return change_impact(configs[old], configs[new])
