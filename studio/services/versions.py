"""Versioned saves of whatever people edit (replications, connections, downstream assets,
schedules, run policies): an edit names the version it was made on, and a save after someone
else's is refused with `Conflict`, showing what they changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.db.models import F

from replication.yamlio import dump
from studio.errors import Conflict
from studio.selectors.replications import text_diff

Row = TypeVar("Row", bound=models.Model)

# Said when an edit does not name the version it was made on (a form from before versions, or
# tampered with): nothing is saved.
VERSION_MISSING = "the edited version is missing: reload the page"


def versioned_update(
    instance: Row,
    base_version: int | None,
    *,
    changed: Callable[[Row], str],
    name: str | None = None,
) -> Row:
    """Take the next version of `instance` for a save in the caller's transaction: the row as
    stored now, its version one more. One UPDATE compares and bumps, so of two saves of one
    version only the first passes; the other gets `Conflict` (`name`, else the row's name),
    with `changed(row as it is now)` saying what changed since. `base_version` None: a save that
    edits no particular version (an import)."""
    rows = type(instance)._default_manager.filter(pk=instance.pk)
    if base_version is None:
        rows.update(version=F("version") + 1)
    elif not rows.filter(version=base_version).update(version=base_version + 1):
        current = rows.get()
        raise Conflict(
            name=name or str(current),
            version=current.version,
            base_version=base_version,
            diff=changed(current),
        )
    return rows.get()


def changed_since(base: dict[str, Any] | None, base_version: int | None) -> Callable[[Any], str]:
    """`changed` for a row with `state()`: the diff from `base`, the state the editor saw at
    `base_version` (without it, against nothing), to the row's state now."""

    def diff(current: Any) -> str:
        before = dump(base).rstrip("\n") + "\n" if base else ""
        return text_diff(
            before, dump(current.state()), f"version {base_version}", f"version {current.version}"
        )

    return diff
