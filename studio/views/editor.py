"""The editor of one replication: its page, settings and defaults, the streams table,
a stream's panel, adding streams and bulk edits. Each view parses the request, calls one
service or reads the editor, and renders one part; an edit that is not saved is answered in
the editor's notices by `with_editor`."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, replace_url

from replication import sling
from replication.config import ReplicationConfig
from replication.resolve import render_env
from studio import validation
from studio.errors import Refused
from studio.forms.editor import BULK_ACTIONS, BulkForm, KeysForm, NewStreamForm, SettingsForm, StreamForm
from studio.forms.runs import RunForm
from studio.roles import role_required
from studio.selectors.connections import connection_names
from studio.selectors.editing import Editor
from studio.selectors.runs import stream_runs
from studio.services import replications as service
from studio.services.columns import columns_queue_if_stale
from studio.services.connections import stream_matches as stream_matches_service
from studio.views.saving import (
    changed,
    editor_of,
    form_problems,
    notice,
    posted_version,
    refusal_into,
    shown_in_place,
    with_editor,
)

EDITOR = "studio/editor.html"
SORT_CHOICES = [
    ("position", "File order"),
    ("name", "Name"),
    ("-name", "Name, Z to A"),
    ("mode", "Mode"),
    ("object", "Target object"),
]


def _context(request: HttpRequest, editor: Editor, **extra: Any) -> dict[str, Any]:
    config = editor.config
    settings = SettingsForm(
        initial={
            "name": editor.replication.name,
            "source": config.source,
            "target": config.target,
            "env": config.env or None,
            "hooks": config.hooks or None,
        }
    )
    q, sort, page = _table(request)
    return {
        "editor": editor,
        "replication": editor.replication,
        "settings_form": settings,
        "defaults_form": KeysForm(config=config.defaults, prefix="defaults"),
        "page": editor.rows(q, sort, page),
        "q": q,
        "sort": sort,
        "bulk_actions": BULK_ACTIONS,
        # The bulk bar's choice, kept after Apply so that the next streams take the same edit.
        "bulk": {field: request.POST.get(field, "") for field in ("action", "key", "value")},
        "sort_choices": SORT_CHOICES,
        "stream_keys": KeysForm.base_fields,
        "source_columns": editor.source_columns(),
        "connections": connection_names(),
        "new_stream_form": NewStreamForm(),
        "run_form": RunForm(auto_id="run_%s"),
        **extra,
    }


def _table(request: HttpRequest) -> tuple[str, str, str]:
    """The streams table's filter, order and page, as shown: a save or a bulk edit posts them
    too (its form includes #stream-filters and #table-page). Paginator.get_page copes with any
    page, but would show the last one for 0 or -4."""
    table = request.GET if request.method == "GET" else request.POST
    page = table.get("page", "1").strip()
    page = "1" if page.startswith("-") or page.strip("0") == "" else page
    return table.get("q", ""), table.get("sort", "position"), page


def _part(request: HttpRequest, editor: Editor, part: str, **extra: Any) -> HttpResponse:
    return render(request, f"{EDITOR}#{part}", _context(request, editor, **extra))


@require_GET
@with_editor
def editor(request: HttpRequest, editor: Editor) -> HttpResponse:
    return render(request, EDITOR, _context(request, editor))


@require_GET
@with_editor
def streams_table(request: HttpRequest, editor: Editor) -> HttpResponse:
    """The table at the filter, order and page asked for; the address bar shows the editor at
    them (replaced, not pushed: typing a filter is not a page of history), so that a reload or a
    shared link opens the table as it is seen."""
    response = _part(request, editor, "streams")
    if request.htmx:
        q, sort, page = _table(request)
        shown = QueryDict(mutable=True)
        for key, value, default in (("q", q, ""), ("sort", sort, "position"), ("page", page, "1")):
            if value != default:
                shown[key] = value
        address = reverse("editor", args=[editor.replication.name])
        replace_url(response, f"{address}?{shown.urlencode()}" if shown else address)
    return response


@require_GET
@with_editor
def problems(request: HttpRequest, editor: Editor) -> HttpResponse:
    return render(request, "studio/_problems.html", {"problems": editor.problems, "editor": editor})


def _settings_forms(request: HttpRequest, editor: Editor) -> tuple[SettingsForm, KeysForm]:
    settings = SettingsForm(request.POST)
    defaults = KeysForm(request.POST, config=editor.config.defaults, prefix="defaults")
    return settings, defaults


def _with_settings(editor: Editor, settings: SettingsForm, defaults: KeysForm) -> ReplicationConfig:
    return settings.apply(editor.config, defaults.apply())


@require_POST
@role_required("edit")
@with_editor
def settings_save(request: HttpRequest, editor: Editor) -> HttpResponse:
    settings, defaults = _settings_forms(request, editor)
    if not (settings.is_valid() and defaults.is_valid()):
        response = _part(request, editor, "settings", settings_form=settings, defaults_form=defaults)
        response.status_code = 422
        return response
    name, new_name = editor.replication.name, settings.cleaned_data["name"]
    saved = service.replication_commit(
        name=name,
        config=_with_settings(editor, settings, defaults),
        summary="settings",
        rename_to=new_name,
        user=request.user,
        base_version=posted_version(request),
    )
    if new_name != name:
        return changed(HttpResponseClientRedirect(reverse("editor", args=[new_name])))
    return changed(_part(request, editor_of(saved), "settings", saved=True))


@require_POST
@with_editor
def settings_check(request: HttpRequest, editor: Editor) -> HttpResponse:
    """Validation as you type in the settings: the problems the edit would leave, unsaved."""
    settings, defaults = _settings_forms(request, editor)
    if settings.is_valid() and defaults.is_valid():
        problems = validation.check(_with_settings(editor, settings, defaults))
    else:
        problems = form_problems(settings) + form_problems(defaults)
    return render(request, "studio/_problems.html", {"problems": problems})


@require_POST
@role_required("edit")
@with_editor
def stream_add(request: HttpRequest, editor: Editor) -> HttpResponse:
    form = NewStreamForm(request.POST)
    if not form.is_valid():
        return notice(request, {"problems": form_problems(form), "refused": True})
    name = form.cleaned_data["name"].strip()
    own = {"object": form.cleaned_data["object"]} if form.cleaned_data["object"] else None
    saved = service.stream_add(
        replication=editor.replication,
        config=editor.config,
        name=name,
        own=own,
        user=request.user,
        base_version=posted_version(request),
    )
    return changed(_stream_panel(request, editor_of(saved), name, saved=True))


@require_POST
@role_required("edit")
@with_editor
def streams_bulk(request: HttpRequest, editor: Editor) -> HttpResponse:
    form = BulkForm(request.POST, stream_ids=list(editor.ids.values()))
    if not form.is_valid():
        return notice(request, {"problems": form_problems(form), "refused": True})
    data = form.cleaned_data
    if data["matching"]:
        names = editor.matching(request.POST.get("q", ""))
    else:
        chosen = set(data["streams"])
        names = [name for name, pk in editor.ids.items() if pk in chosen]
    saved = service.streams_bulk(
        replication=editor.replication,
        config=editor.config,
        names=names,
        action=data["action"],
        key=data.get("key"),
        value=data.get("value"),
        user=request.user,
        base_version=posted_version(request),
    )
    done = _bulk_done(data["action"], len(names), data.get("key"), data.get("value"))
    # The table, with the problems out of band: the page fetches neither again.
    return shown_in_place(
        _part(request, editor_of(saved), "streams", saved=True, done=done, with_problems=True)
    )


def _bulk_done(action: str, count: int, key: str | None, value: Any) -> str:
    """What a bulk edit did, said above the table it refreshed."""
    streams = f"{count} stream{'s' if count != 1 else ''}"
    if action == "set":
        return f"Removed `{key}` from {streams}." if value is None else f"Set `{key}` on {streams}."
    verbs = {"enable": "Enabled", "disable": "Disabled", "duplicate": "Duplicated", "delete": "Deleted"}
    return f"{verbs[action]} {streams}."


def _stream_name_or_404(editor: Editor, pk: int) -> str:
    name = editor.stream_name(pk)
    if name is None:
        raise Http404("no such stream in this replication")
    return name


def _panel_context(editor: Editor, stream: str, form: StreamForm) -> dict[str, Any]:
    """What the stream's panel draws, and so its live check (`#preview`, a part of the panel): one
    context for both, so the part never misses what the whole panel has."""
    form.set_inherited(editor.config.defaults)
    edited = form.is_bound and form.is_valid()
    config = form.apply() if edited else editor.config.streams[stream]
    return {
        "editor": editor,
        "replication": editor.replication,
        "stream": {"name": stream, "pk": editor.ids[stream]},
        "form": form,
        **editor.preview(stream, form.cleaned_data["name"].strip() if edited else stream, config),
    }


def _stream_panel(
    request: HttpRequest, editor: Editor, stream: str, form: StreamForm | None = None, **extra: Any
) -> HttpResponse:
    if form is None:
        form = StreamForm(config=editor.config.streams[stream], name=stream)
    context = {
        **_panel_context(editor, stream, form),
        "stream_runs": stream_runs(editor.replication.name, stream),
        **extra,
    }
    if not form.is_bound and isinstance(editor.names.source, str):
        context["columns_queued"] = columns_queue_if_stale(
            connection=editor.names.source, stream=stream, known=context["columns"]
        )
    template = "studio/_stream_panel.html" if request.htmx else "studio/stream.html"
    return render(request, template, context, status=422 if form.is_bound and form.errors else 200)


@require_http_methods(["GET", "POST"])
@role_required("edit", methods=("POST",))
@with_editor
def stream_edit(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    stream = _stream_name_or_404(editor, pk)
    if request.method == "GET":
        return _stream_panel(request, editor, stream)
    form = StreamForm(request.POST, config=editor.config.streams[stream], name=stream)
    if not form.is_valid():
        return _stream_panel(request, editor, stream, form)
    new_name = form.cleaned_data["name"].strip()
    try:
        saved = editor_of(
            service.stream_update(
                replication=editor.replication,
                config=editor.config,
                old=stream,
                new=new_name,
                own=form.apply(),
                user=request.user,
                base_version=posted_version(request),
            )
        )
    except Refused as exc:
        if not all(p.path == ("name",) for p in exc.problems):
            raise  # said above the form (`with_editor`)
        refusal_into(form, exc)  # a name another stream has: said on the form
        return _stream_panel(request, editor, stream, form)
    # The panel, and with it the table's rows and the problems the save changed, when the
    # table lists the same streams in the same order (else the page fetches them).
    rows = saved.changed_rows(editor, *_table(request)) if request.htmx else None
    if rows is None:
        return changed(_stream_panel(request, saved, new_name, saved=True))
    return shown_in_place(
        _stream_panel(request, saved, new_name, saved=True, changed_rows=saved.rows_of(rows))
    )


@require_GET
@role_required("edit")
@with_editor
def stream_matches(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    """What a wildcard stream expands into, found as sling finds it, with each object."""
    stream = _stream_name_or_404(editor, pk)
    context: dict[str, Any] = {"stream": stream, "error": "", "matches": [], "taken": []}
    try:
        found = stream_matches_service(
            source=editor.names.source, pattern=render_env(stream, editor.names.env)
        )
        context["matches"], context["taken"] = editor.matched(stream, found)
    except sling.RunError as exc:
        context["error"] = str(exc)
    return render(request, "studio/_stream_matches.html", context)


@require_POST
@with_editor
def stream_check(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    stream = _stream_name_or_404(editor, pk)
    form = StreamForm(request.POST, config=editor.config.streams[stream], name=stream)
    context = _panel_context(editor, stream, form)
    if form.errors:
        context.update(preview_problems=form_problems(form), form_invalid=True)
    return render(request, "studio/_stream_panel.html#preview", context)
