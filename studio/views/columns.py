"""A stream's columns: read them again through sling, and its first rows as sling reads them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from replication import sling
from replication.resolve import render_env, resolve_object
from studio.roles import role_required
from studio.selectors.editing import Editor
from studio.services import columns as service
from studio.views.editor import stream_name_or_404, stream_panel
from studio.views.saving import with_editor


@require_POST
@role_required("edit")
@with_editor
def stream_columns_refresh(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    """Ask sling for the stream's columns now, and for its target table's; the panel again,
    with them (or why not)."""
    stream = stream_name_or_404(editor, pk)
    effective = editor.effective(editor.config.streams[stream])
    try:
        service.columns_discover(
            connection=editor.names.source,
            streams=[render_env(stream, editor.names.env)],
            target=(
                editor.names.target,
                editor.shapes.target_key(resolve_object(stream, effective, editor.names)),
            ),
        )
    except sling.RunError as exc:
        return stream_panel(request, Editor.load(editor.replication), stream, columns_error=str(exc))
    return stream_panel(request, Editor.load(editor.replication), stream)


@require_GET
@role_required("edit")
@with_editor
def stream_rows(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    """The stream's first rows as sling reads them (with its `select`), or why not."""
    stream = stream_name_or_404(editor, pk)
    select = editor.effective(editor.config.streams[stream]).get("select")
    context = {"preview": None, "error": ""}
    try:
        context["preview"] = service.stream_preview(
            connection=editor.names.source,
            stream=render_env(stream, editor.names.env),
            select=select if isinstance(select, list) and all(isinstance(s, str) for s in select) else None,
        )
    except sling.RunError as exc:
        context["error"] = str(exc)
    return render(request, "studio/_stream_rows.html", context)
