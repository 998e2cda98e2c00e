"""Validation: every problem as (path, line, severity, message).

The rules are Sling's own where Sling has one (`config.go`, `replication.go`) and
dagster-sling's where dagster-sling would refuse the file.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from replication.config import ReplicationConfig, StreamConfig, effective_config, needed_connections
from replication.fence import Fence, replication_paths
from replication.spec import (
    DAGSTER_META_KEYS,
    MODES,
    REPLICATION_HOOK_KEYS,
    STREAM_HOOK_KEYS,
    STREAM_KEYS,
    TOP_KEYS,
)
from replication.translator import (
    DagsterSlingTranslator,
    TranslationError,
    key_to_string,
    stream_definitions,
)

ERROR = "error"
WARNING = "warning"

Path = tuple[Any, ...]
LineOf = Callable[[Path], "int | None"]

_VARIABLE = re.compile(r"\{[^{}\s]+\}")


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    line: int | None
    severity: str
    message: str
    code: str = ""  # a stable name for problems callers treat specially

    @property
    def where(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        where = f"{self.where}: " if self.path else ""
        return f"{self.severity}: {where}{self.message}"


def format_path(path: Path) -> str:
    """`streams["public.users"].mode`: dotted, with stream names quoted when they need it."""
    out = ""
    for part in path:
        text = str(part)
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
            out += f".{text}" if out else text
        else:
            out += f'["{text}"]'
    return out


def validate(
    replication: ReplicationConfig,
    line_of: LineOf | None = None,
    translator: DagsterSlingTranslator | None = None,
    fence: Fence | None = None,
    local_connections: tuple[str, ...] = (),
) -> list[Problem]:
    """All problems of `replication`, errors and warnings, in document order. With a `fence`,
    a local path outside it is an error (`local_connections`: the names of file connections,
    whose streams and objects are paths too)."""
    checker = _Checker(line_of or (lambda path: None))
    checker.replication(replication)
    checker.asset_keys(replication, translator or DagsterSlingTranslator())
    checker.storable(replication)
    if fence is not None:
        checker.files(replication, fence, local_connections)
    checker.references(replication)
    return sorted(checker.problems, key=lambda p: p.line or 0)


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.7)
    return f"; did you mean `{match[0]}`?" if match else ""


class _Checker:
    def __init__(self, line_of: LineOf) -> None:
        self.line_of = line_of
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str, severity: str = ERROR, code: str = "") -> None:
        self.problems.append(Problem(path, self.line_of(path), severity, message, code))

    def replication(self, rep: ReplicationConfig) -> None:
        for key in ("source", "target"):
            value = getattr(rep, key)
            if value is None or value == "":
                self.add((key,) if key in rep.extra else (), f"`{key}` is missing: name the {key} connection")
            elif not isinstance(value, str):
                self.add((key,), f"`{key}` must be a connection name (text)")
        for key in rep.extra:
            if key not in TOP_KEYS:
                self.add(
                    (key,),
                    f"unknown top-level key `{key}`{suggest(str(key), TOP_KEYS)} (kept, Sling ignores it)",
                    WARNING,
                )
        if not isinstance(rep.defaults, dict):
            self.add(("defaults",), "`defaults` must be a mapping of stream keys")
        else:
            self.stream_keys(("defaults",), rep.defaults)
        if not isinstance(rep.env, dict):
            self.add(("env",), "`env` must be a mapping of names to values")
        self.hooks(("hooks",), rep.hooks, REPLICATION_HOOK_KEYS)
        if not isinstance(rep.streams, dict):
            self.add(("streams",), "`streams` must be a mapping of stream names to their config")
            return
        if not rep.streams:
            where = ("streams",) if "streams" in rep.extra else ()
            message = "`streams` is missing or empty: a replication needs at least one stream"
            self.add(where, message, code="no-streams")
            return
        defaults = rep.defaults if isinstance(rep.defaults, dict) else {}
        for name, config in rep.streams.items():
            self.stream(name, config, defaults)

    def stream(self, name: Any, config: Any, defaults: StreamConfig) -> None:
        path: Path = ("streams", name)
        if not isinstance(name, str) or not name.strip():
            self.add(path, "a stream name must be text (a table, a file path or a label)")
            return
        if config is not None and not isinstance(config, dict):
            self.add(path, "a stream's config must be a mapping of keys (or left empty)")
            return
        self.stream_keys(path, config or {})
        if _VARIABLE.search(name):
            self.add(path, "runtime variables in a stream name are not rendered by Sling", WARNING)
        if name.strip() == "*":
            self.add(path, "a bare `*` stream only works for API sources; use `schema.*`", WARNING)
        effective = effective_config(defaults, config)
        if effective.get("disabled") is True:
            return
        mode = effective.get("mode")
        where = (*path, "mode") if config and "mode" in config else path
        if not effective.get("object"):
            self.add(path, "no `object`: set the target table or file here or in `defaults`")
        # API sources (the only ones a bare `*` stream reads) keep their own state.
        if (
            mode == "incremental"
            and name.strip() != "*"
            and not (effective.get("primary_key") or effective.get("update_key"))
        ):
            self.add(where, "incremental mode needs `primary_key` and/or `update_key`")
        if mode == "backfill":
            if not (effective.get("primary_key") and effective.get("update_key")):
                self.add(where, "backfill mode needs both `primary_key` and `update_key`")
            options = effective.get("source_options")
            range_ = options.get("range") if isinstance(options, dict) else None
            if not isinstance(range_, str) or range_.count(",") != 1:
                self.add(where, 'backfill mode needs `source_options.range` as "start,end"')

    def stream_keys(self, path: Path, config: StreamConfig) -> None:
        for key, value in config.items():
            spec = STREAM_KEYS.get(key)
            if spec is None:
                self.add(
                    (*path, key),
                    f"unknown key `{key}`{suggest(str(key), list(STREAM_KEYS))} (kept as written)",
                    WARNING,
                )
                continue
            if value is None:
                continue
            if not any(_SHAPES[shape](value) for shape in spec.shapes):
                wanted = " or ".join(_SHAPE_NAMES[s] for s in spec.shapes)
                hint = ""
                if "str" in spec.shapes and isinstance(value, dict) and set(value.values()) == {None}:
                    # `object: {stream_table}` is valid YAML: a mapping, not the template meant.
                    hint = " (a value that starts with `{` must be quoted, e.g. '{stream_table}')"
                self.add((*path, key), f"`{key}` must be {wanted}{hint}")
                continue
            if key == "mode" and value not in MODES and not _VARIABLE.search(value):
                self.add((*path, key), f"unknown mode `{value}`{suggest(value, MODES)}")
            elif key == "hooks":
                self.hooks((*path, key), value, STREAM_HOOK_KEYS)
            elif key == "meta":
                self.dagster_meta((*path, key), value)

    def hooks(self, path: Path, hooks: Any, allowed: tuple[str, ...]) -> None:
        if not isinstance(hooks, dict):
            self.add(path, "`hooks` must be a mapping of " + ", ".join(allowed) + " to lists of hooks")
            return
        for key, items in hooks.items():
            if key not in allowed:
                self.add((*path, key), f"unknown hook point `{key}`{suggest(str(key), allowed)}")
            elif items is not None and not (
                isinstance(items, list) and all(isinstance(h, dict) and "type" in h for h in items)
            ):
                self.add((*path, key), "hooks are a list of mappings, each with a `type`")

    def dagster_meta(self, path: Path, meta: dict[str, Any]) -> None:
        dagster = meta.get("dagster")
        if dagster is None:
            return
        if not isinstance(dagster, dict):
            self.add((*path, "dagster"), "`meta.dagster` must be a mapping")
            return
        for key, value in dagster.items():
            if key in ("asset_key", "group", "description") and not isinstance(value, str | None):
                self.add((*path, "dagster", key), f"`meta.dagster.{key}` must be text")
            elif key == "deps" and not (value is None or isinstance(value, str) or _is_str_list(value)):
                self.add((*path, "dagster", key), "`meta.dagster.deps` must be a key or a list of keys")
            elif key not in DAGSTER_META_KEYS:
                self.add(
                    (*path, "dagster", key),
                    f"dagster-sling does not read `meta.dagster.{key}`{suggest(str(key), DAGSTER_META_KEYS)}",
                    WARNING,
                )

    def storable(self, rep: ReplicationConfig) -> None:
        """Values YAML can hold but JSON and PostgreSQL text cannot, and non-text keys."""
        roots: list[tuple[Path, Any]] = [((key,), value) for key, value in rep.extra.items()]
        roots += [(("source",), rep.source), (("target",), rep.target), (("defaults",), rep.defaults)]
        roots += [(("hooks",), rep.hooks), (("env",), rep.env)]
        if isinstance(rep.streams, dict):
            roots += [(("streams", name), config) for name, config in rep.streams.items()]
        stack = roots[::-1]
        while stack:
            path, value = stack.pop()
            if isinstance(value, dict):
                for key in value:
                    if not isinstance(key, str):
                        self.add((*path, key), f"key `{key}` must be text: write it in quotes ('{key}')")
                stack.extend(((*path, key), item) for key, item in reversed(value.items()))
            elif isinstance(value, list):
                stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))
            elif isinstance(value, float) and not math.isfinite(value):
                self.add(path, f"`{value}` cannot be stored; quote it if it is meant as text")
            elif isinstance(value, str) and "\x00" in value:
                self.add(path, "the text contains a NUL character, which cannot be stored")

    def files(self, rep: ReplicationConfig, fence: Fence, local_connections: tuple[str, ...]) -> None:
        for path, verb, local in replication_paths(rep, local_connections):
            refused = fence.refusal(local, verb)
            if refused:
                self.add(path, refused, code="fence")

    def references(self, rep: ReplicationConfig) -> None:
        """`$NAME` of a connection the run names: sling would give its value, secrets and all."""
        names = set(needed_connections(rep))
        if not names:
            return
        stack: list[tuple[Path, Any]] = [
            (("env",), rep.env),
            (("hooks",), rep.hooks),
            (("defaults",), rep.defaults),
        ]
        if isinstance(rep.streams, dict):
            stack += [(("streams", name), config) for name, config in rep.streams.items()]
        while stack:
            path, value = stack.pop()
            if isinstance(value, dict):
                stack.extend(((*path, key), item) for key, item in value.items())
            elif isinstance(value, list):
                stack.extend(((*path, i), item) for i, item in enumerate(value))
            elif isinstance(value, str) and "$" in value:
                for name in names:
                    if f"${name}" in value or f"${{{name}}}" in value:
                        self.add(
                            path,
                            f"`${name}` would give sling's copy of connection {name}, secrets included: "
                            "write the value itself",
                        )

    def asset_keys(self, rep: ReplicationConfig, translator: DagsterSlingTranslator) -> None:
        if not isinstance(rep.streams, dict) or not isinstance(rep.defaults, dict):
            return
        seen: dict[tuple[str, ...], Any] = {}
        for definition in stream_definitions(rep):
            name = definition["name"]
            if not isinstance(name, str) or not (
                definition["config"] is None or isinstance(definition["config"], dict)
            ):
                continue
            try:
                key = translator.get_asset_key(definition)
                translator.get_deps_asset_key(definition)
            except TranslationError as exc:
                path = ("streams", name, "meta", "dagster", exc.field)
                if all(p.path != path for p in self.problems):  # not said already by the type check
                    self.add(path, str(exc))
                continue
            if key in seen:
                self.add(
                    ("streams", name),
                    f"asset key `{key_to_string(key)}` is also the key of stream `{seen[key]}`; "
                    "dagster-sling refuses two streams with one key (set a distinct `object` "
                    "or meta.dagster.asset_key)",
                    WARNING,
                )
            else:
                seen[key] = name


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_SHAPES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "str_list": _is_str_list,
    "list": lambda v: isinstance(v, list),
    "map": lambda v: isinstance(v, dict),
    "bool": lambda v: isinstance(v, bool),
}
_SHAPE_NAMES = {
    "str": "text",
    "str_list": "a list of text",
    "list": "a list",
    "map": "a mapping",
    "bool": "true or false",
}
