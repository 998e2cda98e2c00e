"""Validation: every problem as (path, line, severity, message).

The rules are those of the version of sling the studio runs (`versions.Sling`), read
from its Go source and measured on the binary: an error where that sling refuses the
file or fails on it, a warning where it silently ignores something (a misspelled
option, a hook point it does not know) or where the outcome depends on what the
studio cannot see (a connection it does not define, a CLI Pro token). dagster-sling's
rules are checked where dagster-sling would refuse the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from replication.config import ReplicationConfig
from replication.context import Context
from replication.problems import LineOf, Problem
from replication.translator import DagsterSlingTranslator
from replication.validate.memo import Memo, by_stream, check_by_stream
from replication.validate.rules import Rules

__all__ = ["Memo", "validate"]


def validate(
    replication: ReplicationConfig,
    line_of: LineOf | None = None,
    translator: DagsterSlingTranslator | None = None,
    context: Context | None = None,
    memo: Memo | None = None,
    basis: Any = None,
    edited: Iterable[Any] = (),
) -> list[Problem]:
    """All problems of `replication`, errors and warnings, in document order, for the sling
    and the connections of `context` (the shipped sling, connections unknown, when None); with
    the context's file fence, a local path sling would use outside it is an error.

    With a `memo` (and no `line_of`), what it kept of an earlier check of this replication is
    used for the streams that did not change, and it keeps what this check found: the same
    problems, in the same order, as without one. With a `basis` too, the caller says that
    `replication` is the version it names with only the streams `edited` changed (a label of
    the caller's, e.g. the stored version edited): then only those, and those the memo's
    earlier checks of that version changed, are compared with what the memo kept."""
    translator = translator or DagsterSlingTranslator()
    context = context or Context()
    rules = Rules(line_of or (lambda path: None), context)
    if memo is not None and line_of is None and by_stream(replication):
        return check_by_stream(rules, replication, translator, context, memo, basis, set(edited))
    return sorted(rules.check(replication, translator), key=lambda p: p.line or 0)
