"""Connections: list, edit (secrets write-only), delete, and test and discover through sling."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from replication import sling
from replication.problems import Problem
from studio import models
from studio.errors import Conflict, Refused
from studio.forms.connections import ConnectionForm
from studio.roles import role_required
from studio.selectors.connections import add_streams_choices, connection_list
from studio.selectors.replications import replications_using
from studio.services import connections as service
from studio.services.replications import replication_create, streams_add
from studio.views.saving import base_state, conflict, edit_base, posted_version, refusal_into


def _connection(name: str) -> models.Connection:
    return get_object_or_404(models.Connection, name=name)


@require_GET
def connection_list_page(request: HttpRequest) -> HttpResponse:
    return render(request, "studio/connections.html", {"connections": connection_list()})


@require_http_methods(["GET", "POST"])
@role_required("edit")
def connection_edit(request: HttpRequest, name: str | None = None) -> HttpResponse:
    connection = _connection(name) if name else None
    conn_type = (
        request.POST.get("type") or request.GET.get("type") or (connection.type if connection else "postgres")
    )
    refresh = request.POST.get("refresh") == "1"
    data = request.POST if request.method == "POST" and not refresh else None
    # A change of type shows that type's fields with what was typed, and no errors yet.
    form = ConnectionForm(
        data, connection=connection, conn_type=conn_type, typed=request.POST if refresh else None
    )
    version, base = edit_base(request, connection)
    context = {
        "form": form,
        "connection": connection,
        "version": version,
        "base": base,
    }
    status = 422 if request.method == "POST" and not refresh else 200
    if request.method == "POST" and not refresh and form.is_valid():
        try:
            saved = service.connection_edit(
                instance=connection,
                name=form.cleaned_data["name"],
                fields=form.sling_fields(),
                base_version=posted_version(request) if connection is not None else None,
                base=base_state(base),
                max_streams=form.cleaned_data.get("max_streams"),
            )
        except Refused as exc:
            refusal_into(form, exc)
        except ValueError as exc:
            form.add_error(None, str(exc))
        except Conflict as exc:
            reload_url = reverse("connection-edit", args=[exc.name])
            return conflict(request, "studio/connection_form.html", context, exc, reload_url)
        else:
            messages.success(request, f"Saved connection {saved.name}.")
            return redirect("connections")
    if request.htmx and refresh:
        return render(request, "studio/connection_form.html#fields", context)
    return render(request, "studio/connection_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required("edit")
def connection_delete(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(name)
    if request.method == "POST":
        service.connection_delete(connection=connection)
        messages.success(request, f"Deleted connection {name}.")
        return redirect("connections")
    context = {"connection": connection, "replications": replications_using(connection.name)}
    return render(request, "studio/connection_delete.html", context)


@require_POST
@role_required("edit")
def connection_test(request: HttpRequest, name: str | None = None) -> HttpResponse:
    """Test a connection as saved (the list's Test), or as its form has it, unsaved (the form's
    Test posts its fields: a new connection, or an edit keeping the secrets left empty)."""
    connection = _connection(name) if name else None
    if connection is not None and "type" not in request.POST:
        ok, message = service.connection_test(connection)
    else:
        ok, message = _test_form(request, connection)
    return render(request, "studio/connections.html#test-result", {"ok": ok, "message": message})


def _test_form(request: HttpRequest, connection: models.Connection | None) -> tuple[bool, str]:
    data = request.POST.copy()
    # A name is not needed to test; sling gets the connection under this one until it has its own.
    if not data.get("name", "").strip():
        data["name"] = connection.name if connection else "NEW_CONNECTION"
    form = ConnectionForm(data, connection=connection, conn_type=data.get("type") or "postgres")
    if not form.is_valid():
        return False, " ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
    return service.connection_try(
        name=form.cleaned_data["name"], fields=form.sling_fields(), instance=connection
    )


@require_POST
@role_required("edit")
def connection_discover(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(name)
    pattern = request.POST.get("pattern", "").strip()
    try:
        streams = service.connection_discover(connection, pattern=pattern)
        problems: list[Problem] = []
    except sling.RunError as exc:
        streams, problems = [], [Problem((), None, "error", str(exc))]
    context = {
        "connection": connection,
        "streams": streams,
        "problems": problems,
        "pattern": pattern,
        **add_streams_choices(connection),
    }
    return render(request, "studio/connections.html#discovered", context)


@require_POST
@role_required("edit")
def connection_add_streams(request: HttpRequest, name: str) -> HttpResponse:
    """Add the ticked streams to a replication reading from the connection, or to a new one
    (`new` names it); the object template given is its `defaults.object` where it has none."""
    connection = _connection(name)
    chosen = [s for s in request.POST.getlist("streams") if s.strip()]
    template = request.POST.get("object", "").strip()
    new = request.POST.get("new", "").strip()
    try:
        if new:
            replication = replication_create(
                name=new,
                source=connection.name,
                target=request.POST.get("target", "").strip(),
                user=request.user,
                defaults={"object": template} if template else None,
                streams=chosen,
            )
        else:
            replication = get_object_or_404(models.Replication, name=request.POST.get("replication", ""))
            streams_add(
                replication=replication,
                names=chosen,
                user=request.user,
                connection=connection,
                default_object=template,
            )
    except Refused as exc:
        context = {"problems": exc.problems, "title": "Streams not added", "back": connection}
        return render(request, "studio/refused.html", context, status=422)
    messages.success(request, f"Added {len(chosen)} stream(s) from {connection.name} to {replication.name}.")
    return redirect("editor", replication.name)
