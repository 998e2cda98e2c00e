"""Replications: the list, one with its version, create (from YAML, or a source and target),
replace from YAML, delete, validate without storing, the YAML byte for byte, revisions and
their diffs, the problems the editor shows, and the Dagster code location."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from ninja import Query, Schema, Status
from pydantic import Field, model_validator

from replication.dagster.location import zip_bytes
from replication.problems import ERROR, Problem
from studio import models
from studio.api.api import api
from studio.api.auth import EDIT
from studio.api.http import PER_PAGE, edited_version, paged, with_etag
from studio.api.problems import errors_of
from studio.api.schemas import CHANGE_ERRORS, READ_ERRORS, VERSIONED_ERRORS, ProblemError
from studio.errors import NotFound
from studio.selectors.editing import Editor
from studio.selectors.replications import (
    replication_get,
    replication_yaml,
    replications_list,
    revision_diff,
    revisions,
    stored_streams,
    with_keys_stamp,
)
from studio.services import replications as service
from studio.services.dagster import dagster_location

TAGS = ["replications"]


class LastRun(Schema):
    id: int
    status: str


class ReplicationSummary(Schema):
    name: str
    source: str
    target: str
    version: int
    updated: datetime
    streams: int
    last_run: LastRun | None


class ReplicationPage(Schema):
    count: int
    page: int
    pages: int
    items: list[ReplicationSummary]


class StreamSummary(Schema):
    id: int
    name: str
    config: Any = Field(description="the stream's own keys, as stored (null: `name:` alone)")


class ReplicationOut(Schema):
    name: str
    version: int = Field(description="also the ETag: send it back in If-Match to change it")
    source: str
    target: str
    defaults: Any
    env: Any
    hooks: Any
    updated: datetime
    streams: list[StreamSummary] = Field(description="in the file's order")
    warnings: list[ProblemError] = Field(default=[], description="after a change: what its check warned of")


class ReplicationCreate(Schema):
    name: str = Field(max_length=200)
    yaml: str | None = Field(None, description="a replication.yaml, stored as it is written")
    source: str | None = Field(None, max_length=500, description="without `yaml`: an empty replication")
    target: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _one_way(self) -> ReplicationCreate:
        if self.yaml is None and not self.target:
            raise ValueError("send `yaml`, or `source` and `target`")
        return self


class ReplicationReplace(Schema):
    yaml: str = Field(description="the whole replication.yaml, stored as it is written")
    version: int | None = Field(None, ge=0, description='the version read (or send If-Match: "N")')


class Files(Schema):
    files: dict[str, str] = Field(
        description="NAME -> the text of NAME.yaml (a replication folder)", min_length=1, max_length=1000
    )


class ValidateIn(Schema):
    yaml: str | None = Field(None, description="one document")
    files: dict[str, str] | None = Field(None, description="or several: NAME -> text", max_length=1000)

    @model_validator(mode="after")
    def _some(self) -> ValidateIn:
        if self.yaml is None and not self.files:
            raise ValueError("send `yaml`, or `files`")
        return self


class Validated(Schema):
    valid: bool = Field(description="no errors (warnings allowed): an import would store it")
    errors: int
    warnings: int
    problems: list[ProblemError] = Field(description="as the editor shows them, with their lines")


class Imported(Schema):
    name: str
    outcome: str = Field(description="imported, updated or unchanged")
    streams: int
    warnings: list[ProblemError]


class ImportedAll(Schema):
    replications: list[Imported]


class RevisionOut(Schema):
    version: int
    created: datetime
    author: str | None
    summary: str


class DiffOut(Schema):
    a: int
    b: int
    diff: str = Field(description="a unified diff of the two versions' YAML ('' when equal)")


class ProblemsOut(Schema):
    version: int
    problems: list[ProblemError]


def _out(
    request: HttpRequest,
    response: HttpResponse,
    replication: models.Replication,
    warnings: list[Problem] = (),
) -> HttpResponse:
    """The replication as answered (`ReplicationOut`), with its version as the ETag. Rendered
    without validating each stream again (its rows are what the studio stored): ninja's
    validation took half a second for 10,000 streams, the JSON itself 30 ms."""
    stored = stored_streams(replication)
    streams = stored.config.streams
    data = {
        "name": replication.name,
        "version": replication.version,
        "source": replication.source,
        "target": replication.target,
        "defaults": replication.defaults,
        "env": replication.env,
        "hooks": replication.hooks,
        "updated": replication.updated,
        "streams": [{"id": pk, "name": name, "config": streams[name]} for name, pk in stored.ids.items()],
        "warnings": errors_of(warnings),
    }
    with_etag(response, replication.version)
    return api.create_response(request, data, temporal_response=response)


def _summary(replication: models.Replication) -> dict[str, Any]:
    last = replication.last_run_id
    return {
        "name": replication.name,
        "source": replication.source,
        "target": replication.target,
        "version": replication.version,
        "updated": replication.updated,
        "streams": replication.stream_count,
        "last_run": {"id": last, "status": replication.last_run_status} if last else None,
    }


@api.get("/replications/", response={200: ReplicationPage, **READ_ERRORS}, tags=TAGS)
def replication_list(
    request: HttpRequest, q: str = "", page: int = Query(1, ge=1), per_page: int = Query(PER_PAGE, ge=1)
) -> Any:
    """Replications by name, with their stream count and last run; `q` searches names, sources
    and targets."""
    return paged(replications_list(q.strip()), page, per_page, _summary)


@api.post("/replications/", response={201: ReplicationOut, **CHANGE_ERRORS}, tags=TAGS, auth=EDIT)
def replication_create(request: HttpRequest, body: ReplicationCreate, response: HttpResponse) -> Any:
    """A new replication: from a replication.yaml (kept byte for byte, as `import_replication`
    keeps it), or empty from a source and a target. Refused (422) with the problems and their
    lines when it has errors."""
    warnings: list[Problem] = []
    if body.yaml is not None:
        created, warnings = service.replication_import(
            name=body.name, text=body.yaml, user=request.user, new=True
        )
    else:
        created = service.replication_create(
            name=body.name, source=body.source or "", target=body.target or "", user=request.user
        )
    response.status_code = 201
    return _out(request, response, created, warnings)


@api.post("/replications/import/", response={200: ImportedAll, **CHANGE_ERRORS}, tags=TAGS, auth=EDIT)
def replications_import(request: HttpRequest, body: Files) -> Any:
    """A folder of replications at once (`import_replication DIR`): each NAME.yaml imported or
    updated, all or nothing. Refused (422) with every document's problems as `NAME.yaml:LINE`."""
    done = service.replications_import(files=list(body.files.items()), user=request.user)
    return {
        "replications": [
            {"name": i.name, "outcome": i.outcome, "streams": i.streams, "warnings": errors_of(i.warnings)}
            for i in done.values()
        ]
    }


@api.post("/replications/validate/", response={200: Validated, **READ_ERRORS}, tags=TAGS)
def replication_validate(request: HttpRequest, body: ValidateIn) -> Any:
    """Every problem of YAML documents, as an import and the editor find them; nothing is stored.
    `valid` is false when an import would refuse them: a CI job fails on it."""
    documents = {"": body.yaml} if body.yaml is not None else (body.files or {})
    problems = []
    for name, text in documents.items():
        problems += errors_of(service.replication_check_text(text), f"{name}.yaml" if name else None)
    errors = sum(p["severity"] == ERROR for p in problems)
    return {"valid": not errors, "errors": errors, "warnings": len(problems) - errors, "problems": problems}


@api.get("/replications/{name}/", response={200: ReplicationOut, **READ_ERRORS}, tags=TAGS)
def replication_read(request: HttpRequest, name: str, response: HttpResponse) -> Any:
    """The replication at its current version (also its ETag), its streams in file order."""
    return _out(request, response, replication_get(name))


@api.put("/replications/{name}/", response={200: ReplicationOut, **VERSIONED_ERRORS}, tags=TAGS, auth=EDIT)
def replication_replace(
    request: HttpRequest, name: str, body: ReplicationReplace, response: HttpResponse
) -> Any:
    """Replace the replication with a YAML document (kept byte for byte), as the editor's
    import does: a new version of the version named."""
    replication = replication_get(name)
    version = edited_version(request, body.version)
    document, warnings, _ = service.replication_import_preview(replication=replication, text=body.yaml)
    saved = service.replication_commit(
        name=name,
        config=document.replication,
        summary="imported YAML",
        text=document.text,
        user=request.user,
        base_version=version,
    )
    return _out(request, response, saved.replication, warnings)


@api.delete("/replications/{name}/", response={204: None, **VERSIONED_ERRORS}, tags=TAGS, auth=EDIT)
def replication_delete(request: HttpRequest, name: str, version: int | None = Query(None, ge=0)) -> Any:
    """Delete the replication, its streams, history and schedules (its runs stay), naming the
    version read (If-Match, or `?version=`)."""
    replication = replication_get(name)
    service.replication_delete(replication=replication, base_version=edited_version(request, version))
    return Status(204, None)


YAML = {"content": {"application/yaml": {"schema": {"type": "string"}}}}


@api.get(
    "/replications/{name}/yaml/",
    response={200: None, **READ_ERRORS},
    tags=TAGS,
    openapi_extra={"responses": {200: {"description": "the replication.yaml", **YAML}}},
)
def replication_export(request: HttpRequest, name: str) -> HttpResponse:
    """The replication.yaml as `export_replication` writes it: the text it was imported as, byte
    for byte, with the edits since patched in."""
    text = replication_yaml(name=name)
    response = HttpResponse(text.encode(), content_type="application/yaml; charset=utf-8")
    return with_etag(response, replication_get(name).version)


@api.get("/replications/{name}/revisions/", response={200: list[RevisionOut], **READ_ERRORS}, tags=TAGS)
def replication_revisions(request: HttpRequest, name: str) -> Any:
    """Every saved version, newest first: who, when, what."""
    return [
        {
            "version": r.version,
            "created": r.created,
            "author": r.author.get_username() if r.author else None,
            "summary": r.summary,
        }
        for r in revisions(replication_get(name))
    ]


@api.get("/replications/{name}/diff/", response={200: DiffOut, **READ_ERRORS}, tags=TAGS)
def replication_diff(request: HttpRequest, name: str, a: int = Query(ge=0), b: int = Query(ge=0)) -> Any:
    """The diff of the YAML of versions `a` and `b`."""
    diff = revision_diff(replication_get(name), a, b)
    if diff is None:
        raise NotFound(f"`{name}` has no version {a} or no version {b}")
    return {"a": a, "b": b, "diff": diff}


@api.get("/replications/{name}/problems/", response={200: ProblemsOut, **READ_ERRORS}, tags=TAGS)
def replication_problems(request: HttpRequest, name: str) -> Any:
    """Every problem of the current version, as the editor lists them."""
    editor = Editor.load(get_object_or_404(with_keys_stamp(models.Replication.objects), name=name))
    return {"version": editor.replication.version, "problems": errors_of(editor.problems)}


ZIP = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}


@api.get(
    "/replications/{name}/dagster/",
    response={200: None, **READ_ERRORS},
    tags=TAGS,
    openapi_extra={"responses": {200: {"description": "a Dagster code location, zipped", **ZIP}}},
)
def replication_dagster(request: HttpRequest, name: str) -> HttpResponse:
    """The replication's Dagster code location (`export_dagster NAME`) as a zip: no secret in it."""
    replication = replication_get(name)
    folder = f"{replication.name}-dagster"
    response = HttpResponse(
        zip_bytes(dagster_location(names=[replication.name]), folder), content_type="application/zip"
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{folder}.zip")
    return response
