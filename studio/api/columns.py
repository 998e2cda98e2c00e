"""A stream's columns: those kept (the source's and its table's), as they will land, the schema
changes its next run makes; read them now through sling; and its first rows."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from replication import sling
from studio.api.api import api
from studio.api.auth import EDIT
from studio.api.schemas import CHANGE_ERRORS, READ_ERRORS
from studio.api.streams import _editor, _stream
from studio.selectors.editing import Editor
from studio.services import columns as service

TAGS = ["streams"]


class ColumnOut(Schema):
    name: str
    type: str = Field(description="sling's general type")
    native: str = Field(description="the database's own type (empty for files)")


class LandingOut(Schema):
    name: str
    type: str
    source: str | None = Field(description="the source column it comes from (null: one sling adds)")
    note: str = Field(description="cast, renamed, added by sling, or empty")


class ChangeOut(Schema):
    kind: str = Field(description="added, removed or retyped")
    column: str
    was: str
    becomes: str
    outcome: str = Field(description="what sling does about it under the stream's target options")


class ColumnsOut(Schema):
    read_at: str | None = Field(description="when the source's columns were read (null: never)")
    columns: list[ColumnOut]
    landing: list[LandingOut]
    excluded: list[str] = Field(description="source columns `select` leaves out")
    table_read_at: str | None = Field(description="when the target table's columns were read")
    changes: list[ChangeOut]
    error: str = Field("", description="why sling could not read them now (a read only)")


class RowsOut(Schema):
    header: list[str]
    rows: list[list[str]]
    error: str = ""


def _columns(editor: Editor, stream: str, error: str = "") -> dict[str, Any]:
    shape = editor.shapes.of(stream, editor.effective(editor.config.streams[stream]))
    return {
        "read_at": shape.columns.read_at.isoformat() if shape.columns else None,
        "columns": list(shape.columns.columns) if shape.columns else [],
        "landing": shape.landing,
        "excluded": shape.excluded,
        "table_read_at": shape.table.read_at.isoformat() if shape.table else None,
        "changes": shape.changes,
        "error": error,
    }


@api.get(
    "/replications/{name}/streams/{int:pk}/columns/", response={200: ColumnsOut, **READ_ERRORS}, tags=TAGS
)
def stream_columns(request: HttpRequest, name: str, pk: int) -> Any:
    """The stream's columns as last read, as they will land, and the changes to its table."""
    editor = _editor(name)
    return _columns(editor, _stream(editor, pk))


@api.post(
    "/replications/{name}/streams/{int:pk}/columns/",
    response={200: ColumnsOut, **CHANGE_ERRORS},
    tags=TAGS,
    auth=EDIT,
)
def stream_columns_read(request: HttpRequest, name: str, pk: int) -> Any:
    """Read the stream's columns (and its target table's) through sling now."""
    editor = _editor(name)
    stream = _stream(editor, pk)
    try:
        service.stream_columns_read(editor=editor, stream=stream)
    except sling.RunError as exc:
        return _columns(editor, stream, str(exc))
    return _columns(_editor(name), stream)


@api.post(
    "/replications/{name}/streams/{int:pk}/rows/",
    response={200: RowsOut, **CHANGE_ERRORS},
    tags=TAGS,
    auth=EDIT,
)
def stream_rows(request: HttpRequest, name: str, pk: int) -> Any:
    """The stream's first rows (STUDIO_PREVIEW_ROWS) as sling reads them, with its `select`."""
    editor = _editor(name)
    try:
        preview = service.stream_rows(editor=editor, stream=_stream(editor, pk))
    except sling.RunError as exc:
        return {"header": [], "rows": [], "error": str(exc)}
    return {"header": preview.header, "rows": preview.rows}
