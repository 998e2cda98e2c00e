"""Connections: list, edit (secrets write-only), test and discover through sling."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from replication.connections import FIELDS, is_secret, keep_url_secrets
from replication.validate import Problem
from replication.yamlio import dump
from studio import forms, models, services
from studio.roles import role_required


def _connection(name: str) -> models.Connection:
    return get_object_or_404(models.Connection, name=name)


@require_GET
@login_required
def connection_list(request: HttpRequest) -> HttpResponse:
    connections = models.Connection.objects.all()
    return render(request, "studio/connections.html", {"connections": connections})


def connection_form(data: Any, connection: models.Connection | None, conn_type: str) -> forms.ConnectionForm:
    """The form with the fields usual for `conn_type`; secret fields never show their value."""
    initial: dict[str, Any] = {"type": conn_type}
    params = connection.params if connection else {}
    secrets = connection.secrets if connection else {}
    if connection:
        initial.update(name=connection.name, url=params.get("url", ""))
    form = forms.ConnectionForm(data, initial=initial)
    for field in FIELDS.get(conn_type, []):
        if field == "url":
            continue
        if is_secret(field):
            widget = django_forms.PasswordInput(
                render_value=False,
                attrs={
                    "placeholder": "•••••• (unchanged)" if field in secrets else "",
                    "autocomplete": "off",
                },
            )
            form.fields[field] = django_forms.CharField(required=False, widget=widget, max_length=20_000)
        else:
            form.fields[field] = django_forms.CharField(
                required=False, max_length=4000, initial=params.get(field, "")
            )
    shown_others = {k: v for k, v in params.items() if k not in FIELDS.get(conn_type, []) and k != "url"}
    form.fields["other"] = forms.YamlField(
        kind="map",
        label="Other fields",
        initial=dump(shown_others).rstrip("\n") if shown_others else "",
        help_text="any further field, as YAML (`key: value`); secret ones are stored apart",
    )
    form.secret_names = [n for n in secrets if not n.startswith("url:")]
    return form


def _fields(form: forms.ConnectionForm, connection: models.Connection | None) -> dict[str, Any]:
    """Sling fields from the form. Secrets are never shown, so a secret the form
    does not send again (an empty password box, a URL without its password) keeps
    its stored value."""
    data = form.cleaned_data
    fields: dict[str, Any] = dict(data.get("other") or {})
    for name in FIELDS.get(data["type"], []):
        if data.get(name):
            fields[name] = data[name]
    stored = connection.secrets if connection else {}
    for name, value in stored.items():
        if not name.startswith("url:"):
            fields.setdefault(name, value)
    if data.get("url"):
        url_secrets = {k.removeprefix("url:"): v for k, v in stored.items() if k.startswith("url:")}
        fields["url"] = keep_url_secrets(data["url"], url_secrets)
    return fields


@require_http_methods(["GET", "POST"])
@login_required
@role_required("edit")
def connection_edit(request: HttpRequest, name: str | None = None) -> HttpResponse:
    connection = _connection(name) if name else None
    conn_type = (
        request.POST.get("type") or request.GET.get("type") or (connection.type if connection else "postgres")
    )
    form = connection_form(request.POST if request.method == "POST" else None, connection, conn_type)
    if request.method == "POST" and request.POST.get("refresh") != "1" and form.is_valid():
        new_name = form.cleaned_data["name"].upper()
        if (
            new_name != (connection.name if connection else None)
            and models.Connection.objects.filter(name=new_name).exists()
        ):
            form.add_error("name", f"a connection named {new_name} exists")
        else:
            try:
                saved = services.connection_save(
                    name=new_name,
                    fields={"type": conn_type, **_fields(form, connection)},
                    instance=connection,
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved connection {saved.name}.")
                return redirect("connections")
    context = {"form": form, "connection": connection, "conn_type": conn_type}
    if request.htmx and request.POST.get("refresh") == "1":
        return render(request, "studio/connection_form.html#fields", context)
    status = 422 if request.method == "POST" and request.POST.get("refresh") != "1" else 200
    return render(request, "studio/connection_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@role_required("edit")
def connection_delete(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(name)
    if request.method == "POST":
        connection.delete()
        messages.success(request, f"Deleted connection {name}.")
        return redirect("connections")
    return render(request, "studio/connection_delete.html", {"connection": connection})


@require_POST
@login_required
@role_required("edit")
def connection_test(request: HttpRequest, name: str) -> HttpResponse:
    ok, message = services.connection_test(_connection(name))
    return render(request, "studio/connections.html#test-result", {"ok": ok, "message": message})


@require_POST
@login_required
@role_required("edit")
def connection_discover(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(name)
    pattern = request.POST.get("pattern", "").strip()
    try:
        streams = services.connection_discover(connection, pattern=pattern)
        problems: list[Problem] = []
    except services.SlingFailed as exc:
        streams, problems = [], [Problem((), None, "error", str(exc))]
    context = {
        "connection": connection,
        "streams": streams,
        "problems": problems,
        "pattern": pattern,
        "replications": models.Replication.objects.filter(source=connection.name).values_list(
            "name", flat=True
        ),
    }
    return render(request, "studio/connections.html#discovered", context)


@require_POST
@login_required
@role_required("edit")
def connection_add_streams(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(name)
    replication = get_object_or_404(models.Replication, name=request.POST.get("replication", ""))
    chosen = [s for s in request.POST.getlist("streams") if s.strip()]
    if replication.source.upper() != connection.name:
        message = f"{replication.name} reads from {replication.source or 'nothing'}, not {connection.name}"
        return render(
            request, "studio/refused.html", {"problems": [Problem((), None, "error", message)]}, status=422
        )
    try:
        services.streams_add(replication=replication, names=chosen, user=request.user)
    except services.Refused as exc:
        return render(
            request, "studio/_problems.html", {"problems": exc.problems, "refused": True}, status=422
        )
    messages.success(request, f"Added {len(chosen)} stream(s) from {connection.name} to {replication.name}.")
    return redirect("editor", replication.name)
