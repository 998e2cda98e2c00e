"""The replication config as Python objects.

A `ReplicationConfig` keeps every value as it was written: option maps, hooks and
unknown keys are plain data, so nothing Sling knows (or a newer Sling will know)
is lost on the way through the studio. Typed accessors and `validate()` tell
what the values mean and whether they are right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from replication.versions import (
    DEFAULT,
    MERGED_OPTION_KEYS,
    SOURCE_OPTIONS_INHERITED,
    STREAM_KEYS,
    TOP_KEYS,
    Sling,
)

StreamConfig = dict[str, Any]

# A replication's name in the studio: also its file name (`NAME.yaml`) and, cleaned, its Dagster op.
NAME = re.compile(r"[-\w]{1,200}")
# Sling's own connection names and URL-style names need no studio connection.
BUILTIN_CONNECTIONS = frozenset({"LOCAL"})


@dataclass(slots=True)
class ReplicationConfig:
    source: Any
    target: Any
    # Stream name -> its own keys, in file order; None when written as `name:`.
    streams: dict[Any, StreamConfig | None]
    defaults: StreamConfig = field(default_factory=dict)
    hooks: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    # Unknown top-level keys, and known ones whose value was written empty
    # (`defaults:` or `env: {}`), kept verbatim so a round trip loses nothing.
    # Emitted sorted by name after the known keys.
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplicationConfig:
        """Build from a loaded YAML mapping without judging it; `validate()` judges."""
        extra = {k: v for k, v in data.items() if k not in TOP_KEYS or _is_empty(v)}

        def mapping(key: str) -> Any:
            value = data.get(key)
            return {} if _is_empty(value) else value

        return cls(
            source=data.get("source"),
            target=data.get("target"),
            streams=mapping("streams"),
            defaults=mapping("defaults"),
            hooks=mapping("hooks"),
            env=mapping("env"),
            extra=extra,
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical document: known keys in a fixed order, then unknown ones."""
        out: dict[str, Any] = {}
        values = {
            "source": self.source,
            "target": self.target,
            "defaults": canonical_stream(self.defaults) if self.defaults else None,
            "hooks": self.hooks or None,
            "streams": {
                name: None if cfg is None else canonical_stream(cfg) for name, cfg in self.streams.items()
            }
            if self.streams
            else None,
            "env": self.env or None,
        }
        for key in TOP_KEYS:
            if values[key] is not None:
                out[key] = values[key]
            elif key in self.extra:
                out[key] = self.extra[key]
        for key in sorted((k for k in self.extra if k not in TOP_KEYS), key=str):
            out[key] = self.extra[key]
        return out

    def with_mode(self, mode: str) -> ReplicationConfig:
        """The replication as `sling run --mode MODE` runs it: every stream in that mode."""
        streams = {name: {**(own or {}), "mode": mode} for name, own in self.streams.items()}
        return replace(self, streams=streams)

    def with_range(self, span: str) -> ReplicationConfig:
        """The replication as `sling run --range START,END` runs it: every stream reading that
        range (`source_options.range`, what backfill mode loads)."""
        streams = {}
        for name, own in self.streams.items():
            # Its effective options made its own: options of its own stop some defaults' (`format`).
            options = self.effective(name).get("source_options")
            options = {**(options if isinstance(options, dict) else {}), "range": span}
            streams[name] = {**(own or {}), "source_options": options}
        return replace(self, streams=streams)

    def stream_names(self) -> list[str]:
        return [str(name) for name in self.streams]

    def effective(self, name: Any) -> StreamConfig:
        return effective_config(self.defaults, self.streams[name])


def with_stream(
    streams: dict[Any, StreamConfig | None], old: Any, new: Any, config: StreamConfig | None
) -> dict[Any, StreamConfig | None]:
    """`streams` with stream `old` renamed `new` and given `config`, in its place."""
    if new == old:
        return {**streams, old: config}
    return {(new if name == old else name): (config if name == old else c) for name, c in streams.items()}


def bulk_edit(
    streams: dict[Any, StreamConfig | None],
    names: list[str],
    action: str,
    *,
    key: str | None = None,
    value: Any = None,
) -> dict[Any, StreamConfig | None]:
    """The streams after `action` (enable, disable, duplicate, delete, set) on `names`."""
    chosen = set(names)
    out: dict[Any, StreamConfig | None] = {}
    for name, config in streams.items():
        if name not in chosen:
            out[name] = config
            continue
        own = dict(config or {})
        if action == "delete":
            continue
        if action == "enable":
            own.pop("disabled", None)
        elif action == "disable":
            own["disabled"] = True
        elif action == "set" and key:
            if value is None:
                own.pop(key, None)
            else:
                own[key] = value
        elif action == "duplicate":
            out[name] = config
            copy = f"{name}_copy"
            while copy in streams or copy in out:
                copy += "_copy"
            name = copy
        out[name] = own or (None if config is None else {})
    return out


# What YAML 1.1 (sling's yaml.v2) reads as true or false where PyYAML reads text.
YAML11_BOOLEANS = {"y": True, "Y": True, "n": False, "N": False}


def is_true(value: Any) -> bool:
    """Whether sling reads `value` as true (as YAML 1.1 does: `y` is true)."""
    if isinstance(value, str):
        return YAML11_BOOLEANS.get(value) is True
    return value is True


def _is_empty(value: Any) -> bool:
    return value is None or value == {}


def canonical_stream(config: StreamConfig) -> StreamConfig:
    """Known stream keys in the canonical order, then unknown keys sorted by name."""
    known = {k: config[k] for k in STREAM_KEYS if k in config}
    known.update((k, config[k]) for k in sorted((k for k in config if k not in STREAM_KEYS), key=str))
    return known


def effective_config(
    defaults: StreamConfig, own: StreamConfig | None, sling: Sling = DEFAULT
) -> StreamConfig:
    """A stream's config with `defaults` merged under it, as this version of sling merges them
    (SetStreamDefaults, SourceOptions.SetDefaults).

    Every key comes from defaults only when the stream lacks it, except:
    `target_options` (and `change_capture_options`) merge key by key, stream winning;
    `source_options` too, but for the keys sling never takes from defaults once a stream
    has options of its own (`format`, `flatten`, `limit`, `offset`, `chunk_size`, ...);
    `columns` merge when the stream prefixes its names with `+` (from 1.5.12; before,
    the stream's replace them); empty `hooks` of a stream take the defaults' (from
    1.5.0); `meta` merges deeply (as dagster-sling does; Sling ignores it).
    """
    own = own or {}
    merged = dict(own)
    for key, default in (defaults or {}).items():
        if key not in own:
            merged[key] = default
            continue
        value = own[key]
        if not (isinstance(default, dict) and isinstance(value, dict)):
            if key == "hooks" and not value and sling.feature("empty_hooks_inherit"):
                merged[key] = default
            continue
        if key == "source_options":
            merged[key] = {
                **{k: v for k, v in default.items() if sling.has(SOURCE_OPTIONS_INHERITED, k)},
                **value,
            }
        elif key in MERGED_OPTION_KEYS:
            merged[key] = {**default, **value}
        elif key == "columns":
            if any(str(c).startswith("+") for c in value) and sling.feature("plus_columns_merge"):
                merged[key] = {**default, **{str(c).lstrip("+"): t for c, t in value.items()}}
        elif key == "hooks" and not value and sling.feature("empty_hooks_inherit"):
            merged[key] = default
        elif key == "meta":
            merged[key] = deep_merge(default, value)
    return merged


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` merged onto `base`, recursing into maps both have."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def needed_connections(replication: ReplicationConfig) -> list[str]:
    """Connection names the run needs (built-ins and URLs excluded): its source and target, and
    the `connection:` of its hooks (the replication's, its defaults' and each stream's)."""
    streams = replication.streams.values() if isinstance(replication.streams, dict) else ()
    named = [replication.source, replication.target, *hook_connections(replication.hooks)]
    for config in (replication.defaults, *streams):
        if isinstance(config, dict):
            named += hook_connections(config.get("hooks"))
    return connection_names(named)


def hook_connections(hooks: Any) -> list[Any]:
    """The `connection:` of each hook of `hooks` (hook point -> hooks), as written."""
    return [
        hook.get("connection")
        for items in (hooks.values() if isinstance(hooks, dict) else ())
        for hook in items or ()
        if isinstance(hook, dict)
    ]


def connection_names(named: list[Any]) -> list[str]:
    """The connection names among `named`, each once (as written first): no built-ins, no URLs."""
    names: dict[str, str] = {}  # upper-cased -> as written first
    for value in named:
        if (
            isinstance(value, str)
            and value
            and "://" not in value
            and value.upper() not in BUILTIN_CONNECTIONS
        ):
            names.setdefault(value.upper(), value)
    return list(names.values())


def references(text: str, names: Iterable[str]) -> list[str]:
    """The names among `names` that `text` refers to as a variable of sling's environment,
    `$NAME` or `${NAME}`. Sling replaces them in a connection's fields, the values of `env:` and
    the text of a task (there even inside a longer word), so any such text is a reference:
    naming a connection of the run gives sling's copy of it, secrets included."""
    if "$" not in text:
        return []
    return [name for name in names if f"${name}" in text or f"${{{name}}}" in text]
