"""The audit trail, for admins: the entries a filter selects, a page at a time, and all of them
as JSON (streamed: a long trail is never held whole in memory)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from studio.forms.audit import AuditFilterForm
from studio.roles import role_required
from studio.selectors.audit import AuditFilter, audit_export, audit_page, audit_people


def _query(form: AuditFilterForm) -> str:
    """The filters as the address has them (not the page), for the export's link and the pager."""
    return urlencode({k: v for k, v in form.data.items() if k != "before" and v})


@require_GET
@role_required("audit", methods=("GET",))
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _refused(request, form)
    page = audit_page(form.filters(), before=form.cleaned_data["before"])
    context = {"form": form, "page": page, "query": _query(form), "people": audit_people()}
    return render(request, "studio/audit.html", context)


def _refused(request: HttpRequest, form: AuditFilterForm) -> HttpResponse:
    """The page with the filters' errors, each at its field, and no entries."""
    context = {"form": form, "page": None, "query": _query(form), "people": audit_people()}
    return render(request, "studio/audit.html", context, status=400)


@require_GET
@role_required("audit", methods=("GET",))
def audit_export_json(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _refused(request, form)
    response = StreamingHttpResponse(_json_array(form.filters()), content_type="application/json")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.json"'
    return response


def _json_array(filters: AuditFilter) -> Iterator[str]:
    """A JSON array, an entry a line."""
    yield "["
    separator = "\n"
    for entry in audit_export(filters):
        yield separator + json.dumps(entry, sort_keys=True, default=str)
        separator = ",\n"
    yield "\n]\n"
