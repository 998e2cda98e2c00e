"""Writes of replications: save as a new version (refusing stale edits), import, create,
duplicate, delete, and the editor's edits of settings and streams."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import transaction

from replication.config import NAME, ReplicationConfig, bulk_edit, with_stream
from replication.context import Context
from replication.problems import ERROR, Problem
from replication.translator import asset_keys
from replication.util import paused_gc
from replication.yamlio import Document, TooLong, YamlError, parse
from studio import configured, editor_cache, models, validation
from studio.editor_cache import Stored
from studio.errors import Refused
from studio.selectors.replications import current_text, revision_diff, text_diff
from studio.services import audit
from studio.services.versions import versioned_update


def _check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise Refused.field("name", f"name `{name}` must be 1-200 letters, digits, `-` or `_`")


@dataclass(frozen=True)
class Saved:
    """What a commit saved: the replication at its new version, its streams as stored (when the
    save started from the edited version's, else None: read them), and what its check found
    with `context`. The editor of the new version starts from them (`Editor.load`)."""

    replication: models.Replication
    streams: Stored | None
    problems: list[Problem]
    context: Context


def replication_save(**save: Any) -> models.Replication:
    """`_store` (its arguments), the replication it saved."""
    replication, _ = _store(**save)
    return replication


@transaction.atomic
def _store(
    *,
    name: str,
    config: ReplicationConfig,
    user: Any = None,
    summary: str = "",
    base_version: int | None = None,
    rename_to: str | None = None,
    text: str | None = None,
    renamed: dict[str, str] | None = None,
    edited: set[str] | None = None,
) -> tuple[models.Replication, Stored | None]:
    """Store `config` under `name` as a new version with its revision; `text` is its YAML
    exactly (an import, a restore), else the text of the version before is patched when
    someone reads it (`Revision.yaml`). `edited`: the streams that differ from version
    `base_version`'s, when the caller knows (only those are compared).

    With `base_version`, the save is refused with `Conflict` when the stored
    replication has moved on since (the check and the bump are one UPDATE, so
    two concurrent saves cannot both pass). Streams keep their rows (and ids)
    when their names stay; only changed rows are written. Returns the replication and, when
    the save started from the streams the editor keeps of `base_version`, its streams as stored.
    """
    _check_name(rename_to or name)
    fields = {
        "source": config.source or "",
        "target": config.target or "",
        "defaults": config.defaults,
        "hooks": config.hooks,
        "env": config.env,
        "extra": config.extra,
    }
    previous = models.Replication.objects.filter(name=name).first()
    if previous is None:
        replication = models.Replication.objects.create(name=name, version=1, **fields)
    else:

        def changed(current: models.Replication) -> str:
            return revision_diff(current, base_version or 0, current.version) or ""

        replication = versioned_update(previous, base_version, changed=changed, name=name)
    if rename_to and rename_to != name:
        if models.Replication.objects.filter(name=rename_to).exists():
            raise Refused.field("name", f"a replication named `{rename_to}` exists")
        fields["name"] = rename_to
    for key, value in fields.items():
        setattr(replication, key, value)
    replication.save(update_fields=[*fields, "updated"])
    # The rows are those of the edited version: those the editor keeps, when it does.
    of_base = previous is not None and base_version is not None and previous.version == base_version
    before = editor_cache.streams(previous) if of_base else None
    after = _save_streams(replication, config, before, edited)
    if after is not None:  # the editor of the new version starts from them (later requests too)
        editor_cache.keep_streams(replication, after)
    revision = models.Revision.objects.create(
        replication=replication,
        version=replication.version,
        author=user if getattr(user, "is_authenticated", False) else None,
        summary=summary[:300],
        document=models.Revision.document_of(config, after.fragments if after else None),
        text=text or "",
        renamed=renamed or {},
    )
    details: dict[str, Any] = {"version": revision.version, "revision": revision.pk}
    if edited and of_base:
        details["streams"] = sorted(edited, key=str)[:100]
    if renamed:
        details["renamed streams"] = renamed
    if fields.get("name"):
        details["renamed"] = {"from": name, "to": fields["name"]}
    action = "created" if previous is None else "saved"
    audit.record(action, replication, summary=f"version {revision.version}: {summary}", details=details)
    return replication, after


def _save_streams(
    replication: models.Replication,
    config: ReplicationConfig,
    before: Stored | None,
    edited: set[str] | None = None,
) -> Stored | None:
    """Write only what changed: new rows, rows whose position, config or asset key moved,
    deletions. `before`: the streams as stored now, when known (else they are read): then only
    the streams that changed are looked at (those `edited`, when given), and the streams as
    stored after are returned."""
    streams = config.streams
    defaults = config.defaults if isinstance(config.defaults, dict) else {}
    keyed_by = (settings.SLING_STUDIO_TRANSLATOR, repr(defaults.get("meta")))
    if before is None:
        rows = replication.streams.values_list("pk", "name", "position", "config", "asset_key")
        existing = {name: (pk, position, config, key) for pk, name, position, config, key in rows}
        keys = asset_keys(config, configured.translator())
        walk: Any = enumerate(streams.items())
    else:
        olds = before.config.streams
        looked = streams.items() if edited is None else ((n, streams[n]) for n in edited if n in streams)
        changed = {
            name: own
            for name, own in looked
            if name not in olds or (olds[name] is not own and olds[name] != own)
        }
        same_keys = before.keyed_by == keyed_by  # the other streams keep their keys
        if same_keys:
            keys = {**before.keys, **asset_keys(replace(config, streams=changed), configured.translator())}
        else:
            keys = asset_keys(config, configured.translator())
        ids = list(before.ids.items())
        order = list(streams)
        same_order = order == list(before.ids)
        if same_keys and same_order:  # only `changed` rows move
            positions = {name: i for i, name in enumerate(order) if name in changed}
            walk = [(positions[name], (name, own)) for name, own in changed.items()]
            ids = [(name, before.ids[name]) for name in changed]
        else:
            positions = {name: i for i, (name, _) in enumerate(ids)}
            walk = enumerate(streams.items())
        existing = {name: (pk, positions[name], olds[name], before.keys[name]) for name, pk in ids}
    create, update = [], []
    with paused_gc():
        for position, (name, own) in walk:
            old = existing.pop(name, None)
            if old is not None and old[1:] == (position, own, keys[name]):
                continue  # an unchanged row: not even an instance of it
            row = models.Stream(
                replication=replication, position=position, name=name, config=own, asset_key=keys[name]
            )
            if old is None:
                create.append(row.derive())
            else:
                row.pk = old[0]
                update.append(row.derive())
        if existing:
            models.Stream.objects.filter(pk__in=[old[0] for old in existing.values()]).delete()
        fields = ["position", "config", "mode", "object", "disabled", "asset_key"]
        models.Stream.objects.bulk_update(update, fields, batch_size=1000)
        models.Stream.objects.bulk_create(create, batch_size=2000)
    if before is None:
        return None
    # What the next version's editor starts from: the rows as a read would give them.
    written = [row.pk for row in (*update, *create)]
    stored = dict(models.Stream.objects.filter(pk__in=written).values_list("name", "config"))
    replication.refresh_from_db(fields=["defaults", "hooks", "env", "extra"])
    fragment = models.Revision.stream_fragment
    new = changed if before.fragments is not None else streams
    fragments = None
    if all(isinstance(name, str) for name in new):
        fragments = {**(before.fragments or {}), **{name: fragment(name, own) for name, own in new.items()}}
    # In the file's order. The same streams in the same order: the dicts before, updated.
    as_stored = {**streams, **stored}
    if same_order:
        return Stored(replication.as_config(as_stored), before.ids, keys, keyed_by, fragments)
    ids = {**before.ids, **{row.name: row.pk for row in create}}
    return Stored(
        replication.as_config(as_stored),
        {name: ids[name] for name in streams},
        {name: keys[name] for name in streams},
        keyed_by,
        {name: fragments[name] for name in streams} if fragments is not None else None,
    )


def replication_commit(
    *,
    name: str,
    config: ReplicationConfig,
    edit_of: models.Replication | None = None,
    edited: Iterable[str] = (),
    **save: Any,
) -> Saved:
    """Validate and save an edit (`save`: `_store`'s other arguments); `Refused` lists the errors
    when there are any. What the check found is kept for the editor of the new version. With
    `edit_of`, `config` is that version of the replication with only the streams `edited`
    changed: the check compares only those with what it kept (`validate(..., basis=)`)."""
    context = validation.context()
    memo = editor_cache.memo(name)
    basis = editor_cache.version_key(edit_of) if edit_of is not None else None
    edited = set(edited)
    problems = validation.check(config, memo=memo, with_context=context, basis=basis, edited=edited)
    if validation.blocking(problems):
        raise Refused(validation.blocking(problems))
    saved, streams = _store(name=name, config=config, edited=edited if edit_of is not None else None, **save)
    memo.rebase(basis, editor_cache.version_key(saved), edited)
    editor_cache.keep_checked(saved, context, problems)
    return Saved(saved, streams, problems, context)


@transaction.atomic
def replication_create(
    *,
    name: str,
    source: str,
    target: str,
    user: Any = None,
    defaults: dict[str, Any] | None = None,
    streams: list[str] | tuple[str, ...] = (),
) -> models.Replication:
    """A new replication, with `streams` (their config empty: `defaults` gives it) or none yet;
    `Refused` when the name is taken, or (with streams) when it would not run."""
    if models.Replication.objects.filter(name=name).exists():
        raise Refused.field("name", f"a replication named `{name}` exists")
    if not target:
        raise Refused.field("target", "name the connection the streams go to")
    config = ReplicationConfig(
        source=source, target=target, streams=dict.fromkeys(streams), defaults=defaults or {}
    )
    if not streams:
        return replication_save(name=name, config=config, user=user, summary="created")
    saved = replication_commit(
        name=name, config=config, user=user, summary=f"created with {len(streams)} discovered stream(s)"
    )
    return saved.replication


def replication_import(
    *, name: str, text: str | bytes, user: Any = None, new: bool = False
) -> tuple[models.Replication, list[Problem]]:
    """Parse, validate and store a replication document: a new version of it, or with `new` a
    new replication (`Refused` when the name is taken).

    Raises `Refused` (nothing saved) on unreadable YAML or any validation error;
    returns the warnings otherwise.
    """
    _check_name(name)
    if new and models.Replication.objects.filter(name=name).exists():
        raise Refused.field(
            "name", f"a replication named `{name}` exists: its editor's Import YAML replaces it"
        )
    document, problems = _parse_checked(text)
    replication = replication_save(
        name=name,
        config=document.replication,
        user=user,
        summary="imported",
        text=document.text,
    )
    return replication, problems


@dataclass(frozen=True)
class Imported:
    """What importing one document did: `imported`, `updated` or `unchanged`."""

    name: str
    outcome: str
    streams: int
    warnings: list[Problem]

    @property
    def summary(self) -> str:
        here = sum(p.here for p in self.warnings)
        said = f"{self.streams} stream{'s' * (self.streams != 1)}, {len(self.warnings) - here} warning(s)"
        return f"{self.outcome} {self.name}: {said}" + (f", {here} that cannot run here" if here else "")


@transaction.atomic
def replications_import(*, files: list[tuple[str, str | bytes]], user: Any = None) -> dict[str, Imported]:
    """Import or update every (name, text), all or nothing: `Refused` with each refused
    document's problems in `by_name`. A text the replication has already makes no revision."""
    refused: dict[str, list[Problem]] = {}
    done: dict[str, Imported] = {}
    for name, text in files:
        try:
            _check_name(name)  # before any query: a name may hold what no column can (NUL)
            document, warnings = _parse_checked(text)
        except Refused as exc:
            refused[name] = exc.problems
            continue
        existing = models.Replication.objects.filter(name=name).first()
        if existing is not None and current_text(existing) == document.text:
            done[name] = Imported(name, "unchanged", existing.streams.count(), warnings)
            continue
        saved = replication_save(
            name=name, config=document.replication, user=user, summary="imported", text=document.text
        )
        done[name] = Imported(name, "updated" if existing else "imported", saved.streams.count(), warnings)
    if refused:
        raise Refused([p for problems in refused.values() for p in problems], by_name=refused)
    return done


def replication_check_text(text: str | bytes, stored: bool = True) -> list[Problem]:
    """Every problem of a document, as an import would find them; nothing is stored.
    `stored=False`: without the studio's connections (there is no studio database)."""
    try:
        document = parse(text)
    except YamlError as exc:
        return [Problem((), exc.line, ERROR, exc.message)]
    return _nul_problems(document) or validation.check(document.replication, document.line_of, stored)


def _parse_checked(text: str | bytes) -> tuple[Document, list[Problem]]:
    """Parse and validate a document; `Refused` with lines on any error, else the warnings."""
    try:
        document = parse(text)
    except YamlError as exc:
        raise Refused([Problem((), exc.line, ERROR, exc.message)]) from None
    return document, _checked(document)


def _checked(document: Document) -> list[Problem]:
    if nul := _nul_problems(document):
        raise Refused(nul)
    problems = validation.check(document.replication, document.line_of)
    if any(p.refuses_file for p in problems):
        raise Refused(problems)
    return problems


# What an import in the browser takes: reading and checking a document hold a server thread,
# about 7 µs a key or value as written and 0.2 ms a stream on a loaded 2-core
# machine (60,000 streams took 14 s and more); a 10,000-stream file of 6 keys a stream has
# 170,000 keys and values. The command line takes any.
PREVIEW_WRITTEN = 200_000
PREVIEW_STREAMS = 10_000
_ON_THE_SERVER = (
    "so it answers within seconds; import a bigger one on the server: "
    "`python manage.py import_replication FILE --name NAME`"
)


def _nul_problems(document: Document) -> list[Problem]:
    """Each key holding a NUL character (written as an escape, `"\\0"`), with its line, before
    any query sees it: PostgreSQL cannot store one (a value's NUL is the rules' to refuse:
    replication.validate.keys)."""
    if "\\" not in document.text:  # only an escape in a double-quoted scalar makes a NUL
        return []
    found: list[Problem] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), document.replication.to_dict())]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and "\x00" in key:
                    message = "the text contains a NUL character, which cannot be stored"
                    found.append(Problem((*path, key), document.line_of((*path, key)), ERROR, message))
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
    return found


def replication_import_preview(
    *, replication: models.Replication, text: str | bytes
) -> tuple[Document, list[Problem], str]:
    """What importing `text` over `replication` would do: the document, its warnings and
    the diff of the texts against the current version. `Refused` on any error, as
    import_replication, and past PREVIEW_WRITTEN or PREVIEW_STREAMS (read no further)."""
    try:
        document = parse(text, most_written=PREVIEW_WRITTEN)
    except TooLong as exc:
        message = (
            f"{exc.message}: the browser imports up to {PREVIEW_STREAMS:,} streams or so, {_ON_THE_SERVER}"
        )
        raise Refused([Problem((), exc.line, ERROR, message)]) from None
    except YamlError as exc:
        raise Refused([Problem((), exc.line, ERROR, exc.message)]) from None
    streams = len(document.replication.streams)
    if streams > PREVIEW_STREAMS:
        message = (
            f"{streams:,} streams: the browser imports up to {PREVIEW_STREAMS:,} streams, {_ON_THE_SERVER}"
        )
        raise Refused([Problem(("streams",), document.line_of(("streams",)), ERROR, message)])
    problems = _checked(document)
    return document, problems, text_diff(current_text(replication), document.text, "current", "imported")


def replication_duplicate(*, replication: models.Replication, user: Any = None) -> models.Replication:
    """A copy under the first free name `<name>-copy`, `<name>-copy-2`, ..."""
    base = f"{replication.name[:190]}-copy"
    taken = set(models.Replication.objects.filter(name__startswith=base).values_list("name", flat=True))
    name = next(n for n in (base, *(f"{base}-{i}" for i in range(2, 10_000))) if n not in taken)
    summary = f"duplicated from {replication.name}"
    text = current_text(replication)
    return replication_save(name=name, config=replication.as_config(), user=user, summary=summary, text=text)


@transaction.atomic
def replication_delete(*, replication: models.Replication, base_version: int | None = None) -> None:
    """Delete the replication (its streams, revisions, schedules); with `base_version`, only
    that version of it: `Conflict` when someone saved it since."""
    if base_version is not None:
        versioned_update(
            replication,
            base_version,
            changed=lambda current: revision_diff(current, base_version, current.version) or "",
            name=replication.name,
        )
    audit.record("deleted", replication)
    replication.delete()


# --- the editor's edits: each is a commit of the edited version -----------------------------


def stream_add(
    *, replication: models.Replication, config: ReplicationConfig, name: str, own: Any, **save: Any
) -> Saved:
    """Append stream `name` (its own keys `own`); `Refused` when the name is taken."""
    if name in config.streams:
        raise Refused([Problem(("streams", name), None, ERROR, "a stream with this name exists")])
    streams = {**config.streams, name: own}
    return replication_commit(
        name=replication.name,
        config=replace(config, streams=streams),
        edit_of=replication,
        edited={name},
        summary=f"added {name}",
        **save,
    )


def stream_update(
    *, replication: models.Replication, config: ReplicationConfig, old: str, new: str, own: Any, **save: Any
) -> Saved:
    """Give stream `old` the name `new` and the keys `own`; `Refused` when `new` is another's name."""
    if new != old and new in config.streams:
        raise Refused.field("name", "another stream has this name")
    streams = with_stream(config.streams, old, new, own)
    return replication_commit(
        name=replication.name,
        config=replace(config, streams=streams),
        edit_of=replication,
        edited={old, new},
        summary=f"edited {new}",
        renamed={old: new} if new != old else None,
        **save,
    )


def streams_bulk(
    *,
    replication: models.Replication,
    config: ReplicationConfig,
    names: list[str],
    action: str,
    key: str | None = None,
    value: Any = None,
    **save: Any,
) -> Saved:
    """Apply a bulk action (enable, disable, duplicate, delete, set a key) to the named streams."""
    streams = bulk_edit(config.streams, names, action, key=key, value=value)
    summary = f"{action} {len(names)} stream(s)"
    return replication_commit(
        name=replication.name,
        config=replace(config, streams=streams),
        edit_of=replication,
        edited={*names, *(streams.keys() - config.streams.keys())},  # and the duplicates
        summary=summary,
        **save,
    )


def streams_add(
    *,
    replication: models.Replication,
    names: list[str],
    user: Any = None,
    connection: models.Connection | None = None,
    default_object: str = "",
) -> Saved:
    """Append streams (those not there yet) to a replication; discovered on `connection`,
    they are refused unless the replication reads from it. `default_object`: the replication's
    `defaults.object` from now on, where it has none (else its streams would have no object)."""
    if connection is not None and replication.source.upper() != connection.name:
        source = replication.source or "nothing"
        raise Refused.field("replication", f"{replication.name} reads from {source}, not {connection.name}")
    config = replication.as_config()
    streams = dict(config.streams)
    for name in names:
        streams.setdefault(name, None)
    defaults = config.defaults
    if default_object and not (defaults or {}).get("object"):
        defaults = {**(defaults or {}), "object": default_object}
    return replication_commit(
        name=replication.name,
        config=replace(config, streams=streams, defaults=defaults),
        user=user,
        summary=f"added {len(names)} discovered stream(s)",
    )


def revision_restore(*, replication: models.Replication, version: int, **save: Any) -> Saved:
    """Save an old version, its text as it was, as a new one."""
    revision = models.Revision.objects.get(replication=replication, version=version)
    return replication_commit(
        name=replication.name,
        config=revision.config,
        summary=f"restored version {version}",
        text=revision.yaml,
        **save,
    )
