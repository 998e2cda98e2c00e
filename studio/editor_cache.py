"""The `editor` cache (settings.CACHES): what the editor keeps of each version of a replication,
so its requests read it instead of loading and checking the whole replication each time. Every
key of it is made here.

A version is named by its row's id, version number and time of save (`version_key`): its streams
(`Stored`), the positions and filter index of its streams, what its check found (`checked`, kept
by the save that made it), and its problems with what else they depend on (`problems`). Per
replication, the memo of its checks (`memo`): an edit checks only what it changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from django.conf import settings
from django.core.cache import caches

if TYPE_CHECKING:
    from replication.config import ReplicationConfig
    from replication.context import Context
    from replication.problems import Problem
    from replication.validate import Memo
    from studio import models

CACHE = "editor"
# How long what a check found per stream is reused: a file a stream reads that appears or
# vanishes on disk (a memo does not look again) shows in the editor within this time.
MEMO_SECONDS = 300

T = TypeVar("T")


class Stored(NamedTuple):
    """A version's streams as stored: its config, stream name -> row id (in file order) and
    stream name -> asset key; `keyed_by`: what the keys were computed with (None: not known,
    read from the rows), so a save reuses those of the streams it did not change, as it does
    their part of the revision's document (`fragments`, `Revision.document_of`)."""

    config: ReplicationConfig
    ids: dict[str, int]
    keys: dict[str, str]
    keyed_by: Any = None
    fragments: dict[str, str] | None = None


def version_key(replication: models.Replication) -> str:
    """The key of the replication's streams at its version; also the version's name for the
    check's memo (`validate(..., basis=)`)."""
    return f"streams:{replication.pk}:{replication.version}:{replication.updated.isoformat()}"


def streams(replication: models.Replication) -> Stored | None:
    """The streams of `replication` at its version, when kept."""
    return caches[CACHE].get(version_key(replication))


def keep_streams(replication: models.Replication, stored: Stored) -> None:
    caches[CACHE].set(version_key(replication), stored)


def of_version(basis: str, what: str, make: Callable[[], T]) -> T:
    """`what` of the version named `basis` (its stream positions, its filter index), made once."""
    return caches[CACHE].get_or_set(f"{what}:{basis}", make)


def _hashed(prefix: str, stamp: str) -> str:
    return f"{prefix}:" + hashlib.sha256(stamp.encode()).hexdigest()


def _checked_key(replication: models.Replication, context: Context) -> str:
    version = f"{replication.pk}:{replication.version}:{replication.updated.isoformat()}"
    return _hashed("checked", f"{version}:{settings.SLING_STUDIO_TRANSLATOR}:{context!r}")


def checked(replication: models.Replication, context: Context) -> list[Problem] | None:
    """What the check of `replication` at its version with `context` and the translator found,
    when its save kept it."""
    return caches[CACHE].get(_checked_key(replication, context))


def keep_checked(replication: models.Replication, context: Context, problems: list[Problem]) -> None:
    caches[CACHE].set(_checked_key(replication, context), list(problems))


def problems(basis: str, others: Any, context: Context, make: Callable[[], list[Problem]]) -> list[Problem]:
    """The problems of version `basis`, as of `others` (what else they read: other
    replications' keys) with `context` and the translator; made once for each."""
    stamp = f"{basis}:{others}:{settings.SLING_STUDIO_TRANSLATOR}:{context!r}"
    key = _hashed("problems", stamp)
    found = caches[CACHE].get(key)
    if found is None:
        found = make()
        caches[CACHE].set(key, found)
    return found


def memo(replication: str) -> Memo:
    """What the checks of replication `replication` found per stream, kept in this process for
    MEMO_SECONDS for the next check of it: an edit checks what it changed."""
    cache = caches[CACHE]
    key = _hashed("memo", replication)
    found = cache.get(key)
    if found is None:
        # Imported here: validation is not loaded by a run, which has no editor.
        from replication.validate import Memo

        found = Memo()
        cache.set(key, found, timeout=MEMO_SECONDS)
    return found
