"""Saving an edit of a replication from the editor, then refreshing the parts of the page it
changed; and saying why when it was not saved (refused, or someone saved in between)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django_htmx.http import reswap, retarget, trigger_client_event

from replication.problems import ERROR, Problem
from studio import models
from studio.editor import Editor
from studio.errors import Conflict, Refused
from studio.selectors.replications import with_keys_stamp

# Sent after every save: the parts of the editor that show the replication fetch themselves
# again. A save whose answer carried every part it changed sends SHOWN instead (the page's CSP
# allows no event filter, `replicationChanged[...]`, so they are two events).
CHANGED = "replicationChanged"
SHOWN = "replicationShown"


def with_editor(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give the view the editor of the replication named in the URL (404 when there is none)."""

    @wraps(view)
    def wrapped(request: HttpRequest, name: str, *args: Any, **kwargs: Any) -> HttpResponse:
        editor = Editor.load(get_object_or_404(with_keys_stamp(models.Replication.objects), name=name))
        return view(request, editor, *args, **kwargs)

    return wrapped


# What an editor saw when their form was made, carried by the form to show what changed since.
_BASE_SALT = "studio.edit-base"


def base_token(state: dict[str, Any]) -> str:
    """A form's hidden `base`: the state it was made from, signed (it is only ever shown back)."""
    return signing.dumps(state, salt=_BASE_SALT, compress=True)


def edit_base(request: HttpRequest, instance: Any) -> tuple[int | None, str]:
    """The version and `base` token an edit form carries: those it was made with when it is
    posted again (a refused save keeps naming the version it edits), else the row's now."""
    if request.method == "POST" and request.POST.get("refresh") != "1":
        return small_int(request.POST.get("version")), request.POST.get("base", "")
    return (instance.version, base_token(instance.state())) if instance is not None else (None, "")


def base_state(token: str) -> dict[str, Any] | None:
    try:
        state = signing.loads(token, salt=_BASE_SALT)
    except signing.BadSignature:
        return None
    return state if isinstance(state, dict) else None


def small_int(text: str | None) -> int | None:
    """A small non-negative integer from a request parameter, or None."""
    if text is None or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def save_and_refresh(
    request: HttpRequest,
    editor: Editor,
    save: Callable[..., Any],
    refresh: Callable[[Editor], HttpResponse],
    refused: Callable[[Refused], HttpResponse] | None = None,
) -> HttpResponse:
    """Call `save(user=..., base_version=...)`, a service that commits an edit of the version
    the form was loaded with, then answer with `refresh(editor reloaded)`; a refusal or a
    conflict is answered in place instead (by `refused`, when given, for a refusal) and
    nothing is saved.

    Every save names the version it edits, so nothing is overwritten unseen."""
    base_version = small_int(request.POST.get("version"))
    if base_version is None:
        problem = Problem(("version",), None, ERROR, "the edited version is missing: reload the page")
        return notice(request, {"problems": [problem], "refused": True, "replication": editor.replication})
    try:
        saved = save(user=request.user, base_version=base_version)
    except Refused as exc:
        if refused is not None:
            return refused(exc)
        return notice(request, {"problems": exc.problems, "refused": True, "replication": editor.replication})
    except Conflict as exc:
        reload_url = reverse("editor", args=[editor.replication.name])
        context = {"conflict": exc, "replication": editor.replication, "reload_url": reload_url}
        return notice(request, context, status=409)
    response = refresh(Editor.load(saved))
    if "HX-Trigger" not in response:  # else the refresh said what it showed (shown_in_place)
        trigger_client_event(response, CHANGED)
    return response


def shown_in_place(response: HttpResponse) -> HttpResponse:
    """Say the save's answer carries every part of the page it changed (out of band): the
    page learns of the save without fetching the streams table and the problems again."""
    return trigger_client_event(response, SHOWN)


def notice(request: HttpRequest, context: dict[str, Any], status: int = 422) -> HttpResponse:
    """Why an edit was not saved: into the page's #notices for htmx, else a page of its own."""
    if not request.htmx:
        return render(request, "studio/refused.html", context, status=status)
    template = "studio/_conflict.html" if "conflict" in context else "studio/_problems.html"
    response = render(request, template, context, status=status)
    return reswap(retarget(response, "#notices"), "innerHTML")


def form_problems(form: Any) -> list[Problem]:
    """A form's errors as problems, to show as the editor shows any other."""
    return [
        Problem((field,) if field != "__all__" else (), None, ERROR, str(error))
        for field, errors in form.errors.items()
        for error in errors
    ]
