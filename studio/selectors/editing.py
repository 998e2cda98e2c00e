"""The editor's view-model: everything the editor page shows of one replication, read from
what the `editor` cache keeps of its version (`studio.editor_cache`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator

from replication.config import ReplicationConfig, effective_config, with_stream
from replication.context import Context
from replication.problems import Problem
from replication.resolve import (
    Names,
    is_wildcard,
    read_as_one,
    render_env,
    resolve_object,
    runtime_variables,
)
from replication.translator import TranslationError, key_to_string, stream_definitions
from replication.validate import validate
from replication.yamlio import emit_streams
from studio import configured, editor_cache, models, validation
from studio.editor_cache import Stored
from studio.selectors.columns import Shapes, StoredColumns
from studio.selectors.replications import key_conflicts, stored_streams, with_keys_stamp
from studio.selectors.runs import last_stream_runs

# A page of the streams table: a screen and a half at 1440 x 900. Each row costs the browser about
# a millisecond to build and lay out after every filter, sort or bulk edit.
STREAMS_PER_PAGE = 50
SORTS = {"position": "position", "name": "name", "mode": "mode", "object": "object"}


@dataclass(slots=True)
class StreamRow:
    pk: int
    position: int
    name: str
    config: dict[str, Any] | None
    effective: dict[str, Any]
    object: str | None
    problems: list[Problem]
    last_run: models.RunStream | None = None

    @property
    def disabled(self) -> bool:
        return self.effective.get("disabled") is True

    @property
    def wildcard(self) -> bool:
        return "*" in self.name or "?" in self.name

    @property
    def own(self) -> dict[str, Any]:
        return self.config or {}


@dataclass
class Editor:
    """One replication as the editor shows it, from two queries."""

    replication: models.Replication
    config: ReplicationConfig
    ids: dict[str, int]  # stream name -> row id
    context: Context  # the sling, connections and environment the studio runs with
    keys: dict[str, str]  # stream name -> its asset key, as saved
    # What the check of this version found, when its save just did it (else the cache may know).
    checked: list[Problem] | None = None

    @classmethod
    def load(
        cls,
        replication: models.Replication,
        *,
        stored: Stored | None = None,
        context: Context | None = None,
        checked: list[Problem] | None = None,
    ) -> Editor:
        """The editor of `replication` as it is now: its streams are read once per version
        (and kept, read-only, in the `editor` cache). A save gives what it stored, the context
        it checked with and what it found (`studio.services.replications.Saved`)."""
        stored = stored or stored_streams(replication)
        context = context or validation.context()
        return cls(replication, stored.config, stored.ids, context, stored.keys, checked)

    @cached_property
    def basis(self) -> str:
        """The version edited, as the check's memo knows it (`validate(..., basis=)`)."""
        return editor_cache.version_key(self.replication)

    @cached_property
    def positions(self) -> dict[str, int]:
        """Stream name -> its place in the file (made once per version, kept in the cache)."""
        return editor_cache.of_version(
            self.basis, "positions", lambda: {n: i for i, n in enumerate(self.ids)}
        )

    @cached_property
    def search(self) -> list[tuple[str, str, str]]:
        """Each stream's name, and its name and own object in lower case, for the filter (made
        once per version, kept in the cache)."""
        streams = self.config.streams

        def made() -> list[tuple[str, str, str]]:
            return [(n, n.lower(), str((streams[n] or {}).get("object", "")).lower()) for n in self.ids]

        return editor_cache.of_version(self.basis, "search", made)

    @cached_property
    def names(self) -> Names:
        return Names.of(self.config, self.context)

    def effective(self, config: dict[str, Any] | None) -> dict[str, Any]:
        return effective_config(self.config.defaults, config, self.context.sling)

    @cached_property
    def problems(self) -> list[Problem]:
        """Every problem of the replication: checked once per version and per state of what
        the check reads besides (connections, other replications' keys, sling, environment)."""
        others = getattr(self.replication, "keys_stamp", None)
        if others is None:  # loaded elsewhere: one query more
            others = (
                with_keys_stamp(models.Replication.objects.filter(pk=self.replication.pk)).get().keys_stamp
            )

        def made() -> list[Problem]:
            found = (
                self.checked
                if self.checked is not None
                else editor_cache.checked(self.replication, self.context)
            )
            if found is None:
                memo = editor_cache.memo(self.replication.name)
                found = validate(self.config, None, configured.translator(), self.context, memo, self.basis)
            return [*found, *key_conflicts(self.replication, self.keys, stored=True)]

        return editor_cache.problems(self.basis, others, self.context, made)

    def stream_name(self, pk: int) -> str | None:
        """The name of the stream with row id `pk`, or None when it is not this replication's."""
        return next((name for name, stream_pk in self.ids.items() if stream_pk == pk), None)

    def row(self, name: str, last_run: models.RunStream | None = None) -> StreamRow:
        config = self.config.streams[name]
        effective = self.effective(config)
        target = resolve_object(name, effective, self.names)
        if last_run is not None and last_run.object and last_run.object != (target or ""):
            # It wrote another object (a restore or an edit moved the stream's target since):
            # not this stream's last run. Runs recorded without their object are kept.
            last_run = None
        return StreamRow(
            pk=self.ids[name],
            position=self.positions[name],
            name=name,
            config=config,
            effective=effective,
            object=target,
            problems=self.problems_by_stream.get(name, []),
            last_run=last_run,
        )

    def matching(self, q: str = "") -> list[str]:
        """The streams whose name or own object contains `q` (any case), in file order."""
        if not q:
            return list(self.ids)
        needle = q.lower()
        return [name for name, lowered, obj in self.search if needle in lowered or needle in obj]

    def names_page(self, q: str = "", sort: str = "position", page: int | str = 1) -> Page:
        """The page of stream names the table shows for filter `q`, order `sort` and `page`."""
        names = self.matching(q)
        key = SORTS.get(sort.lstrip("-"), "position")
        if key == "name":
            names.sort(key=str.lower)
        elif key != "position":
            effective = {n: self.effective(self.config.streams[n]) for n in names}
            names.sort(key=lambda n: str(effective[n].get(key) or ""))
        if sort.startswith("-"):
            names.reverse()
        return Paginator(names, STREAMS_PER_PAGE).get_page(page)

    def rows(self, q: str = "", sort: str = "position", page: int | str = 1) -> Page:
        current = self.names_page(q, sort, page)
        current.object_list = self.rows_of(current.object_list)
        return current

    def rows_of(self, names: list[str]) -> list[StreamRow]:
        rep = self.replication.name
        last = last_stream_runs((rep, n) for n in names)
        return [self.row(n, last.get((rep, n))) for n in names]

    def changed_rows(self, before: Editor, q: str, sort: str, page: int | str) -> list[str] | None:
        """The rows of the table's page (`q`, `sort`, `page`) that differ from what `before`,
        an earlier version, showed, when only their cells changed; None when the page lists
        other streams or in another order now (its table is shown again)."""
        if list(self.ids.items()) != list(before.ids.items()):
            return None
        shown = list(self.names_page(q, sort, page).object_list)
        if shown != list(before.names_page(q, sort, page).object_list):
            return None
        if self.config.defaults != before.config.defaults:
            return shown
        now, then = self.problems_by_stream, before.problems_by_stream
        return [
            n
            for n in shown
            if self.config.streams[n] != before.config.streams[n] or now.get(n) != then.get(n)
        ]

    @cached_property
    def problems_by_stream(self) -> dict[str, list[Problem]]:
        found: dict[str, list[Problem]] = {}
        for problem in self.problems:
            if problem.path[:1] == ("streams",) and len(problem.path) > 1:
                found.setdefault(problem.path[1], []).append(problem)
        return found

    def preview(self, old_name: str, new_name: str, config: dict[str, Any] | None) -> dict[str, Any]:
        """What stream `old_name` would be as `new_name` with `config`: problems,
        target object, asset key and YAML."""
        effective = self.effective(config)
        key = self.asset_key(new_name, config)
        if new_name == old_name and config == self.config.streams[old_name]:  # as saved: its check
            problems = self.problems_by_stream.get(new_name, [])
        else:
            streams = with_stream(self.config.streams, old_name, new_name, config)
            candidate = replace(self.config, streams=streams)
            memo = editor_cache.memo(self.replication.name)
            edited = {old_name, new_name}
            checked = validate(
                candidate, None, configured.translator(), self.context, memo, self.basis, edited
            )
            problems = [p for p in checked if p.path[:2] == ("streams", new_name)]
            if effective.get("disabled") is not True:
                problems += key_conflicts(self.replication, {new_name: key})
        preview = resolve_object(new_name, effective, self.names)
        shape = self.shapes.of(new_name, effective)
        return {
            "columns": shape.columns,
            "landing": shape.landing,
            "excluded": shape.excluded,
            "target_columns": shape.table,
            "schema_changes": shape.changes,
            "preview_problems": problems,
            "preview_object": preview,
            "preview_key": key,
            "preview_runtime": runtime_variables(preview or ""),
            "preview_wildcard": self.wildcard(new_name, config),
            "preview_yaml": emit_streams({new_name: config}),
        }

    @cached_property
    def shapes(self) -> Shapes:
        return Shapes(self.names, self.context)

    def source_columns(self) -> list[tuple[str, str]]:
        """(name, type) of every column discovered on the source, for bulk edits (no query
        once the check's lookup has them)."""
        lookup, source = self.context.columns, self.names.source
        if not isinstance(lookup, StoredColumns) or not isinstance(source, str):
            return []
        return lookup.of_connection(source.upper())

    def wildcard(self, name: str, config: dict[str, Any] | None) -> str | None:
        """How sling takes a wildcard stream: `expands` (one stream per match) or `single`
        (one stream reading every match); None for a stream that is no wildcard."""
        stream = render_env(name, self.names.env)
        if not is_wildcard(stream):
            return None
        return "single" if read_as_one(self.effective(config)) else "expands"

    def matched(self, name: str, matches: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
        """The streams a wildcard expands into, each with the object sling writes for it; and the
        matches that are streams of their own, which are not the wildcard's (sling leaves them
        out of it and runs them as those streams)."""
        effective = self.effective(self.config.streams[name])
        taken = {_bare(stream) for stream in self.config.streams}
        own = [match for match in matches if _bare(match) in taken]
        return [(m, resolve_object(m, effective, self.names)) for m in matches if m not in own], own

    def asset_key(self, name: str, config: dict[str, Any] | None) -> str:
        """The dagster asset key `config` gives stream `name` (disabled or not)."""
        if config:
            config = {k: v for k, v in config.items() if k != "disabled"}
        [definition] = stream_definitions(replace(self.config, streams={name: config}))
        try:
            return key_to_string(configured.translator().get_asset_key(definition))
        except TranslationError as exc:
            return f"(refused: {exc})"


def _bare(stream: str) -> str:
    """A stream name as sling compares them: no quotes, no `file://`, any case."""
    name = stream.replace('"', "").lower()
    return name[len("file://") :] if name.startswith("file://") else name
