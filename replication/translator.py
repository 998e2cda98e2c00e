"""Dagster asset specs for replication streams, as dagster-sling makes them.

`DagsterSlingTranslator` mirrors dagster-sling's class of the same name
(`dagster_sling/dagster_sling_translator.py` and `asset_decorator.py`):

- one spec per stream in `streams`, skipping streams whose own config says
  `disabled: true`; wildcards are not expanded;
- `defaults.meta.dagster` deep-merged under each stream's `meta.dagster`;
  no other `defaults` key is consulted (so `defaults.object` does not change keys);
- key: `meta.dagster.asset_key` split on `.`, else `[target_prefix]` + the
  sanitized `object` (or stream name) split on `.`;
- deps: `meta.dagster.deps` (a string or a list), else the sanitized stream name;
- description: `sql` when the stream has that key, else `meta.dagster.description`;
- group: `meta.dagster.group`; kinds: {"sling"}; tags: {}.

Subclass it and override `get_asset_spec` (or one of the `get_*` methods) to
change the mapping, and name the subclass in the `SLING_STUDIO_TRANSLATOR` setting.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from replication.config import ReplicationConfig, deep_merge

AssetKey = tuple[str, ...]

# The keys of `meta.dagster` dagster-sling reads (validation warns of any other).
DAGSTER_META_KEYS = (
    "asset_key",
    "deps",
    "group",
    "description",
    "freshness_policy",
    "auto_materialize_policy",
)

# dagster's `clean_name_lower_with_dots`: a run of other characters becomes one `_`.
_UNSAFE = re.compile(r"[^a-zA-Z0-9_.]+")


class TranslationError(ValueError):
    """dagster-sling would refuse this stream (it raises ValueError for the same cases)."""

    def __init__(self, stream: str, field_name: str, message: str) -> None:
        super().__init__(message)
        self.stream = stream
        self.field = field_name


@dataclass(frozen=True, slots=True)
class AssetSpec:
    key: AssetKey
    deps: tuple[AssetKey, ...]
    description: str | None = None
    group_name: str | None = None
    kinds: frozenset[str] = frozenset({"sling"})
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    freshness_policy: dict[str, Any] | None = None
    auto_materialize_policy: str | None = None


def key_to_string(key: AssetKey) -> str:
    """Dagster's user string for a key: parts joined by `/`."""
    return "/".join(key)


@dataclass
class DagsterSlingTranslator:
    target_prefix: str = "target"

    def get_asset_spec(self, stream_definition: dict[str, Any]) -> AssetSpec:
        return AssetSpec(
            key=self.get_asset_key(stream_definition),
            deps=tuple(self.get_deps_asset_key(stream_definition)),
            description=self.get_description(stream_definition),
            group_name=self.get_group_name(stream_definition),
            kinds=frozenset(self.get_kinds(stream_definition)),
            tags=self.get_tags(stream_definition),
            metadata=self.get_metadata(stream_definition),
            freshness_policy=dagster_meta(stream_definition).get("freshness_policy"),
            auto_materialize_policy="eager"
            if "auto_materialize_policy" in dagster_meta(stream_definition)
            else None,
        )

    def sanitize_stream_name(self, stream_name: str) -> str:
        # Lower-cased after the substitution, as dagster does (`K`, the Kelvin sign, lowers to `k`).
        return _UNSAFE.sub("_", stream_name.replace('"', "")).lower()

    def get_asset_key(self, stream_definition: dict[str, Any]) -> AssetKey:
        config = stream_definition.get("config") or {}
        asset_key = dagster_meta(stream_definition).get("asset_key")
        if asset_key:
            self._require_sanitized(stream_definition, "asset_key", asset_key)
            return tuple(asset_key.split("."))
        name = config.get("object") or stream_definition["name"]
        return (self.target_prefix, *self.sanitize_stream_name(str(name)).split("."))

    def get_deps_asset_key(self, stream_definition: dict[str, Any]) -> list[AssetKey]:
        deps = dagster_meta(stream_definition).get("deps")
        if deps and isinstance(deps, str):
            deps = [deps]
        if deps and not isinstance(deps, list):
            raise TranslationError(
                str(stream_definition["name"]), "deps", "meta.dagster.deps must be a key or a list of keys"
            )
        if deps:
            for dep in deps:
                self._require_sanitized(stream_definition, "deps", dep)
            return [tuple(dep.split(".")) for dep in deps]
        return [tuple(self.sanitize_stream_name(str(stream_definition["name"])).split("."))]

    def get_description(self, stream_definition: dict[str, Any]) -> str | None:
        config = stream_definition.get("config") or {}
        if "sql" in config:
            return config["sql"]
        return dagster_meta(stream_definition).get("description")

    def get_group_name(self, stream_definition: dict[str, Any]) -> str | None:
        return dagster_meta(stream_definition).get("group")

    def get_kinds(self, stream_definition: dict[str, Any]) -> set[str]:
        return {"sling"}

    def get_tags(self, stream_definition: dict[str, Any]) -> dict[str, str]:
        return {}

    def get_metadata(self, stream_definition: dict[str, Any]) -> dict[str, Any]:
        return {"stream_config": stream_definition.get("config") or {}}

    def _require_sanitized(self, stream_definition: dict[str, Any], name: str, value: Any) -> None:
        if not isinstance(value, str) or self.sanitize_stream_name(value) != value:
            raise TranslationError(
                str(stream_definition["name"]),
                name,
                f"meta.dagster.{name} `{value}` is not sanitized: dagster-sling accepts only "
                "lower-case letters, digits, `_` and `.` there",
            )


def dagster_meta(stream_definition: dict[str, Any]) -> dict[str, Any]:
    config = stream_definition.get("config") or {}
    meta = config.get("meta") or {}
    dagster = meta.get("dagster") if isinstance(meta, dict) else None
    return dagster if isinstance(dagster, dict) else {}


def stream_definitions(replication: ReplicationConfig) -> Iterator[dict[str, Any]]:
    """The `{"name", "config"}` pairs dagster-sling hands its translator, in file order."""
    defaults_meta = replication.defaults.get("meta") if isinstance(replication.defaults, dict) else None
    default_dagster = defaults_meta.get("dagster") if isinstance(defaults_meta, dict) else None
    for name, config in replication.streams.items():
        if isinstance(config, dict) and config.get("disabled", False):
            continue
        if default_dagster and isinstance(default_dagster, dict):
            if not config:
                config = {"meta": {"dagster": default_dagster}}
            elif isinstance(own_meta := config.get("meta") or {}, dict):  # else: refused by its type check
                config = {**config, "meta": deep_merge({"dagster": default_dagster}, own_meta)}
        yield {"name": name, "config": config}


def load_translator(dotted_path: str | None) -> DagsterSlingTranslator:
    """An instance of the translator class named by `package.module.Class` (default: ours)."""
    if not dotted_path:
        return DagsterSlingTranslator()
    module_name, _, class_name = dotted_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"cannot load translator `{dotted_path}`: {exc}") from None
    return cls()


def asset_keys(replication: ReplicationConfig, translator: DagsterSlingTranslator) -> dict[Any, str]:
    """Stream name -> the user string of the asset key dagster-sling gives it; '' for a
    stream that has no asset (disabled) or whose key dagster-sling refuses."""
    keys: dict[Any, str] = dict.fromkeys(replication.streams, "")
    for definition in stream_definitions(replication):
        if not isinstance(definition["config"], dict | None):
            continue
        try:
            keys[definition["name"]] = key_to_string(translator.get_asset_key(definition))
        except (TranslationError, TypeError, AttributeError):
            continue
    return keys
