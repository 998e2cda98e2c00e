"""Replications: the list, creating, duplicating and deleting one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from replication.problems import Problem
from studio import models
from studio.errors import Refused
from studio.forms.replications import ReplicationForm
from studio.forms.yaml import NewFromYamlForm
from studio.roles import role_required
from studio.selectors.connections import connection_names
from studio.selectors.replications import replications_list
from studio.services import replications as service


def _replication(name: str) -> models.Replication:
    return get_object_or_404(models.Replication, name=name)


@require_GET
def replication_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    context = {
        "replications": replications_list(q),
        "q": q,
        "form": ReplicationForm(),
        "connections": connection_names(),
    }
    template = "studio/replications.html#table" if request.htmx else "studio/replications.html"
    return render(request, template, context)


@require_POST
@role_required("edit")
def replication_create(request: HttpRequest) -> HttpResponse:
    form = ReplicationForm(request.POST)
    if form.is_valid():
        try:
            created = service.replication_create(**form.cleaned_data, user=request.user)
        except Refused as exc:
            for problem in exc.problems:
                form.add_error("name", problem.message)
        else:
            return redirect("editor", created.name)
    context = {"replications": replications_list(), "q": "", "form": form, "connections": connection_names()}
    return render(request, "studio/replications.html", context, status=422)


@require_http_methods(["GET", "POST"])
@role_required("edit")
def replication_import_new(request: HttpRequest) -> HttpResponse:
    """A new replication from a replication.yaml pasted or uploaded, in one step (nothing is
    replaced, so there is nothing to confirm); refused with the document's problems, kept."""
    form = NewFromYamlForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
    if form.is_valid():
        try:
            created, warnings = service.replication_import(
                name=form.cleaned_data["name"], text=form.cleaned_data["text"], user=request.user, new=True
            )
        except Refused as exc:
            # The name's refusal at its field; the document's problems above, with their lines.
            for problem in exc.problems:
                if problem.path == ("name",) and problem.line is None:
                    form.add_error("name", problem.message)
                else:
                    problems.append(problem)
        else:
            said = f", {len(warnings)} warning(s) to look at" if warnings else ""
            messages.success(
                request, f"Imported `{created.name}`: {created.streams.count()} stream(s){said}."
            )
            return redirect("editor", created.name)
    status = 422 if form.is_bound else 200
    return render(
        request, "studio/replication_import_new.html", {"form": form, "problems": problems}, status=status
    )


@require_POST
@role_required("edit")
def replication_duplicate(request: HttpRequest, name: str) -> HttpResponse:
    copy = service.replication_duplicate(replication=_replication(name), user=request.user)
    messages.success(request, f"Duplicated `{name}` as `{copy.name}`.")
    return redirect("editor", copy.name)


@require_http_methods(["GET", "POST"])
@role_required("edit")
def replication_delete(request: HttpRequest, name: str) -> HttpResponse:
    replication = _replication(name)
    if request.method == "POST":
        service.replication_delete(replication=replication)
        messages.success(request, f"Deleted `{name}`.")
        return redirect("replications")
    return render(request, "studio/replication_delete.html", {"replication": replication})
