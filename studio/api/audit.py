"""The audit trail, for admins: the page's filters, a page at a time (`before`: the `older` of
the page before), read with the same selector as the page and its export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema
from pydantic import Field

from studio.api.api import api
from studio.api.auth import AUDIT
from studio.api.schemas import READ_ERRORS, Problem
from studio.selectors.audit import ID_MAX, AuditFilter, as_utc, audit_entry_data, audit_page

TAGS = ["audit"]


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str = Field(
        description="the user name, or the OS user of the command line; empty: nobody signed in"
    )
    actor_kind: str = Field(description="user, token, os user, process or anonymous")
    token: str | None = Field(description="the name of the API token used")
    via: str = Field(description="page, api, admin, command line or worker")
    action: str
    object_type: str
    object_id: str
    object_name: str
    summary: str
    details: dict[str, Any] = Field(description="what changed; a secret field only as `changed`")


class AuditPageOut(Schema):
    items: list[AuditEntryOut]
    older: int | None = Field(
        description="ask again with ?before= this for the older entries; null: the last page"
    )


# A read refused to every role but admin's: 403 too.
@api.get("/audit/", response={200: AuditPageOut, **READ_ERRORS, 403: Problem}, tags=TAGS, auth=AUDIT)
def audit_list(
    request: HttpRequest,
    person: str = Query("", max_length=200),
    object_type: str = Query("", max_length=40),
    object: str = Query("", max_length=300),
    action: str = Query("", max_length=40),
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = Query(None, ge=1, le=ID_MAX),
) -> Any:
    """Entries newest first, filtered as the audit page filters them (admins only)."""
    filters = AuditFilter(person, object_type, object, action, as_utc(since, "since"), as_utc(until, "until"))
    page = audit_page(filters, before=before)
    return {"items": [audit_entry_data(entry) for entry in page.entries], "older": page.older}
