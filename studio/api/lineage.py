"""The lineage (the `lineage` command's JSON document, narrowed by a selector) and the Dagster
code location of every replication."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Schema
from pydantic import Field

from replication.dagster.location import zip_bytes
from studio.api.api import api
from studio.api.schemas import READ_ERRORS
from studio.selectors.lineage import lineage_document
from studio.services.dagster import dagster_location

TAGS = ["lineage"]


class Lineage(Schema):
    nodes: list[dict[str, Any]] = Field(description='{"key": [...], "kind": "source|target|downstream", ...}')
    edges: list[list[list[str]]] = Field(description="[from key, to key]")


@api.get("/lineage/", response={200: Lineage, **READ_ERRORS}, tags=TAGS)
def lineage(
    request: HttpRequest,
    replication: str | None = Query(None, max_length=200),
    select: str = Query("", max_length=2000, description="+KEY, KEY+, group:G, tag:T, kind:K ..."),
) -> HttpResponse:
    """The asset graph as `manage.py lineage --format json` prints it: dagster-sling's keys."""
    text = lineage_document(replication=replication or None, selector=" ".join(select.split()) or None)
    return HttpResponse(text, content_type="application/json; charset=utf-8")


ZIP = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}


@api.get(
    "/dagster/",
    response={200: None, **READ_ERRORS},
    tags=TAGS,
    openapi_extra={"responses": {200: {"description": "a Dagster code location, zipped", **ZIP}}},
)
def dagster(request: HttpRequest) -> HttpResponse:
    """Every replication's Dagster code location (`export_dagster --all`) as a zip."""
    response = HttpResponse(zip_bytes(dagster_location(), "dagster"), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, "dagster.zip")
    return response
