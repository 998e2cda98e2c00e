"""Streams of a replication: the list (filtered, paged), one with its effective config,
resolved object and asset key, changing its keys, and bulk edits as the editor makes them."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Schema
from pydantic import Field

from studio import models
from studio.api.api import api
from studio.api.auth import EDIT
from studio.api.http import PER_PAGE, edited_version, paged, with_etag
from studio.api.problems import errors_of
from studio.api.schemas import READ_ERRORS, VERSIONED_ERRORS, ProblemError
from studio.errors import NotFound, Refused
from studio.forms.editor import BulkForm
from studio.selectors.editing import Editor
from studio.selectors.replications import with_keys_stamp
from studio.services import replications as service
from studio.views.saving import form_problems

TAGS = ["streams"]


class StreamRow(Schema):
    id: int
    name: str
    config: Any = Field(description="the stream's own keys")
    object: str | None = Field(description="the target object, resolved")
    disabled: bool
    problems: int


class StreamPage(Schema):
    version: int
    count: int
    page: int
    pages: int
    items: list[StreamRow]


class StreamOut(Schema):
    id: int
    name: str
    version: int = Field(description="the replication's version (also the ETag)")
    config: Any = Field(description="the stream's own keys (null: `name:` alone)")
    effective: dict[str, Any] = Field(
        description="its keys with the defaults merged in, as sling merges them"
    )
    object: str | None = Field(description="the target object, runtime variables resolved")
    asset_key: str = Field(description="the Dagster asset key, as dagster-sling gives it")
    wildcard: str | None = Field(description="expands (a stream per match), single, or null")
    yaml: str = Field(description="the stream as YAML")
    problems: list[ProblemError]


class StreamChange(Schema):
    version: int | None = Field(None, ge=0, description='the replication\'s version read (or If-Match: "N")')
    name: str | None = Field(None, min_length=1, max_length=2000, description="a new name")
    keys: dict[str, Any] = Field(default={}, description="keys to set; a key set to null is removed")


class BulkChange(Schema):
    version: int | None = Field(None, ge=0, description='the replication\'s version read (or If-Match: "N")')
    action: str = Field(description="enable, disable, duplicate, delete or set")
    streams: list[str] = Field(default=[], description="the streams' names")
    matching: str | None = Field(
        None, description="instead of `streams`: every stream whose name or object has this"
    )
    key: str | None = Field(None, description="set: the key")
    value: Any = Field(None, description="set: its value; null removes the key")


class BulkDone(Schema):
    version: int
    detail: str
    streams: int


def _editor(name: str) -> Editor:
    return Editor.load(get_object_or_404(with_keys_stamp(models.Replication.objects), name=name))


def _stream(editor: Editor, pk: int) -> str:
    name = editor.stream_name(pk)
    if name is None:
        raise NotFound(f"`{editor.replication.name}` has no stream #{pk}")
    return name


def _out(editor: Editor, name: str) -> dict[str, Any]:
    config = editor.config.streams[name]
    preview = editor.preview(name, name, config)
    return {
        "id": editor.ids[name],
        "name": name,
        "version": editor.replication.version,
        "config": config,
        "effective": editor.effective(config),
        "object": preview["preview_object"],
        "asset_key": preview["preview_key"],
        "wildcard": preview["preview_wildcard"],
        "yaml": preview["preview_yaml"],
        "problems": errors_of(preview["preview_problems"]),
    }


@api.get("/replications/{name}/streams/", response={200: StreamPage, **READ_ERRORS}, tags=TAGS)
def stream_list(
    request: HttpRequest,
    name: str,
    q: str = "",
    page: int = Query(1, ge=1),
    per_page: int = Query(PER_PAGE, ge=1),
) -> Any:
    """The streams in file order; `q` keeps those whose name or own object contains it (any case)."""
    editor = _editor(name)
    found = paged(editor.matching(q), page, per_page)
    rows = editor.rows_of(found["items"])
    found["items"] = [
        {
            "id": r.pk,
            "name": r.name,
            "config": r.config,
            "object": r.object,
            "disabled": r.disabled,
            "problems": len(r.problems),
        }
        for r in rows
    ]
    return {"version": editor.replication.version, **found}


@api.get("/replications/{name}/streams/{int:pk}/", response={200: StreamOut, **READ_ERRORS}, tags=TAGS)
def stream_read(request: HttpRequest, name: str, pk: int, response: HttpResponse) -> Any:
    """One stream as the editor's panel shows it."""
    editor = _editor(name)
    with_etag(response, editor.replication.version)
    return _out(editor, _stream(editor, pk))


@api.patch(
    "/replications/{name}/streams/{int:pk}/",
    response={200: StreamOut, **VERSIONED_ERRORS},
    tags=TAGS,
    auth=EDIT,
)
def stream_change(
    request: HttpRequest, name: str, pk: int, body: StreamChange, response: HttpResponse
) -> Any:
    """Change a stream's keys (and name): a new version of the replication, refused (422) with
    the problems the change would make, as the editor's save."""
    editor = _editor(name)
    stream = _stream(editor, pk)
    version = edited_version(request, body.version)
    old = editor.config.streams[stream]
    own = dict(old or {})
    for key, value in body.keys.items():
        if value is None:
            own.pop(key, None)
        else:
            own[key] = value
    saved = service.stream_update(
        replication=editor.replication,
        config=editor.config,
        old=stream,
        new=body.name or stream,
        own=own if own or old is not None else None,
        user=request.user,
        base_version=version,
    )
    after = Editor.load(
        saved.replication, stored=saved.streams, context=saved.context, checked=saved.problems
    )
    with_etag(response, saved.replication.version)
    return _out(after, body.name or stream)


@api.post(
    "/replications/{name}/streams/bulk/", response={200: BulkDone, **VERSIONED_ERRORS}, tags=TAGS, auth=EDIT
)
def streams_bulk(request: HttpRequest, name: str, body: BulkChange, response: HttpResponse) -> Any:
    """One action on several streams, as the editor's bulk edit: enable, disable, duplicate,
    delete, or set a key (`key`, `value`) on the streams named, or on every stream `matching`."""
    editor = _editor(name)
    version = edited_version(request, body.version)
    unknown = [s for s in body.streams if s not in editor.ids]
    if unknown:
        raise Refused.field("streams", f"`{name}` has no stream named `{unknown[0][:200]}`")
    # The editor's form checks the action, the key and the streams: the API sends what the page would.
    form = BulkForm(
        {
            "action": body.action,
            "streams": [editor.ids[s] for s in body.streams],
            "key": body.key or "",
            "value": "" if body.value is None else json.dumps(body.value),
            "matching": body.matching is not None,
        },
        stream_ids=list(editor.ids.values()),
    )
    if not form.is_valid():
        raise Refused(form_problems(form))
    data = form.cleaned_data
    names = editor.matching(body.matching) if data["matching"] else list(body.streams)
    saved = service.streams_bulk(
        replication=editor.replication,
        config=editor.config,
        names=names,
        action=data["action"],
        key=data.get("key"),
        value=data.get("value"),
        user=request.user,
        base_version=version,
    )
    with_etag(response, saved.replication.version)
    detail = f"{data['action']} {len(names)} stream(s)"
    return {"version": saved.replication.version, "detail": detail, "streams": len(names)}
