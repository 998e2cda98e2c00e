"""The memo: what a check found for each stream of a replication, and the engine that checks a
later version of it stream by stream, looking again only at the streams that changed.

The engine asks the rules (`StreamRules`, which `rules.Rules` is) for one stream's part and
for each pass's problems outside the streams, and puts them together in the order a whole
check (`rules.Rules.check`) finds them: the same problems, in the same order.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol

from replication.config import ReplicationConfig
from replication.context import Context
from replication.problems import Problem, Where
from replication.translator import DagsterSlingTranslator
from replication.validate.rules import StreamPart


class StreamRules(Protocol):
    """What the engine asks of the rules of one check; each returns what it finds."""

    def top(self, rep: ReplicationConfig) -> tuple[list[Problem], Where | None]:
        """The problems of everything but the streams, and the first hook sling would run there
        (None: none). Asked first: the streams' rules read the names it finds."""
        ...

    def stream_part(
        self, rep: ReplicationConfig, name: Any, config: Any, translator: DagsterSlingTranslator
    ) -> StreamPart:
        """One stream's share of each pass but the references, as if it were the only one."""
        ...

    def hook_token(self, where: Where | None) -> list[Problem]:
        """The warning that the hook at `where` needs a CLI Pro token the studio does not have."""
        ...

    def key_clash(self, name: Any, key: tuple[str, ...], other: Any) -> Problem:
        """The warning that stream `name` has the asset key of the earlier stream `other`."""
        ...

    def storable(self, rep: ReplicationConfig) -> list[Problem]:
        """The values of `rep` that cannot be stored."""
        ...

    def reference_names(self, rep: ReplicationConfig, more: Iterable[Any] = ()) -> frozenset[str]:
        """The connections whose `$NAME` is a problem: those `rep` needs, and those of `more`."""
        ...

    def references(self, values: list[tuple[Where, Any]], names: frozenset[str]) -> list[Problem]:
        """The `$NAME` of `names` in `values` ((where, value) pairs), the last value's first."""
        ...


class Memo:
    """What `validate` found for each stream of one replication, to check a later version of
    it again only where it changed: streams whose name and config are the same, with the same
    rest of the replication and the same context, reuse their problems. Files that appear or
    vanish meanwhile (a LOCAL stream's file, the fence) are not looked at again for them: the
    caller keeps a memo only for a while (`studio.editor_cache.MEMO_SECONDS`).

    Besides each stream's part, what the last check put together from them (which streams add
    problems, the asset keys, the references), so that a check told what changed (`basis`)
    updates that for the changed streams only. One check at a time uses it (`lock`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.around: tuple[Any, ...] | None = None
        self.streams: dict[Any, tuple[Any, StreamPart]] = {}
        self.forget()

    def forget(self) -> None:
        """Drop what the last check put together (each stream's part stays)."""
        self.order: list[Any] = []  # the streams of the last check, in their order
        self.place: dict[Any, int] = {}
        self.busy: set[Any] = set()  # streams whose part adds to a pass but the references
        self.keys: dict[Any, tuple[str, ...]] = {}  # stream -> its asset key
        self.key_count: Counter[tuple[str, ...]] = Counter()
        self.clashing: set[tuple[str, ...]] = set()  # keys of two streams or more
        self.names: frozenset[str] | None = None  # the names the references were checked for
        self.referring: set[Any] = set()  # streams whose references found problems
        # The last check was of version `basis` (the caller's label) but for streams `dirty`.
        self.basis: Any = None
        self.dirty: set[Any] = set()

    def parts(self, around: tuple[Any, ...]) -> dict[Any, tuple[Any, StreamPart]]:
        if self.around != around:
            self.around, self.streams = copy.deepcopy(around), {}
            self.forget()
        return self.streams

    def rebase(self, old: Any, new: Any, edited: Iterable[Any]) -> None:
        """Version `new` was saved: version `old` with the streams `edited` changed."""
        with self.lock:
            if old is not None and self.basis == old:
                self.basis = new
                self.dirty |= set(edited)

    def count(self, name: Any, part: StreamPart, sign: int) -> None:
        """Add (1) or take away (-1) what stream `name`'s part puts together."""
        if part.busy:
            (self.busy.add if sign > 0 else self.busy.discard)(name)
        if part.key is not None:
            key = part.key
            self.key_count[key] += sign
            if sign > 0:
                self.keys[name] = key
            else:
                del self.keys[name]
            if self.key_count[key] > 1:
                self.clashing.add(key)
            else:
                self.clashing.discard(key)
                if not self.key_count[key]:
                    del self.key_count[key]
        if part.references is not None and part.references[1] and sign < 0:
            self.referring.discard(name)


def by_stream(rep: ReplicationConfig) -> bool:
    """Whether `rep` is checked stream by stream the same as whole (the usual case)."""
    return isinstance(rep.streams, dict) and bool(rep.streams) and isinstance(rep.defaults, dict)


def check_by_stream(
    rules: StreamRules,
    rep: ReplicationConfig,
    translator: DagsterSlingTranslator,
    context: Context,
    memo: Memo,
    basis: Any,
    edited: set[Any],
) -> list[Problem]:
    """`validate`'s passes in their order, each stream's share of them from `memo` (found
    again for the streams not in it), the rest from `rules`: the same problems, in the same
    order, as the passes over the whole replication (`by_stream(rep)` must be true)."""
    with memo.lock:
        streams, defaults = rep.streams, rep.defaults
        top = replace(rep, streams={})
        problems, hooked = rules.top(rep)
        around = (
            rep.source,
            rep.target,
            defaults,
            rep.env,
            rep.hooks,
            rep.extra,
            context,
            type(translator),
        )
        kept = memo.parts(around)
        order = list(streams)
        if basis is not None and memo.basis == basis and order == memo.order:
            # The streams are those of the last check, in its order: only those the caller
            # edited, or the last checks of that version did, may differ from what was kept.
            look = [name for name in memo.dirty | edited if name in streams]
        else:
            look = order
            for name in kept.keys() - streams.keys():
                del kept[name]
            memo.forget()
            memo.order, memo.place = order, {name: i for i, name in enumerate(order)}
        fresh = []
        for name in look:
            config, found = streams[name], kept.get(name)
            if found is not None and found[0] == config:
                if look is order:
                    memo.count(name, found[1], 1)
                continue
            if found is not None and look is not order:
                memo.count(name, found[1], -1)
            part = rules.stream_part(rep, name, config, translator)
            kept[name] = (copy.deepcopy(config), part)
            memo.count(name, part, 1)
            fresh.append(name)
        # What was kept is now this check's streams: version `basis` but for those `edited`.
        memo.basis, memo.dirty = basis, edited if basis is not None else set()
        place = memo.place.__getitem__
        # Most streams add nothing to most passes: only those that do are gone through.
        busy = [kept[name][1] for name in sorted(memo.busy, key=place)]
        for part in busy:
            problems += part.checked
            if hooked is None:
                hooked = part.hooked
        problems += rules.hook_token(hooked)
        clashes: dict[Any, Any] = {}  # stream -> the earlier stream with its key
        if memo.clashing:
            first: dict[tuple[str, ...], Any] = {}
            for name in order:
                key = memo.keys.get(name)
                if key in memo.clashing:
                    if key in first:
                        clashes[name] = first[key]
                    else:
                        first[key] = name
        for name in sorted(memo.busy | clashes.keys(), key=place):
            part = kept[name][1]
            problems += part.keyed
            if name in clashes:
                problems.append(rules.key_clash(name, part.key, clashes[name]))
        problems += rules.storable(top)
        for part in busy:
            problems += part.storable
        for part in busy:
            problems += part.files
        # The hooks of every stream count, each stream's from its part.
        names = rules.reference_names(top, [c for part in busy for c in part.connections])
        if names:
            again = order if names != memo.names else fresh
            for name in again:
                part = kept[name][1]
                if part.references is None or part.references[0] != names:
                    part.references = (names, rules.references([(("streams", name), streams[name])], names))
                if part.references[1]:
                    memo.referring.add(name)
                else:
                    memo.referring.discard(name)
            memo.names = names
            for name in sorted(memo.referring, key=place, reverse=True):
                problems += kept[name][1].references[1]
            problems += rules.references(
                [(("env",), rep.env), (("hooks",), rep.hooks), (("defaults",), defaults)], names
            )
        else:  # no references looked at: the next check that has some looks at every stream's
            memo.names = None
        return problems
