"""The rules of shape: the keys a stream config may have and the values each takes
(`versions.STREAM_KEYS`), modes, source and target options, hooks and `meta.dagster`, for
the version of sling the studio runs; and the values YAML holds that the studio cannot store.
The rules of what the keys mean together, for a replication and its streams, build on these
(`replication.validate.rules`)."""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable
from typing import Any

from replication.config import YAML11_BOOLEANS, ReplicationConfig, StreamConfig
from replication.problems import ERROR, WARNING, LineOf, Problem, Where
from replication.translator import DAGSTER_META_KEYS
from replication.versions import (
    FEATURES,
    HOOK_REQUIRED,
    HOOK_TYPES,
    MODES,
    SOURCE_OPTIONS,
    STREAM_HOOK_POINTS,
    STREAM_KEY_VERSIONS,
    STREAM_KEYS,
    TARGET_OPTIONS,
    Sling,
)

# A runtime variable (`{stream_table}`): sling renders it when it runs, so its value is unknown here.
VARIABLE = re.compile(r"\{[^{}\s]+\}")
COLUMN_CASINGS = ("source", "target", "snake", "upper", "lower", "normalize")


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    return _suggestion(word, tuple(choices))


@functools.lru_cache(maxsize=4096)  # a file repeats its unknown keys: 100,000 of them took 20 s
def _suggestion(word: str, choices: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.7)
    return f"; did you mean `{match[0]}`?" if match else ""


class KeyRules:
    """What was found so far (`problems`, `hooked`) and the rules of shape; the rules of a
    replication and its streams (`rules.Rules`) add theirs to the same record."""

    def __init__(self, line_of: LineOf, sling: Sling) -> None:
        self.line_of = line_of
        self.sling = sling
        self.problems: list[Problem] = []
        self.hooked: Where | None = None  # where the first hook sling would run is

    def problem(self, path: Where, message: str, severity: str = ERROR, code: str = "") -> Problem:
        return Problem(path, self.line_of(path), severity, message, code)

    def add(self, path: Where, message: str, severity: str = ERROR, code: str = "") -> None:
        self.problems.append(self.problem(path, message, severity, code))

    def stream_keys(self, path: Where, config: StreamConfig) -> None:
        for key, value in config.items():
            spec = STREAM_KEYS.get(key)
            if spec is None:
                self.add(
                    (*path, key),
                    f"unknown key `{key}`{suggest(str(key), list(STREAM_KEYS))} (kept as written)",
                    WARNING,
                )
                continue
            if newer := self.sling.newer(STREAM_KEY_VERSIONS, key):
                self.add((*path, key), f"{newer}, which ignores it", WARNING)
            if value is None:
                continue
            if key in ("disabled", "single") and isinstance(value, str) and value in YAML11_BOOLEANS:
                sure = "true" if YAML11_BOOLEANS[value] else "false"
                self.add((*path, key), f"sling reads `{value}` as {sure} (YAML 1.1); write `{sure}`", WARNING)
                continue
            if not any(_SHAPES[shape](value) for shape in spec.shapes):
                wanted = " or ".join(_SHAPE_NAMES[s] for s in spec.shapes)
                hint = ""
                if (
                    "str" in spec.shapes
                    and isinstance(value, dict)
                    and value
                    and all(v is None for v in value.values())
                ):
                    # `object: {stream_table}` is valid YAML: a mapping, not the template meant.
                    hint = " (a value that starts with `{` must be quoted, e.g. '{stream_table}')"
                self.add((*path, key), f"`{key}` must be {wanted}{hint}")
                continue
            if key == "mode" and not VARIABLE.search(value):
                self.mode((*path, key), value)
            elif key == "hooks":
                self.hooks((*path, key), value, STREAM_HOOK_POINTS)
            elif key == "meta":
                self.dagster_meta((*path, key), value)
            elif key in ("source_options", "target_options"):
                self.options(
                    (*path, key), value, SOURCE_OPTIONS if key == "source_options" else TARGET_OPTIONS
                )

    def mode(self, path: Where, mode: str) -> None:
        if self.sling.has(MODES, mode):
            return
        newer = self.sling.newer(MODES, mode)
        if newer:
            self.add(path, newer)
        else:
            known = self.sling.known(MODES)
            self.add(
                path, f"unknown mode `{mode}`{suggest(mode, known) or '; sling knows ' + ', '.join(known)}"
            )

    def options(self, path: Where, options: dict[str, Any], table: dict[str, str]) -> None:
        for key, value in options.items():
            if self.sling.has(table, str(key)):
                if key == "column_casing" and isinstance(value, str) and value not in COLUMN_CASINGS:
                    self.add(
                        (*path, key),
                        f"sling ignores `column_casing: {value}`{suggest(value, COLUMN_CASINGS)} "
                        f"(it knows {', '.join(COLUMN_CASINGS)})",
                        WARNING,
                    )
                continue
            newer = self.sling.newer(table, str(key))
            message = (
                f"{newer}, which ignores it"
                if newer
                else (f"sling ignores the option `{key}`{suggest(str(key), self.sling.known(table))}")
            )
            self.add((*path, key), message, WARNING)

    def hooks(self, path: Where, hooks: Any, points: dict[str, str], top: bool = False) -> None:
        allowed = list(points)
        if not isinstance(hooks, dict):
            self.add(path, "`hooks` must be a mapping of " + ", ".join(allowed) + " to lists of hooks")
            return
        for point, items in hooks.items():
            where = (*path, point)
            if top and point in STREAM_HOOK_POINTS:
                if self.sling.feature("stream_hooks_at_top_refused"):
                    self.add(
                        where,
                        f"sling refuses a `{point}` hook at replication level: put it under defaults.hooks",
                    )
                else:
                    self.add(
                        where,
                        f"sling {self.sling.version} ignores a `{point}` hook at replication level: put it "
                        "under defaults.hooks to run it for every stream",
                        WARNING,
                    )
                continue
            if not self.sling.has(points, str(point)):
                newer = self.sling.newer(points, str(point))
                message = (
                    f"{newer}, which ignores it"
                    if newer
                    else (
                        f"sling ignores the hook point `{point}`"
                        + suggest(str(point), self.sling.known(points))
                    )
                )
                self.add(where, message, WARNING)
                continue
            if items is None:
                continue
            if not isinstance(items, list):
                self.add(
                    where, "hooks are a list of mappings, each with a `type` (sling cannot parse a mapping)"
                )
                continue
            for i, item in enumerate(items):
                self.hook((*where, i), item)

    def hook(self, path: Where, item: Any) -> None:
        if not isinstance(item, dict):
            self.add(path, "a hook is a mapping with a `type` and its fields")
            return
        kind = item.get("type")
        # `- check: expr` with its fields beside it (`on_failure: break`), as newer sling tests write it.
        named = [key for key in item if key in HOOK_TYPES]
        shorthand = kind is None and len(named) == 1
        if shorthand and self.sling.feature("hook_shorthand"):
            kind = named[0]
        elif shorthand:
            kind = named[0]
            self.add(
                path,
                f"the `- {kind}: ...` shorthand needs sling {FEATURES['hook_shorthand']} or newer; this "
                f"studio runs {self.sling.version}: write `type: {kind}` and its fields",
            )
            return
        elif kind is None:
            self.add(path, f"a hook needs a `type` (sling {self.sling.version}: invalid hook type)")
            return
        if not isinstance(kind, str) or not self.sling.has(HOOK_TYPES, kind):
            newer = self.sling.newer(HOOK_TYPES, str(kind))
            known = ", ".join(self.sling.known(HOOK_TYPES))
            self.add(
                (*path, "type"),
                newer
                or f"invalid hook type `{kind}`{suggest(str(kind), list(HOOK_TYPES))}; "
                f"sling {self.sling.version} knows {known}",
            )
            return
        required = HOOK_REQUIRED.get(kind, ())
        if required and all(item.get(field) in (None, "") for field in required) and "type" in item:
            fields = " or ".join(f"`{field}`" for field in required)
            self.add(path, f"a `{kind}` hook needs {fields} (sling: missing {required[0]} for hook)")
        command = item.get("command")
        if kind == "command" and isinstance(command, str) and not self.sling.feature("command_as_text"):
            self.add(
                (*path, "command"),
                f"`command` as text needs sling {FEATURES['command_as_text']} or newer; this studio runs "
                f"{self.sling.version}: write it as a list (`[echo, hi]`)",
            )
        if self.hooked is None and item.get("on_failure") != "warn":
            self.hooked = path

    def dagster_meta(self, path: Where, meta: dict[str, Any]) -> None:
        dagster = meta.get("dagster")
        if dagster is None:
            return
        if not isinstance(dagster, dict):
            self.add((*path, "dagster"), "`meta.dagster` must be a mapping")
            return
        for key, value in dagster.items():
            if key in ("asset_key", "group", "description") and not isinstance(value, str | None):
                self.add((*path, "dagster", key), f"`meta.dagster.{key}` must be text")
            elif key == "deps" and not (value is None or isinstance(value, str) or is_str_list(value)):
                self.add((*path, "dagster", key), "`meta.dagster.deps` must be a key or a list of keys")
            elif key not in DAGSTER_META_KEYS:
                self.add(
                    (*path, "dagster", key),
                    f"dagster-sling does not read `meta.dagster.{key}`{suggest(str(key), DAGSTER_META_KEYS)}",
                    WARNING,
                )

    def storable(self, rep: ReplicationConfig) -> list[Problem]:
        """Values YAML can hold but JSON and PostgreSQL text cannot, and non-text keys."""
        found: list[Problem] = []
        roots: list[tuple[Where, Any]] = [((key,), value) for key, value in rep.extra.items()]
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
                        found.append(
                            self.problem(
                                (*path, key), f"key `{key}` must be text: write it in quotes ('{key}')"
                            )
                        )
                stack.extend(((*path, key), item) for key, item in reversed(value.items()))
            elif isinstance(value, list):
                stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))
            elif isinstance(value, float) and not math.isfinite(value):
                found.append(
                    self.problem(path, f"`{value}` cannot be stored; quote it if it is meant as text")
                )
            elif isinstance(value, str) and "\x00" in value:
                found.append(self.problem(path, "the text contains a NUL character, which cannot be stored"))
        return found


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_SHAPES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "str_list": is_str_list,
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
