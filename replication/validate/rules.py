"""The rules of validation and, for now, the memo that checks stream by stream."""

from __future__ import annotations

import copy
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from replication.config import (
    YAML11_BOOLEANS,
    ReplicationConfig,
    StreamConfig,
    connection_names,
    effective_config,
    hook_connections,
    is_true,
    needed_connections,
    references,
)
from replication.context import API, DATABASE, FILE, Context
from replication.fence import replication_paths
from replication.problems import WARNING, LineOf, Problem, Where
from replication.resolve import (
    DATE_PARTS,
    Names,
    is_wildcard,
    object_has_stream_vars,
    object_problem,
    read_as_one,
    relative_path,
    render_env,
    resolve_object,
)
from replication.translator import (
    DagsterSlingTranslator,
    TranslationError,
    key_to_string,
    stream_definitions,
)
from replication.validate.keys import VARIABLE, KeyRules, is_str_list, suggest
from replication.versions import (
    REPLICATION_HOOK_POINTS,
    SOURCE_OPTIONS_INHERITED,
    TOP_KEYS,
)


class Memo:
    """What `validate` found for each stream of one replication, to check a later version of
    it again only where it changed: streams whose name and config are the same, with the same
    rest of the replication and the same context, reuse their problems. Files that appear or
    vanish meanwhile (a LOCAL stream's file, the fence) are not looked at again for them: the
    caller keeps a memo only for a while (`studio.rules.MEMO_SECONDS`).

    Besides each stream's part, what the last check put together from them (which streams add
    problems, the asset keys, the references), so that a check told what changed (`basis`)
    updates that for the changed streams only. One check at a time uses it (`lock`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.around: tuple[Any, ...] | None = None
        self.streams: dict[Any, tuple[Any, _StreamPart]] = {}
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

    def parts(self, around: tuple[Any, ...]) -> dict[Any, tuple[Any, _StreamPart]]:
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

    def count(self, name: Any, part: _StreamPart, sign: int) -> None:
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


@dataclass(slots=True)
class _StreamPart:
    """One stream's share of each pass of `_Checker`, found with no other stream around."""

    checked: list[Problem]  # `_Checker.stream`
    hooked: Where | None  # the first hook sling would run that it found
    key: tuple[str, ...] | None  # its asset key (None: disabled, or no key)
    keyed: list[Problem]  # `_Checker.asset_keys`: a key dagster-sling refuses
    storable: list[Problem]
    files: list[Problem]
    references: tuple[frozenset[str], list[Problem]] | None  # for these connection names
    connections: list[Any]  # the `connection:` of its hooks
    busy: bool = field(init=False)  # whether it adds to any pass but `references`

    def __post_init__(self) -> None:
        self.busy = bool(
            self.checked or self.hooked or self.keyed or self.storable or self.files or self.connections
        )


def _by_stream(rep: ReplicationConfig) -> bool:
    """Whether `rep` is checked stream by stream the same as whole (the usual case)."""
    return isinstance(rep.streams, dict) and bool(rep.streams) and isinstance(rep.defaults, dict)


_SLING_STATE = "SLING_STATE"
_TOKEN = "SLING_CLI_TOKEN"  # noqa: S105 - the name of the variable, not a token
_LOADED_AT = {"_sling_loaded_at": None, "_sling_synced_at": "synced_at_waiver"}
_PART = re.compile(r"\{part_[a-z_]+\}|\{(?:" + "|".join(DATE_PARTS) + r")\}")


class _Checker(KeyRules):
    def __init__(self, line_of: LineOf, context: Context) -> None:
        super().__init__(line_of, context.sling)
        self.context = context

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
        else:
            for key in rep.env:
                if key in YAML11_BOOLEANS:
                    self.add(
                        ("env", key),
                        f"sling reads the key `{key}` as a boolean (YAML 1.1), so `{{{key}}}` is never "
                        "replaced: give the variable another name",
                        WARNING,
                    )
        self.names = Names.of(rep, self.context) if isinstance(rep.env, dict) else Names(sling=self.sling)
        self.connections(rep)
        self.hooks(("hooks",), rep.hooks, REPLICATION_HOOK_POINTS, top=True)
        if not isinstance(rep.streams, dict):
            self.add(("streams",), "`streams` must be a mapping of stream names to their config")
            return
        if not rep.streams:
            if rep.extra.get("streams") == {}:  # written empty: sling finds nothing to run and says so
                self.add(("streams",), "`streams` is empty: sling runs nothing", WARNING, code="no-streams")
            else:
                where = ("streams",) if "streams" in rep.extra else ()
                message = "`streams` is missing or empty: a replication needs at least one stream"
                self.add(where, message, code="no-streams")
            return
        defaults = rep.defaults if isinstance(rep.defaults, dict) else {}
        for name, config in rep.streams.items():
            self.stream(name, config, defaults)
        if self.hooked is not None and not self.context.process_env.get(_TOKEN):
            self.hook_token()

    def hook_token(self) -> None:
        if self.hooked is not None:
            self.add(
                self.hooked,
                f"hooks need a sling CLI Pro token: without {_TOKEN} in the studio's environment, sling "
                f"{self.sling.version} refuses to run them (a start hook stops the run before any stream; "
                "`on_failure: warn` lets it go on)",
                WARNING,
                code="hook-token",
            )

    def by_stream(
        self,
        rep: ReplicationConfig,
        translator: DagsterSlingTranslator,
        memo: Memo,
        basis: Any,
        edited: set[Any],
    ) -> list[Problem]:
        """`validate`'s passes in their order, each stream's share of them from `memo` (found
        again for the streams not in it), the rest found here: the same problems, in the same
        order, as the passes over the whole replication."""
        streams, defaults = rep.streams, rep.defaults
        top = replace(rep, streams={})
        self.replication(top)
        self.problems = [p for p in self.problems if p.code != "no-streams"]  # it has streams
        hooked = self.hooked
        around = (
            rep.source,
            rep.target,
            defaults,
            rep.env,
            rep.hooks,
            rep.extra,
            self.context,
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
            part = self.stream_part(rep, name, config, translator)
            kept[name] = (copy.deepcopy(config), part)
            memo.count(name, part, 1)
            fresh.append(name)
        # What was kept is now this check's streams: version `basis` but for those `edited`.
        memo.basis, memo.dirty = basis, edited if basis is not None else set()
        place = memo.place.__getitem__
        # Most streams add nothing to most passes: only those that do are gone through.
        busy = [kept[name][1] for name in sorted(memo.busy, key=place)]
        for part in busy:
            self.problems += part.checked
            if hooked is None:
                hooked = part.hooked
        if hooked is not None and not self.context.process_env.get(_TOKEN):
            self.hooked = hooked
            self.hook_token()
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
            self.problems += part.keyed
            if name in clashes:
                self.key_clash(name, part.key, clashes[name])
        self.storable(top)
        for part in busy:
            self.problems += part.storable
        for part in busy:
            self.problems += part.files
        # The hooks of every stream count: `needed_connections(rep)`, with each stream's from its part.
        named = [*needed_connections(top), *(c for part in busy for c in part.connections)]
        names = _reference_names(connection_names(named))
        if names:
            again = order if names != memo.names else fresh
            for name in again:
                part = kept[name][1]
                if part.references is None or part.references[0] != names:
                    sub = _Checker(self.line_of, self.context)
                    sub.walk_references([(("streams", name), streams[name])], names)
                    part.references = (names, sub.problems)
                if part.references[1]:
                    memo.referring.add(name)
                else:
                    memo.referring.discard(name)
            memo.names = names
            for name in sorted(memo.referring, key=place, reverse=True):
                self.problems += kept[name][1].references[1]
            self.walk_references(
                [(("env",), rep.env), (("hooks",), rep.hooks), (("defaults",), defaults)], names
            )
        else:  # no references looked at: the next check that has some looks at every stream's
            memo.names = None
        return self.problems

    def stream_part(
        self, rep: ReplicationConfig, name: Any, config: Any, translator: DagsterSlingTranslator
    ) -> _StreamPart:
        alone = replace(rep, streams={name: config})
        sub = _Checker(self.line_of, self.context)
        sub.names = self.names
        sub.stream(name, config, rep.defaults)
        checked = list(sub.problems)
        key = sub.asset_keys(alone, translator)
        keyed = sub.problems[len(checked) :]
        sub.problems = []
        sub.storable(replace(alone, extra={}, source=None, target=None, defaults={}, hooks={}, env={}))
        storable, sub.problems = sub.problems, []
        sub.files(alone)
        hooks = config.get("hooks") if isinstance(config, dict) else None
        return _StreamPart(
            checked, sub.hooked, key, keyed, storable, sub.problems, None, hook_connections(hooks)
        )

    def connections(self, rep: ReplicationConfig) -> None:
        for key in ("source", "target"):
            name = getattr(self.names, key)
            if name and self.context.complete and self.context.connection(name) is None:
                self.add(
                    (key,),
                    f"connection `{name}` is not defined: add it under Connections (or in sling's "
                    "environment), else sling stops with `could not find connection`",
                    WARNING,
                    code="unknown-connection",
                )

    def stream(self, name: Any, config: Any, defaults: StreamConfig) -> None:
        path: Where = ("streams", name)
        if not isinstance(name, str) or not name.strip():
            self.add(path, "a stream name must be text (a table, a file path or a label)")
            return
        if config is not None and not isinstance(config, dict):
            self.add(path, "a stream's config must be a mapping of keys (or left empty)")
            return
        self.stream_keys(path, config or {})
        stream = render_env(name, self.names.env)
        if VARIABLE.search(stream):
            self.add(
                path, "runtime variables in a stream name are not rendered by Sling (env keys are)", WARNING
            )
        kind = self.names.stream_kind(stream)
        source_known = self.names.source_kind is not None
        if stream.strip() == "*" and self.names.source_kind != API:
            if source_known:
                self.add(
                    path, "a bare `*` stream is for API sources; sling needs `schema.*` or a folder path"
                )
            else:
                self.add(path, "a bare `*` stream only works for API sources; use `schema.*`", WARNING)
        effective = effective_config(defaults, config, self.sling)
        where_object = (*path, "object") if config and "object" in config else path
        if not effective.get("object"):
            if is_true(effective.get("disabled")):
                self.add(
                    path,
                    f"no `object`: sling {self.sling.version} refuses the whole replication when a stream "
                    "has none, disabled or not (sling-cli#441); set one here or in `defaults`",
                )
            else:
                self.add(path, "no `object`: set the target table or file here or in `defaults`")
        if is_true(effective.get("disabled")):
            return
        mode = effective.get("mode")
        where = (*path, "mode") if config and "mode" in config else path
        if mode is None and (effective.get("primary_key") or effective.get("update_key")):
            mode = "incremental"  # sling's default when keys are set
        if mode == "incremental":
            self.incremental(path, where, stream, kind, effective)
        if mode == "backfill":
            if not (effective.get("primary_key") and effective.get("update_key")):
                self.add(where, "backfill mode needs both `primary_key` and `update_key`")
            options = effective.get("source_options")
            range_ = options.get("range") if isinstance(options, dict) else None
            if not isinstance(range_, str) or range_.count(",") != 1:
                self.add(where, 'backfill mode needs `source_options.range` as "start,end"')
        if kind == FILE and self.names.source.upper() == "LOCAL":
            self.local_file(path, stream)
        if source_known and kind == DATABASE and stream.lower().startswith("file://"):
            self.add(path, f"a `file://` stream needs a file source; `{self.names.source}` is a database")
        if isinstance(effective.get("object"), str):
            self.object(path, where_object, stream, config, effective, defaults, kind)
        self.select(path, config, effective, kind)
        self.merges(path, config or {}, defaults)

    def local_file(self, path: Where, stream: str) -> None:
        """A file of sling's own machine that is not there fails its stream (no such file)."""
        if self.context.workdir is None or is_wildcard(stream) or VARIABLE.search(stream):
            return
        file = os.path.join(self.context.workdir, relative_path(stream))
        if not os.path.exists(file):
            self.add(
                path,
                f"`{relative_path(stream)}` does not exist where sling runs: the stream would fail",
                WARNING,
            )

    def incremental(self, path: Where, where: Where, stream: str, kind: str, effective: StreamConfig) -> None:
        update_key = effective.get("update_key")
        env = {**self.context.process_env, **self.names.env}
        feature = _LOADED_AT.get(update_key, "") if isinstance(update_key, str) else ""
        if feature != "" and (feature is None or self.sling.feature(feature)):
            if kind == DATABASE and self.names.source_kind is not None:
                self.add(
                    (*path, "update_key"),
                    f"`{update_key}` is a column sling adds to file loads: a table source has none "
                    f"(sling: did not find update_key: {update_key})",
                )
            return
        waived = (
            self.names.source_kind == API
            or self.names.source_type == "bigtable"
            or (kind == FILE and env.get(_SLING_STATE) and _PART.search(stream))
        )
        if not waived and not (effective.get("primary_key") or effective.get("update_key")):
            # An API's streams are endpoints (`customers`); `schema.table` or a path is not one.
            if self.names.source_kind is None and "." not in stream and "/" not in stream:
                self.add(
                    where,
                    "incremental mode needs `primary_key` and/or `update_key`, unless the source is an API "
                    f"(the studio does not know connection `{self.names.source}`)",
                    WARNING,
                )
            else:
                self.add(where, "incremental mode needs `primary_key` and/or `update_key`")
        if self.names.target_kind == FILE and not env.get(_SLING_STATE):
            self.add(
                where,
                f"sling writes files incrementally only with {_SLING_STATE} set (in `env` or the studio's "
                "environment): it stops with `Please use the SLING_STATE environment variable`",
            )

    def object(
        self,
        path: Where,
        where: Where,
        stream: str,
        config: StreamConfig | None,
        effective: StreamConfig,
        defaults: StreamConfig,
        kind: str,
    ) -> None:
        template = effective["object"]
        problem = object_problem(stream, effective, self.names)
        if problem:
            self.add(where, f"sling refuses the object: {problem} (nothing runs)")
        if re.search(r"\$\{?[A-Za-z_]", render_env(template, self.names.env)) and "$" in template:
            resolved = resolve_object(stream, effective, self.names)
            self.add(
                where,
                f"`${{...}}` in an object is not expanded by sling: it writes `{resolved}`; "
                "put the value in `env` and write `{NAME}`",
                WARNING,
            )
        if not is_wildcard(stream):
            return
        var_less = not object_has_stream_vars(template)
        if config is None and var_less and not self.sling.feature("null_wildcard_fixed"):
            self.add(
                path,
                f"sling {self.sling.version} crashes on a wildcard written without a config when the "
                "object has no stream variable (fixed in 1.4.25): add `{stream_table}` or a config",
            )
        elif read_as_one(effective) and kind == DATABASE and self.names.source_kind == DATABASE:
            self.add(
                where,
                f"`{stream}` with an object without a stream variable is read as one table, "
                f"`{stream}`, which sling cannot find (did not find any columns): use `{{stream_table}}` "
                "in the object to get one table per match",
            )

    def select(self, path: Where, config: StreamConfig | None, effective: StreamConfig, kind: str) -> None:
        select = effective.get("select")
        if kind != FILE or self.names.source_kind != FILE or not is_str_list(select):
            return
        where = (*path, "select") if config and "select" in config else ("defaults", "select")
        if len(select) == 1:
            self.add(
                where,
                "sling ignores a `select` of one column on a file stream: every column is kept",
                WARNING,
            )
        elif any(column.startswith("-") for column in select):
            self.add(
                where, "a file stream takes `select` as column names: `-column` fails (column ... not found)"
            )

    def merges(self, path: Where, own: StreamConfig, defaults: StreamConfig) -> None:
        """Where sling merges defaults into a stream differently than one would think."""
        default_options, options = defaults.get("source_options"), own.get("source_options")
        if isinstance(default_options, dict) and isinstance(options, dict):
            lost = [
                k
                for k in default_options
                if k not in options and not self.sling.has(SOURCE_OPTIONS_INHERITED, k)
            ]
            if lost:
                listed = ", ".join(f"`{k}`" for k in lost)
                self.add(
                    (*path, "source_options"),
                    f"with source_options of its own, this stream does not get {listed} from `defaults` "
                    "(sling takes only some keys from them): repeat them here",
                    WARNING,
                )
        columns = own.get("columns")
        if (
            isinstance(columns, dict)
            and isinstance(defaults.get("columns"), dict)
            and any(str(c).startswith("+") for c in columns)
            and not self.sling.feature("plus_columns_merge")
        ):
            self.add(
                (*path, "columns"),
                f"sling {self.sling.version} does not merge `+column` entries with the defaults' columns "
                "(from 1.5.12): this stream's columns replace them",
                WARNING,
            )

    def storable(self, rep: ReplicationConfig) -> None:
        """Values YAML can hold but JSON and PostgreSQL text cannot, and non-text keys."""
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
                        self.add((*path, key), f"key `{key}` must be text: write it in quotes ('{key}')")
                stack.extend(((*path, key), item) for key, item in reversed(value.items()))
            elif isinstance(value, list):
                stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))
            elif isinstance(value, float) and not math.isfinite(value):
                self.add(path, f"`{value}` cannot be stored; quote it if it is meant as text")
            elif isinstance(value, str) and "\x00" in value:
                self.add(path, "the text contains a NUL character, which cannot be stored")

    def files(self, rep: ReplicationConfig) -> None:
        fence = self.context.fence
        if fence is None:
            return
        for path, verb, local in replication_paths(rep, Names.of(rep, self.context)):
            refused = fence.refusal(local, verb)
            if refused:
                self.add(path, refused, code="fence")

    def references(self, rep: ReplicationConfig) -> None:
        """`$NAME` of a connection the run names: sling would give its value, secrets and all."""
        names = _reference_names(needed_connections(rep))
        if not names:
            return
        stack: list[tuple[Where, Any]] = [
            (("env",), rep.env),
            (("hooks",), rep.hooks),
            (("defaults",), rep.defaults),
        ]
        if isinstance(rep.streams, dict):
            stack += [(("streams", name), config) for name, config in rep.streams.items()]
        self.walk_references(stack, names)

    def walk_references(self, stack: list[tuple[Where, Any]], names: frozenset[str]) -> None:
        while stack:
            path, value = stack.pop()
            if isinstance(value, dict):
                stack.extend(((*path, key), item) for key, item in value.items())
            elif isinstance(value, list):
                stack.extend(((*path, i), item) for i, item in enumerate(value))
            elif isinstance(value, str):
                for name in references(value, names):
                    self.add(
                        path,
                        f"`${name}` would give sling's copy of connection {name}, secrets included: "
                        "write the value itself",
                    )

    def asset_keys(
        self, rep: ReplicationConfig, translator: DagsterSlingTranslator
    ) -> tuple[str, ...] | None:
        """The clashes and refusals of the streams' asset keys; returns the last stream's key."""
        last = None
        if not isinstance(rep.streams, dict) or not isinstance(rep.defaults, dict):
            return last
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
            last = key
            if key in seen:
                self.key_clash(name, key, seen[key])
            else:
                seen[key] = name
        return last

    def key_clash(self, name: Any, key: tuple[str, ...], other: Any) -> None:
        self.add(
            ("streams", name),
            f"asset key `{key_to_string(key)}` is also the key of stream `{other}`; "
            "dagster-sling refuses two streams with one key (set a distinct `object` "
            "or meta.dagster.asset_key)",
            WARNING,
        )


def _reference_names(needed: list[str]) -> frozenset[str]:
    # Only a name can be a variable: `target: '{TARGET}'` is a template (its env var holds a name).
    return frozenset(name for name in needed if re.fullmatch(r"\w+", name))
