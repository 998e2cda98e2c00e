"""What a change of a replication will do when it next runs: the target tables and files it adds,
renames and stops writing, the asset keys it changes (and the downstream assets that read them),
and the streams that will reload in full or change what they write.

Both versions are named as the studio names them everywhere (`resolve_object`, dagster-sling's
translator), for the same sling and connections: nothing here is a guess of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from replication.config import ReplicationConfig, effective_config
from replication.context import Context
from replication.resolve import Names, resolve_object
from replication.translator import DagsterSlingTranslator, asset_keys

# Keys that decide what a stream writes: a change of one changes the rows or columns it lands.
WRITES = ("mode", "primary_key", "update_key", "select", "columns", "transforms", "sql", "where")
# Modes that keep what the target holds and add to it: such a stream starting on an empty
# object (a new name) loads everything the source has.
KEEPING = ("incremental", "snapshot", "backfill", "change-capture")


@dataclass(frozen=True, slots=True)
class Written:
    """What one stream writes, as sling and dagster-sling name it."""

    object: str | None
    asset_key: str
    config: Mapping[str, Any]
    disabled: bool


@dataclass(frozen=True)
class Impact:
    added: list[tuple[str, str]] = field(default_factory=list)  # (stream, object)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (stream, old object, new)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (stream before, object): no one writes it
    asset_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (stream, old key, new key)
    # (downstream key, a key it reads that goes away, the key the same stream now has or "")
    downstream: list[tuple[str, str, str]] = field(default_factory=list)
    reloads: list[tuple[str, str]] = field(default_factory=list)  # (stream, why)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (stream, what changes)

    def __bool__(self) -> bool:
        return any((self.added, self.renamed, self.dropped, self.asset_keys, self.reloads, self.writes))

    @property
    def destructive(self) -> bool:
        """Whether a target stops being written, moves, or reloads in full: what a CI job may stop on."""
        return bool(self.renamed or self.dropped or self.reloads)

    def lines(self) -> list[str]:
        """Each change in a sentence, in the order above."""
        return (
            [f"adds `{obj}` (stream `{stream}`)" for stream, obj in self.added]
            + [f"renames `{old}` to `{new}` (stream `{stream}`)" for stream, old, new in self.renamed]
            + [f"stops writing `{obj}` (stream `{stream}`)" for stream, obj in self.dropped]
            + [
                f"asset key of `{stream}`: {old or 'none'} -> {new or 'none'}"
                for stream, old, new in self.asset_keys
            ]
            + [
                f"downstream asset `{key}` reads {read}, which "
                + (f"becomes {now}: change its deps" if now else "no stream makes any more")
                for key, read, now in self.downstream
            ]
            + [f"`{stream}` reloads in full: {why}" for stream, why in self.reloads]
            + [f"`{stream}` changes what it writes: {what}" for stream, what in self.writes]
        )


def written(
    config: ReplicationConfig, context: Context, translator: DagsterSlingTranslator
) -> dict[str, Written]:
    """Every stream of `config` with what it writes (a stream that cannot be named is left out:
    validation says why)."""
    if not isinstance(config.streams, dict) or not isinstance(config.defaults, dict):
        return {}
    names = Names.of(config, context)
    keys = asset_keys(config, translator)
    found = {}
    for name, own in config.streams.items():
        if not isinstance(name, str) or not isinstance(own, dict | None):
            continue
        effective = effective_config(config.defaults, own, context.sling)
        found[name] = Written(
            object=resolve_object(name, effective, names),
            asset_key=keys.get(name, ""),
            config=effective,
            disabled=effective.get("disabled") is True,
        )
    return found


def impact(
    before: Mapping[str, Written],
    after: Mapping[str, Written],
    downstream: Mapping[str, Iterable[str]] | None = None,
) -> Impact:
    """What going from `before` to `after` (`written` of each) does; `downstream`: each
    downstream asset's key -> the keys it reads."""
    result = Impact()
    live_before = {n: w for n, w in before.items() if not w.disabled and w.object}
    live_after = {n: w for n, w in after.items() if not w.disabled and w.object}
    objects_after = {w.object for w in live_after.values()}
    objects_before = {w.object for w in live_before.values()}
    for name, now in live_after.items():
        then = live_before.get(name)
        if then is None:
            if now.object not in objects_before:
                result.added.append((name, str(now.object)))
        elif then.object != now.object:
            result.renamed.append((name, str(then.object), str(now.object)))
            if now.config.get("mode") in KEEPING:
                result.reloads.append(
                    (name, f"`{now.object}` is new, so its {now.config.get('mode')} starts empty")
                )
        if then is not None:
            changed = [k for k in WRITES if then.config.get(k) != now.config.get(k)]
            if (
                "mode" in changed
                and then.config.get("mode") in KEEPING
                and now.config.get("mode") not in KEEPING
            ):
                result.reloads.append((name, f"mode {then.config.get('mode')} -> {now.config.get('mode')}"))
            if changed:
                result.writes.append((name, ", ".join(_change(k, then.config, now.config) for k in changed)))
    renamed_from = {old for _, old, _ in result.renamed}
    for name, then in live_before.items():
        if then.object not in objects_after and then.object not in renamed_from:
            result.dropped.append((name, str(then.object)))
    # Asset keys: those that come and go (a stream renamed under the same key changes no asset).
    keys_before = {w.asset_key for w in before.values() if w.asset_key}
    keys_after = {w.asset_key for w in after.values() if w.asset_key}
    moved: dict[str, str] = {}
    for name, now in after.items():
        then = before.get(name)
        old = then.asset_key if then is not None and then.asset_key not in keys_after else ""
        if now.asset_key and now.asset_key not in keys_before:
            result.asset_keys.append((name, old, now.asset_key))
            if old:
                moved[old] = now.asset_key
    for name, then in before.items():
        if then.asset_key and then.asset_key not in keys_after and then.asset_key not in moved:
            result.asset_keys.append((name, then.asset_key, ""))
    for key, reads in (downstream or {}).items():
        for read in reads:
            if read in keys_before and read not in keys_after:
                result.downstream.append((key, read, moved.get(read, "")))
    return result


def _change(key: str, then: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    def shown(value: Any) -> str:
        return "unset" if value is None else str(value)

    return f"{key} {shown(then.get(key))} -> {shown(now.get(key))}"
