"""A stream's columns: read them again through sling, and its first rows as sling reads them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from replication import sling
from studio.roles import role_required
from studio.selectors.editing import Editor
from studio.services import columns as service

# The editor's own helpers: these views answer with its stream panel.
from studio.views.editor import _stream_name_or_404 as stream_name_or_404
from studio.views.editor import _stream_panel as stream_panel
from studio.views.saving import with_editor


@require_POST
@role_required("edit")
@with_editor
def stream_columns_refresh(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    """Ask sling for the stream's columns now, and for its target table's; the panel again,
    with them (or why not)."""
    stream = stream_name_or_404(editor, pk)
    error = ""
    try:
        service.stream_columns_read(editor=editor, stream=stream)
    except sling.RunError as exc:
        error = str(exc)
    return stream_panel(request, Editor.load(editor.replication), stream, columns_error=error)


@require_GET
@role_required("edit")
@with_editor
def stream_rows(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    """The stream's first rows as sling reads them (with its `select`), or why not."""
    stream = stream_name_or_404(editor, pk)
    context = {"preview": None, "error": ""}
    try:
        context["preview"] = service.stream_rows(editor=editor, stream=stream)
    except sling.RunError as exc:
        context["error"] = str(exc)
    return render(request, "studio/_stream_rows.html", context)
