"""Versioned saves of a row people edit: an edit names the version it was made on, and a save
after someone else's is refused with their change shown (as replications' saves are)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

from replication.yamlio import dump
from studio.errors import Conflict
from studio.selectors.replications import text_diff

Row = TypeVar("Row", bound=models.Model)


def check_version(instance: Row, base_version: int | None, base: dict[str, Any] | None = None) -> Row:
    """The row locked for the save (SELECT ... FOR UPDATE, in the caller's transaction), its
    version bumped; `Conflict` when it is no longer `base_version`. `base`: what the editor saw
    then (`state()`), for the diff of what changed since; without it, the diff is against
    nothing. `base_version` None: a save that edits no particular version (an import)."""
    current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    if base_version is not None and current.version != base_version:
        before = dump(base).rstrip("\n") + "\n" if base else ""
        diff = text_diff(
            before, dump(current.state()), f"version {base_version}", f"version {current.version}"
        )
        raise Conflict(name=str(current), version=current.version, base_version=base_version, diff=diff)
    current.version += 1
    return current
