"""Connections: list, create, read, change, delete, and `sling conns test` / `discover`.
Secrets are write-only: an answer names which secret fields are stored, never their values
(not even masked); a change that leaves one out keeps it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Schema, Status
from pydantic import Field

from replication import sling
from replication.parallel import MAX_STREAMS, default_limit
from replication.yamlio import dump
from studio import models
from studio.api.api import api
from studio.api.auth import EDIT
from studio.api.http import edited_version, with_etag
from studio.api.schemas import CHANGE_ERRORS, READ_ERRORS, VERSIONED_ERRORS
from studio.errors import Refused
from studio.forms.connections import ConnectionForm
from studio.selectors.connections import connection_list
from studio.services import connections as service
from studio.views.saving import form_problems

TAGS = ["connections"]


class ConnectionOut(Schema):
    name: str
    type: str
    version: int = Field(description="also the ETag: send it back in If-Match to change it")
    fields: dict[str, Any] = Field(description="the public fields (a URL without its password)")
    secret_fields: list[str] = Field(description="the secret fields stored: named, never shown")
    max_streams: int | None = Field(
        description="sling processes that may use it at once; null: its type's default"
    )
    streams_at_once: int | None = Field(
        description="the limit that holds: max_streams or the type's default (null: none)"
    )
    updated: Any


class ConnectionIn(Schema):
    name: str = Field(max_length=200, description="letters, digits and _ (stored upper-case)")
    type: str = Field(description="a Sling connection type: postgres, sqlite, file, s3, ...")
    url: str = Field("", max_length=4000, description="a connection URL, instead of fields")
    fields: dict[str, Any] = Field(default={}, description="host, user, password, ... as Sling names them")
    max_streams: int | None = Field(
        None,
        ge=1,
        le=MAX_STREAMS,
        description="sling processes that may use it at once, across all workers; null: its type's default",
    )


class ConnectionChange(ConnectionIn):
    version: int | None = Field(None, ge=0, description='the version read (or send If-Match: "N")')


class Tested(Schema):
    ok: bool
    message: str = Field(description="what sling said: works, or could not connect (never a secret)")


class DiscoverIn(Schema):
    pattern: str = Field("", max_length=2000, description="e.g. public.* or data/*.csv")


class Discovered(Schema):
    streams: list[str]
    error: str | None = None


def _out(connection: models.Connection) -> dict[str, Any]:
    return {
        "name": connection.name,
        "type": connection.type,
        "version": connection.version,
        "fields": connection.params,
        # `url:password` is the password of `url`: the field is named, as the others.
        "secret_fields": sorted({name.split(":")[0] for name in connection.secrets}),
        "max_streams": connection.max_streams,
        "streams_at_once": connection.max_streams or default_limit(connection.type),
        "updated": connection.updated,
    }


def _fields(body: ConnectionIn, connection: models.Connection | None = None) -> dict[str, Any]:
    """The connection's fields as Sling names them, read by the connection form as the page's
    are (its checks of the URL, the port and the field names)."""
    boxes = ConnectionForm(connection=connection, conn_type=body.type).fields
    data: dict[str, Any] = {"name": body.name, "type": body.type, "url": body.url}
    others = {}
    for key, value in body.fields.items():
        if (
            key in boxes
            and key not in ("name", "type", "url", "other")
            and not isinstance(value, dict | list)
        ):
            data[key] = "" if value is None else str(value)
        else:
            others[key] = value
    data["other"] = dump(others) if others else ""
    form = ConnectionForm(data, connection=connection, conn_type=body.type)
    if not form.is_valid():
        raise Refused(form_problems(form))
    return form.sling_fields()


def _connection(name: str) -> models.Connection:
    return get_object_or_404(models.Connection, name=name.upper())


@api.get("/connections/", response={200: list[ConnectionOut], **READ_ERRORS}, tags=TAGS)
def connections(request: HttpRequest) -> Any:
    return [_out(c) for c in connection_list()]


@api.post("/connections/", response={201: ConnectionOut, **CHANGE_ERRORS}, tags=TAGS, auth=EDIT)
def connection_create(request: HttpRequest, body: ConnectionIn, response: HttpResponse) -> Any:
    """A new connection; secret fields are stored apart, encrypted, and never given back."""
    try:
        saved = service.connection_edit(
            instance=None, name=body.name, fields=_fields(body), max_streams=body.max_streams
        )
    except ValueError as exc:
        if isinstance(exc, Refused):
            raise
        raise Refused.field("type", str(exc)) from None
    with_etag(response, saved.version)
    return Status(201, _out(saved))


@api.post("/connections/test/", response={200: Tested, **CHANGE_ERRORS}, tags=TAGS, auth=EDIT)
def connection_try(request: HttpRequest, body: ConnectionIn) -> Any:
    """`sling conns test` of a connection as given, unsaved."""
    ok, message = service.connection_try(name=body.name, fields=_fields(body))
    return {"ok": ok, "message": message}


@api.get("/connections/{name}/", response={200: ConnectionOut, **READ_ERRORS}, tags=TAGS)
def connection_read(request: HttpRequest, name: str, response: HttpResponse) -> Any:
    connection = _connection(name)
    with_etag(response, connection.version)
    return _out(connection)


@api.put("/connections/{name}/", response={200: ConnectionOut, **VERSIONED_ERRORS}, tags=TAGS, auth=EDIT)
def connection_change(request: HttpRequest, name: str, body: ConnectionChange, response: HttpResponse) -> Any:
    """Change a connection (and its name): its public fields as given; a secret field left out
    keeps its stored value."""
    connection = _connection(name)
    version = edited_version(request, body.version)
    try:
        saved = service.connection_edit(
            instance=connection,
            name=body.name,
            fields=_fields(body, connection),
            base_version=version,
            max_streams=body.max_streams,
        )
    except ValueError as exc:
        if isinstance(exc, Refused):
            raise
        raise Refused.field("type", str(exc)) from None
    with_etag(response, saved.version)
    return _out(saved)


@api.delete("/connections/{name}/", response={204: None, **VERSIONED_ERRORS}, tags=TAGS, auth=EDIT)
def connection_delete(request: HttpRequest, name: str, version: int | None = Query(None, ge=0)) -> Any:
    """Delete a connection (the replications naming it stay, and say it is unknown)."""
    service.connection_delete(connection=_connection(name), base_version=edited_version(request, version))
    return Status(204, None)


@api.post("/connections/{name}/test/", response={200: Tested, **CHANGE_ERRORS}, tags=TAGS, auth=EDIT)
def connection_test(request: HttpRequest, name: str) -> Any:
    """`sling conns test` of the stored connection."""
    ok, message = service.connection_test(_connection(name))
    return {"ok": ok, "message": message}


@api.post("/connections/{name}/discover/", response={200: Discovered, **CHANGE_ERRORS}, tags=TAGS, auth=EDIT)
def connection_discover(request: HttpRequest, name: str, body: DiscoverIn) -> Any:
    """`sling conns discover`: the tables or files the connection has (files inside the fence)."""
    try:
        return {"streams": service.connection_discover(_connection(name), pattern=body.pattern.strip())}
    except sling.RunError as exc:
        return {"streams": [], "error": str(exc)}
