"""Replications: the list and the editor. Each view reads or calls a service
and renders one page or one partial (`page.html#part`) for htmx."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from replication.model import with_stream
from replication.validate import ERROR, Problem
from replication.yamlio import MAX_BYTES
from studio import forms, models, services
from studio.roles import role_required
from studio.selectors import Editor, replications_list, stream_runs

EDITOR = "studio/editor.html"
SORT_CHOICES = [
    ("position", "File order"),
    ("name", "Name"),
    ("-name", "Name, Z to A"),
    ("mode", "Mode"),
    ("object", "Target object"),
]
CHANGED = "replicationChanged"


def _replication(name: str) -> models.Replication:
    return get_object_or_404(models.Replication, name=name)


def _int(text: str | None) -> int | None:
    """A small non-negative integer from a request parameter, or None."""
    if text is None or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _commit(
    request: HttpRequest, editor: Editor, config: Any, summary: str, **save: Any
) -> HttpResponse | None:
    """Save `config`; on refusal or conflict return the response that says why.

    Every save names the version it edits, so nothing is overwritten unseen."""
    base_version = _int(request.POST.get("version"))
    if base_version is None:
        problem = Problem(("version",), None, ERROR, "the edited version is missing: reload the page")
        return _notice(request, {"problems": [problem], "refused": True, "replication": editor.replication})
    try:
        services.replication_commit(
            name=editor.replication.name,
            config=config,
            user=request.user,
            summary=summary,
            base_version=base_version,
            **save,
        )
    except services.Refused as exc:
        return _notice(
            request, {"problems": exc.problems, "refused": True, "replication": editor.replication}
        )
    except services.Conflict as exc:
        return _notice(request, {"conflict": exc, "replication": editor.replication}, status=409)
    return None


def _notice(request: HttpRequest, context: dict[str, Any], status: int = 422) -> HttpResponse:
    """Why an edit was not saved: into the page's #notices for htmx, else a page of its own."""
    if not request.htmx:
        return render(request, "studio/refused.html", context, status=status)
    template = "studio/_conflict.html" if "conflict" in context else "studio/_problems.html"
    response = render(request, template, context, status=status)
    return reswap(retarget(response, "#notices"), "innerHTML")


@require_GET
@login_required
def replication_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    context = {
        "replications": replications_list(q),
        "q": q,
        "form": forms.ReplicationForm(),
        "connections": models.Connection.objects.values_list("name", flat=True),
    }
    template = "studio/replications.html#table" if request.htmx else "studio/replications.html"
    return render(request, template, context)


@require_POST
@login_required
@role_required("edit")
def replication_create(request: HttpRequest) -> HttpResponse:
    form = forms.ReplicationForm(request.POST)
    if form.is_valid():
        name = form.cleaned_data["name"]
        if models.Replication.objects.filter(name=name).exists():
            form.add_error("name", f"a replication named `{name}` exists")
        else:
            config = services.Config(
                source=form.cleaned_data["source"], target=form.cleaned_data["target"], streams={}
            )
            services.replication_save(name=name, config=config, user=request.user, summary="created")
            return redirect("editor", name)
    context = {"replications": replications_list(), "q": "", "form": form}
    return render(request, "studio/replications.html", context, status=422)


@require_POST
@login_required
@role_required("edit")
def replication_duplicate(request: HttpRequest, name: str) -> HttpResponse:
    original = _replication(name)
    copy = services.replication_duplicate(replication=original, user=request.user)
    messages.success(request, f"Duplicated `{name}` as `{copy.name}`.")
    return redirect("editor", copy.name)


@require_http_methods(["GET", "POST"])
@login_required
@role_required("edit")
def replication_delete(request: HttpRequest, name: str) -> HttpResponse:
    replication = _replication(name)
    if request.method == "POST":
        replication.delete()
        messages.success(request, f"Deleted `{name}`.")
        return redirect("replications")
    return render(request, "studio/replication_delete.html", {"replication": replication})


@require_GET
@login_required
def editor(request: HttpRequest, name: str) -> HttpResponse:
    state = Editor.load(_replication(name))
    return render(request, EDITOR, _editor_context(request, state))


def _editor_context(request: HttpRequest, state: Editor, **extra: Any) -> dict[str, Any]:
    defaults = forms.KeysForm(config=state.config.defaults, prefix="defaults")
    settings = forms.SettingsForm(
        initial={
            "name": state.replication.name,
            "source": state.config.source,
            "target": state.config.target,
            "env": state.config.env or None,
            "hooks": state.config.hooks or None,
        }
    )
    q, sort = request.GET.get("q", ""), request.GET.get("sort", "position")
    return {
        "editor": state,
        "replication": state.replication,
        "settings_form": settings,
        "defaults_form": defaults,
        "page": state.rows(q, sort, _page(request)),
        "q": q,
        "sort": sort,
        "bulk_actions": forms.BULK_ACTIONS,
        "sort_choices": SORT_CHOICES,
        "stream_keys": forms.KeysForm.base_fields,
        "connections": models.Connection.objects.values_list("name", flat=True),
        "new_stream_form": forms.NewStreamForm(),
        **extra,
    }


def _page(request: HttpRequest) -> str:
    """Paginator.get_page copes with anything, but would show the last page for 0 or -4."""
    page = request.GET.get("page", "1").strip()
    return "1" if page.startswith("-") or page.strip("0") == "" else page


@require_GET
@login_required
def streams_table(request: HttpRequest, name: str) -> HttpResponse:
    state = Editor.load(_replication(name))
    return render(request, f"{EDITOR}#streams", _editor_context(request, state))


@require_GET
@login_required
def problems(request: HttpRequest, name: str) -> HttpResponse:
    state = Editor.load(_replication(name))
    return render(request, "studio/_problems.html", {"problems": state.problems, "editor": state})


@require_POST
@login_required
@role_required("edit")
def settings_save(request: HttpRequest, name: str) -> HttpResponse:
    state = Editor.load(_replication(name))
    settings = forms.SettingsForm(request.POST)
    defaults = forms.KeysForm(request.POST, config=state.config.defaults, prefix="defaults")
    if not (settings.is_valid() and defaults.is_valid()):
        context = _editor_context(request, state, settings_form=settings, defaults_form=defaults)
        return render(request, f"{EDITOR}#settings", context, status=422)
    data = settings.cleaned_data
    config = _with_settings(state, settings, defaults)
    refused = _commit(request, state, config, "settings", rename_to=data["name"])
    if refused:
        return refused
    if data["name"] != name:
        return HttpResponseClientRedirect(reverse("editor", args=[data["name"]]))
    state = Editor.load(_replication(name))
    response = render(request, f"{EDITOR}#settings", _editor_context(request, state, saved=True))
    return trigger_client_event(response, CHANGED)


def _with_settings(state: Editor, settings: forms.SettingsForm, defaults: forms.KeysForm) -> Any:
    data = settings.cleaned_data
    return replace(
        state.config,
        source=data["source"],
        target=data["target"],
        env=data["env"] or {},
        hooks=data["hooks"] or {},
        defaults=defaults.apply(),
    )


@require_POST
@login_required
def settings_check(request: HttpRequest, name: str) -> HttpResponse:
    """Validation as you type in the settings: the problems the edit would leave, unsaved."""
    state = Editor.load(_replication(name))
    settings = forms.SettingsForm(request.POST)
    defaults = forms.KeysForm(request.POST, config=state.config.defaults, prefix="defaults")
    if settings.is_valid() and defaults.is_valid():
        problems = services.replication_check(_with_settings(state, settings, defaults))
    else:
        problems = _form_problems(settings) + _form_problems(defaults)
    return render(request, "studio/_problems.html", {"problems": problems})


@require_POST
@login_required
@role_required("edit")
def stream_add(request: HttpRequest, name: str) -> HttpResponse:
    state = Editor.load(_replication(name))
    form = forms.NewStreamForm(request.POST)
    if not form.is_valid():
        return _notice(request, {"problems": _form_problems(form), "refused": True})
    stream = form.cleaned_data["name"].strip()
    if stream in state.config.streams:
        problem = Problem(("streams", stream), None, ERROR, "a stream with this name exists")
        return _notice(request, {"problems": [problem], "refused": True})
    own = {"object": form.cleaned_data["object"]} if form.cleaned_data["object"] else None
    config = replace(state.config, streams={**state.config.streams, stream: own})
    refused = _commit(request, state, config, f"added {stream}")
    if refused:
        return refused
    state = Editor.load(_replication(name))
    response = _stream_panel(request, state, stream, saved=True)
    return trigger_client_event(response, CHANGED)


@require_POST
@login_required
@role_required("edit")
def streams_bulk(request: HttpRequest, name: str) -> HttpResponse:
    state = Editor.load(_replication(name))
    form = forms.BulkForm(request.POST, stream_ids=list(state.ids.values()))
    if not form.is_valid():
        return _notice(request, {"problems": _form_problems(form), "refused": True})
    chosen = {pk for pk in form.cleaned_data["streams"]}
    names = [n for n, pk in state.ids.items() if pk in chosen]
    action = form.cleaned_data["action"]
    streams = services.streams_bulk_edit(
        state.config.streams,
        names,
        action,
        key=form.cleaned_data.get("key"),
        value=form.cleaned_data.get("value"),
    )
    refused = _commit(
        request, state, replace(state.config, streams=streams), f"{action} {len(names)} stream(s)"
    )
    if refused:
        return refused
    state = Editor.load(_replication(name))
    response = render(request, f"{EDITOR}#streams", _editor_context(request, state, saved=True))
    return trigger_client_event(response, CHANGED)


def _stream_name_or_404(state: Editor, pk: int) -> str:
    for stream, stream_pk in state.ids.items():
        if stream_pk == pk:
            return stream
    raise Http404("no such stream in this replication")


def _form_problems(form: Any) -> list[Problem]:
    return [
        Problem((field,) if field != "__all__" else (), None, ERROR, str(error))
        for field, errors in form.errors.items()
        for error in errors
    ]


def _stream_panel(
    request: HttpRequest, state: Editor, stream: str, form: Any = None, **extra: Any
) -> HttpResponse:
    if form is None:
        form = forms.StreamForm(config=state.config.streams[stream], name=stream)
    form.set_inherited(state.config.defaults)
    config = form.apply() if form.is_bound and form.is_valid() else state.config.streams[stream]
    context = {
        "editor": state,
        "replication": state.replication,
        "stream": {"name": stream, "pk": state.ids[stream]},
        "stream_runs": stream_runs(state.replication.name, stream),
        "form": form,
        **state.preview(stream, form.cleaned_data.get("name", stream) if form.is_bound else stream, config),
        **extra,
    }
    template = "studio/_stream_panel.html" if request.htmx else "studio/stream.html"
    return render(request, template, context, status=422 if form.is_bound and form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
@role_required("edit", methods=("POST",))
def stream_edit(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    state = Editor.load(_replication(name))
    stream = _stream_name_or_404(state, pk)
    if request.method == "GET":
        return _stream_panel(request, state, stream)
    form = forms.StreamForm(request.POST, config=state.config.streams[stream], name=stream)
    if not form.is_valid():
        return _stream_panel(request, state, stream, form)
    new_name = form.cleaned_data["name"].strip()
    if new_name != stream and new_name in state.config.streams:
        form.add_error("name", "another stream has this name")
        return _stream_panel(request, state, stream, form)
    config = form.apply()
    streams = with_stream(state.config.streams, stream, new_name, config)
    refused = _commit(request, state, replace(state.config, streams=streams), f"edited {new_name}")
    if refused:
        return refused
    state = Editor.load(_replication(name))
    response = _stream_panel(request, state, new_name, saved=True)
    return trigger_client_event(response, CHANGED)


@require_POST
@login_required
def stream_check(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    state = Editor.load(_replication(name))
    stream = _stream_name_or_404(state, pk)
    form = forms.StreamForm(request.POST, config=state.config.streams[stream], name=stream)
    if form.is_valid():
        context = state.preview(stream, form.cleaned_data["name"].strip(), form.apply())
    else:
        context = {"preview_problems": _form_problems(form), "form_invalid": True}
    return render(request, "studio/_stream_panel.html#preview", context)


@require_GET
@login_required
def yaml_download(request: HttpRequest, name: str) -> HttpResponse:
    text = services.replication_export(name=_replication(name).name)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
    return response


@require_GET
@login_required
def yaml_preview(request: HttpRequest, name: str) -> HttpResponse:
    text = services.replication_export(name=_replication(name).name)
    return render(request, "studio/_yaml_preview.html", {"yaml": text})


@require_http_methods(["GET", "POST"])
@login_required
@role_required("edit")
def import_yaml(request: HttpRequest, name: str) -> HttpResponse:
    replication = _replication(name)
    context: dict[str, Any] = {"replication": replication, "form": forms.ImportForm()}
    try:
        data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    except RequestDataTooBig:
        problem = Problem((), None, ERROR, f"the document is larger than {MAX_BYTES // 2**20} MB")
        return render(request, "studio/import.html", {**context, "problems": [problem]}, status=413)
    form = context["form"] = forms.ImportForm(data, files)
    if not form.is_valid():
        return render(request, "studio/import.html", context, status=422 if form.is_bound else 200)
    text = form.cleaned_data["text"]
    try:
        config, problems, diff = services.replication_import_preview(replication=replication, text=text)
    except services.Refused as exc:
        return render(request, "studio/import.html", {**context, "problems": exc.problems}, status=422)
    if request.POST.get("confirm") == "yes":
        refused = _commit(request, Editor.load(replication), config, "imported YAML")
        if refused:
            return refused
        messages.success(request, f"Replaced `{name}` with the imported YAML.")
        return redirect("editor", name)
    text = text if isinstance(text, str) else text.decode("utf-8", "replace")
    context.update(problems=problems, diff=diff, confirm=True, text=text)
    return render(request, "studio/import.html", context)


@require_GET
@login_required
def history(request: HttpRequest, name: str) -> HttpResponse:
    replication = _replication(name)
    revisions = replication.revisions.select_related("author").defer("document")
    context: dict[str, Any] = {"replication": replication, "revisions": revisions}
    a, b = _int(request.GET.get("a")), _int(request.GET.get("b"))
    if a is not None and b is not None:
        context.update(compare=True, a=a, b=b, diff=services.revision_diff(replication, a, b))
    return render(request, "studio/history.html", context)


@require_POST
@login_required
@role_required("edit")
def revision_restore(request: HttpRequest, name: str, version: int) -> HttpResponse:
    replication = _replication(name)
    revision = get_object_or_404(models.Revision, replication=replication, version=version)
    state = Editor.load(replication)
    refused = _commit(request, state, revision.config, f"restored version {version}")
    if refused:
        return refused
    messages.success(request, f"Restored version {version} as a new version.")
    return redirect("editor", name)
