"""The rules of a replication and its streams: what sling refuses or ignores, what dagster-sling
refuses, local paths outside the file fence, references to connections' secrets; built on
the rules of shape (`replication.validate.keys`).

`Rules.check` runs every pass over a whole replication. The methods after it are what the
memo's engine (`replication.validate.memo`) asks to check stream by stream: each returns what
it finds, and the engine puts the passes together in the order `check` finds them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from replication.columns import missing, stream_key
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
from replication.local_paths import replication_paths
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

_SLING_STATE = "SLING_STATE"
_TOKEN = "SLING_CLI_TOKEN"  # noqa: S105 - the name of the variable, not a token
# Settings sling takes only with a CLI Pro token, and the value above which it says so (the binary,
# 1.4.11: SLING_THREADS 2, SLING_RETRIES 1 warn; 1 and 0 do not).
_PRO_SETTINGS = {"SLING_THREADS": 1, "SLING_RETRIES": 0}
_LOADED_AT = {"_sling_loaded_at": None, "_sling_synced_at": "synced_at_waiver"}
_PART = re.compile(r"\{part_[a-z_]+\}|\{(?:" + "|".join(DATE_PARTS) + r")\}")


@dataclass(slots=True)
class StreamPart:
    """One stream's share of each pass of `Rules`, found with no other stream around."""

    checked: list[Problem]  # `Rules.stream`
    hooked: Where | None  # the first hook sling would run that it found
    key: tuple[str, ...] | None  # its asset key (None: disabled, or no key)
    keyed: list[Problem]  # `Rules.asset_keys`: a key dagster-sling refuses
    storable: list[Problem]
    files: list[Problem]
    connections: list[Any]  # the `connection:` of its hooks
    # Its share of the references pass, for these connection names: found once the names of
    # every stream's hooks are known (`Rules.references`); None until then.
    references: tuple[frozenset[str], list[Problem]] | None = None
    busy: bool = field(init=False)  # whether it adds to any pass but `references`

    def __post_init__(self) -> None:
        self.busy = bool(
            self.checked or self.hooked or self.keyed or self.storable or self.files or self.connections
        )


class Rules(KeyRules):
    """The rules, for one check of one replication: what they find is kept in `problems`."""

    def __init__(self, line_of: LineOf, context: Context) -> None:
        super().__init__(line_of, context.sling)
        self.context = context
        # How sling names things in this replication (source, target, env): found by
        # `replication` (so by `top`), read by the rules of each stream.
        self.names: Names

    def check(self, rep: ReplicationConfig, translator: DagsterSlingTranslator) -> list[Problem]:
        """Every problem of `rep`, pass by pass: the replication and its streams, the asset
        keys, what cannot be stored, local paths outside the fence, references to connections."""
        self.replication(rep)
        self.asset_keys(rep, translator)
        self.problems += self.storable(rep)
        self.files(rep)
        names = self.reference_names(rep)
        if names:
            values: list[tuple[Where, Any]] = [
                (("env",), rep.env),
                (("hooks",), rep.hooks),
                (("defaults",), rep.defaults),
            ]
            if isinstance(rep.streams, dict):
                values += [(("streams", name), config) for name, config in rep.streams.items()]
            self.problems += self.references(values, names)
        return self.problems

    # What the memo's engine asks (`memo.StreamRules`). `top` comes first: the rules of the
    # streams read the names (source, target, env) it finds.

    def top(self, rep: ReplicationConfig) -> tuple[list[Problem], Where | None]:
        """The problems of everything but `rep`'s streams, as `check` finds them, and where the
        first hook sling would run is among them (None: none)."""
        self.replication(replace(rep, streams={}))
        # Not that it has no streams: the engine checks those it has.
        found, self.problems = [p for p in self.problems if p.code != "no-streams"], []
        return found, self.hooked

    def stream_part(
        self, rep: ReplicationConfig, name: Any, config: Any, translator: DagsterSlingTranslator
    ) -> StreamPart:
        """The share of stream `name` (with `config`) in each pass but the references, found as
        if it were the only stream of `rep`."""
        alone = replace(rep, streams={name: config})
        sub = Rules(self.line_of, self.context)  # finds this stream's problems only
        sub.names = self.names
        sub.stream(name, config, rep.defaults)
        checked = list(sub.problems)
        key = sub.asset_keys(alone, translator)
        keyed = sub.problems[len(checked) :]
        storable = sub.storable(
            replace(alone, extra={}, source=None, target=None, defaults={}, hooks={}, env={})
        )
        sub.problems = []
        sub.files(alone)
        hooks = config.get("hooks") if isinstance(config, dict) else None
        return StreamPart(checked, sub.hooked, key, keyed, storable, sub.problems, hook_connections(hooks))

    def hook_token(self, where: Where | None) -> list[Problem]:
        """The warning that the hook at `where` (None: no hook) needs a sling CLI Pro token,
        when the studio's environment has none."""
        if where is None or self.context.process_env.get(_TOKEN):
            return []
        message = (
            f"hooks need a sling CLI Pro token: without {_TOKEN} in the studio's environment, sling "
            f"{self.sling.version} refuses to run them (a start hook stops the run before any stream; "
            "`on_failure: warn` lets it go on)"
        )
        return [self.problem(where, message, WARNING, code="hook-token")]

    def key_clash(self, name: Any, key: tuple[str, ...], other: Any) -> Problem:
        """The warning that stream `name` has the asset key `key` of the earlier stream `other`."""
        return self.problem(
            ("streams", name),
            f"asset key `{key_to_string(key)}` is also the key of stream `{other}`; "
            "dagster-sling refuses two streams with one key (set a distinct `object` "
            "or meta.dagster.asset_key)",
            WARNING,
        )

    def reference_names(self, rep: ReplicationConfig, more: Iterable[Any] = ()) -> frozenset[str]:
        """The connections whose `$NAME` is a problem: those the run of `rep` needs (its source,
        target, and the `connection:` of its hooks), and those of `more` (hooks' `connection:`)."""
        # Only a name can be a variable: `target: '{TARGET}'` is a template (its env var holds a name).
        named = connection_names([*needed_connections(rep), *more])
        return frozenset(name for name in named if re.fullmatch(r"\w+", name))

    def references(self, values: list[tuple[Where, Any]], names: frozenset[str]) -> list[Problem]:
        """`$NAME` of a connection the run names (`names`) in `values` ((where, value), and all
        inside them), as `check` finds them (the last value's first): sling would give its
        value, secrets and all."""
        found: list[Problem] = []
        stack = list(values)
        while stack:
            path, value = stack.pop()
            if isinstance(value, dict):
                stack.extend(((*path, key), item) for key, item in value.items())
            elif isinstance(value, list):
                stack.extend(((*path, i), item) for i, item in enumerate(value))
            elif isinstance(value, str):
                for name in references(value, names):
                    message = (
                        f"`${name}` would give sling's copy of connection {name}, secrets included: "
                        "write the value itself"
                    )
                    found.append(self.problem(path, message))
        return found

    # The rules of a replication and its streams, and the passes over them.

    def replication(self, rep: ReplicationConfig) -> None:
        if self.sling.unknown:
            self.add((), self.sling.unknown, WARNING, code="version")
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
                refused = (
                    isinstance(key, str) and self.context.fence is not None and self.sling.env_refusal(key)
                )
                if refused:
                    self.add(("env", key), refused, code="fence")
                if key in YAML11_BOOLEANS:
                    self.add(
                        ("env", key),
                        f"sling reads the key `{key}` as a boolean (YAML 1.1), so `{{{key}}}` is never "
                        "replaced: give the variable another name",
                        WARNING,
                    )
                elif key in _PRO_SETTINGS and _count(rep.env[key]) > _PRO_SETTINGS[key]:
                    self.pro_setting(key)
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
        self.problems += self.hook_token(self.hooked)

    def pro_setting(self, key: str) -> None:
        """`env: {SLING_THREADS: 2}` (or SLING_RETRIES): sling warns on every run that threads
        and retries need a CLI Pro token, and goes on with one thread and no retry."""
        if self.context.process_env.get(_TOKEN):
            return
        self.add(
            ("env", key),
            f"`{key}` needs a sling CLI Pro token: without {_TOKEN} in the studio's environment, sling "
            f'{self.sling.version} warns "invalid or missing token" and runs with one thread and no retry',
            WARNING,
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
        self.known_columns(path, config, effective, stream)
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

    def known_columns(
        self, path: Where, config: StreamConfig | None, effective: StreamConfig, stream: str
    ) -> None:
        """A column the stream names that the source does not have, by the columns discovered
        on it: sling fails the run on a key or `select` column it lacks, and ignores a `columns`
        cast or a transform of one (sling-cli#651)."""
        lookup = self.context.columns
        source = self.names.source
        if lookup is None or not isinstance(source, str) or is_wildcard(stream):
            return
        known = lookup.get(source.upper(), stream_key(stream, self.context.connection(source)))
        if known is None:
            return
        for key, column in missing(effective, known):
            where = (*path, key) if config and key in config else ("defaults", key)
            names = [c.name for c in known.columns]
            # Measured on sling 1.4.11: a missing key column fails an incremental run (`did not find
            # update_key`, `PK columns mismatch`); a missing `select`ed or cast column is passed over.
            outcome = "sling fails an incremental run on it" if key.endswith("_key") else "sling ignores it"
            self.add(
                where,
                f"`{column}` ({key}) is not a column of `{stream}` on {source.upper()} as its columns "
                f"were read at {known.when}: {outcome}{suggest(column, names)}",
                WARNING,
                code="unknown-column",
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

    def files(self, rep: ReplicationConfig) -> None:
        fence = self.context.fence
        if fence is None:
            return
        for path, verb, local in replication_paths(rep, Names.of(rep, self.context)):
            refused = fence.refusal(local, verb)
            if refused:
                self.add(path, refused, code="fence")

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
                self.problems.append(self.key_clash(name, key, seen[key]))
            else:
                seen[key] = name
        return last


def _count(value: Any) -> int:
    """A number setting as sling reads it (`cast.ToInt`: what is not a whole number is 0)."""
    try:
        return int(str(value).strip())
    except ValueError:
        return 0
