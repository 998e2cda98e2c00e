"""Saving an edit from a page: the version the form edits, what the editor saw then, and why an
edit was not saved (refused: its problems; or someone saved in between: their change, 409)."""

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
from studio.errors import Conflict, Refused
from studio.selectors.editing import Editor
from studio.selectors.replications import with_keys_stamp
from studio.services.replications import Saved
from studio.services.versions import VERSION_MISSING

# Sent after every save of the editor: the parts of it that show the replication fetch
# themselves again. A save whose answer carried every part it changed sends SHOWN instead (the
# page's CSP allows no event filter, `replicationChanged[...]`, so they are two events).
CHANGED = "replicationChanged"
SHOWN = "replicationShown"


def with_editor(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give the view the editor of the replication named in the URL (404 when there is none),
    and answer an edit it could not save in the editor's notices (`notice`): `Refused` with its
    problems (422), `Conflict` with the other person's change (409)."""

    @wraps(view)
    def wrapped(request: HttpRequest, name: str, *args: Any, **kwargs: Any) -> HttpResponse:
        editor = Editor.load(get_object_or_404(with_keys_stamp(models.Replication.objects), name=name))
        try:
            return view(request, editor, *args, **kwargs)
        except Refused as exc:
            return notice(
                request, {"problems": exc.problems, "refused": True, "replication": editor.replication}
            )
        except Conflict as exc:
            reload_url = reverse("editor", args=[editor.replication.name])
            return conflict(request, None, {"replication": editor.replication}, exc, reload_url)

    return wrapped


def editor_of(saved: Saved) -> Editor:
    """The editor of the version a save made, from what the save kept (nothing read again)."""
    return Editor.load(saved.replication, stored=saved.streams, context=saved.context, checked=saved.problems)


def changed(response: HttpResponse) -> HttpResponse:
    """Say a save changed the replication: the page fetches the parts that show it again
    (unless the answer said it shows them already, `shown_in_place`)."""
    if "HX-Trigger" not in response:
        trigger_client_event(response, CHANGED)
    return response


def shown_in_place(response: HttpResponse) -> HttpResponse:
    """Say the save's answer carries every part of the page it changed (out of band): the
    page learns of the save without fetching the streams table and the problems again."""
    return trigger_client_event(response, SHOWN)


def posted_version(request: HttpRequest) -> int:
    """The version the posted form edits: every save names it, so nothing is overwritten
    unseen; `Refused` when it does not."""
    version = small_int(request.POST.get("version"))
    if version is None:
        raise Refused.field("version", VERSION_MISSING)
    return version


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


def refusal_into(form: Any, exc: Refused | Conflict) -> None:
    """Why a form's save was refused, on the form: each problem at its field (else above the
    fields), or the other person's change above them."""
    if isinstance(exc, Conflict):
        form.add_error(None, f"{exc}; it now reads: {exc.diff}. Reload to edit their version.")
        return
    for problem in exc.problems:
        field = problem.path[0] if problem.path and problem.path[0] in form.fields else None
        form.add_error(field, problem.message)


def conflict(
    request: HttpRequest, template: str | None, context: dict[str, Any], exc: Conflict, reload_url: str
) -> HttpResponse:
    """409: the page of the edit (`template`; None: the editor's notices) with the other person's
    change and a link to reload the current version."""
    context = {**context, "conflict": exc, "reload_url": reload_url}
    if template is None:
        return notice(request, context, status=409)
    return render(request, template, context, status=409)


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
